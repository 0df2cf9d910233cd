import { isMap, isSeq, visit, type LineCounter } from 'yaml';
import type { Position } from '../../config/types.js';
import type { LintCheck, LintFinding } from '../types.js';

/** The first way of indenting seen, which the rest of the file must follow. */
interface Convention<T> {
  value: T;
  line: number;
}

function startOf(node: unknown, lineCounter: LineCounter): Position | undefined {
  if (typeof node !== 'object' || node === null || !('range' in node)) return undefined;
  const range = (node as { range?: [number, number, number] | null }).range;
  return range ? lineCounter.linePos(range[0]) : undefined;
}

const isBlockCollection = (node: unknown): boolean => (isMap(node) || isSeq(node)) && !node.flow;

export const yamlIndentation: LintCheck = {
  check({ document, lineCounter, lines }) {
    const findings: LintFinding[] = [];
    let width: Convention<number> | undefined;
    let indentedLists: Convention<boolean> | undefined;
    let afterDash: Convention<number> | undefined;

    const expectWidth = (actual: number, position: Position): void => {
      if (!width) width = { value: actual, line: position.line };
      else if (actual !== width.value) {
        findings.push({
          position,
          message: `Indented by ${actual} spaces; the file indents by ${width.value} (line ${width.line}).`,
          hint: `Indent each level by ${width.value} spaces.`,
        });
      }
    };

    visit(document, {
      Pair(_, pair) {
        if (!isBlockCollection(pair.value)) return;
        const key = startOf(pair.key, lineCounter);
        const value = startOf(pair.value, lineCounter);
        if (!key || !value || value.line === key.line) return;
        const delta = value.col - key.col;
        if (isMap(pair.value)) {
          expectWidth(delta, value);
          return;
        }
        const indented = delta > 0;
        if (!indentedLists) indentedLists = { value: indented, line: value.line };
        if (indented !== indentedLists.value) {
          findings.push({
            position: value,
            message: indented
              ? `This list is indented under its key; the one at line ${indentedLists.line} is not.`
              : `This list is not indented under its key; the one at line ${indentedLists.line} is.`,
            hint: indentedLists.value ? 'Indent the "-" lines under their key.' : 'Put the "-" lines in the same column as their key.',
          });
        } else if (indented) {
          expectWidth(delta, value);
        }
      },
      Seq(_, seq) {
        if (seq.flow) return;
        const dash = startOf(seq, lineCounter);
        if (!dash) return;
        for (const item of seq.items) {
          if (!isBlockCollection(item)) continue;
          const content = startOf(item, lineCounter);
          // Items are aligned (else the YAML does not parse): every dash is in the first one's column.
          // Only items that start on their dash's line have an offset to compare.
          if (!content || content.col <= dash.col || lines[content.line - 1]?.[dash.col - 1] !== '-') continue;
          const offset = content.col - dash.col;
          if (!afterDash) afterDash = { value: offset, line: content.line };
          else if (offset !== afterDash.value) {
            findings.push({
              position: content,
              message: `${offset} columns between "-" and the item; the file uses ${afterDash.value} (line ${afterDash.line}).`,
              hint: `Start list items ${afterDash.value} columns after the "-".`,
            });
          }
        }
      },
    });
    return findings;
  },
};
