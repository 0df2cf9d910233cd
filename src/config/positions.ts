import { relative, isAbsolute } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter } from 'yaml';
import type { Diagnostic } from '../errors.js';
import type { Position, ScenarioSource } from './types.js';

/** Where a path leads in the YAML tree, as source offsets. */
interface Located {
  /** Start of the value (or of the nearest existing ancestor when the path does not exist). */
  value: number;
  /** Start of the key when the path ends in a map key that exists. */
  key: number | undefined;
}

/** `file` relative to the working directory when it is inside it, as users type it. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

/**
 * A few source lines around `position` with a caret under the column:
 *
 *     3 | platforms:
 *   > 4 |   - nme: a
 *       |     ^
 */
export function codeFrame(text: string, position: Position, context = 2): string {
  const lines = text.split(/\r?\n/);
  const line = Math.min(Math.max(position.line, 1), Math.max(lines.length, 1));
  const first = Math.max(1, line - context);
  const width = String(line).length;
  const out: string[] = [];
  for (let n = first; n <= line; n++) {
    const source = lines[n - 1] ?? '';
    out.push(`${n === line ? '>' : ' '} ${String(n).padStart(width)} |${source === '' ? '' : ` ${source}`}`);
  }
  const target = lines[line - 1] ?? '';
  // Keep tabs so the caret lines up with what the terminal shows.
  const pad = target.slice(0, Math.max(position.col - 1, 0)).replace(/[^\t]/g, ' ');
  out.push(`  ${' '.repeat(width)} | ${pad}^`);
  return out.join('\n');
}

/** A diagnostic at a known position of a source, with its code frame. */
export function diagnosticAt(
  source: Pick<ScenarioSource, 'file' | 'text'>,
  position: Position,
  init: Omit<Diagnostic, 'file' | 'line' | 'col' | 'frame'>,
): Diagnostic {
  const diagnostic: Diagnostic = {
    file: source.file,
    line: position.line,
    col: position.col,
    severity: init.severity,
    code: init.code,
    message: init.message,
  };
  if (init.hint !== undefined) diagnostic.hint = init.hint;
  diagnostic.frame = codeFrame(source.text, position);
  return diagnostic;
}

function keyMatches(key: unknown, segment: PropertyKey): boolean {
  const value = isScalar(key) ? key.value : key;
  return String(value) === String(segment);
}

/**
 * The scenario file as read, to point diagnostics at it. `file` is the path as
 * shown to the user (relative to the working directory when inside it).
 */
export function createScenarioSource(options: {
  file: string;
  text: string;
  document: Document;
  lineCounter: LineCounter;
}): ScenarioSource {
  const { text, document, lineCounter } = options;
  const file = displayPath(options.file);
  const contents: unknown = document.contents;
  const rootOffset = (isNode(contents) ? contents.range?.[0] : undefined) ?? firstContentOffset(text);

  function locate(path: readonly PropertyKey[]): Located {
    let current: unknown = contents;
    let value = rootOffset;
    let key: number | undefined;
    for (const segment of path) {
      if (isAlias(current)) current = current.resolve(document);
      key = undefined;
      if (isMap(current)) {
        const pair = current.items.findLast((p) => keyMatches(p.key, segment));
        if (!pair) return { value, key: undefined };
        const keyOffset = isNode(pair.key) ? pair.key.range?.[0] : undefined;
        const valueRange = isNode(pair.value) ? pair.value.range : undefined;
        const empty = valueRange && text.slice(valueRange[0], valueRange[1]).trim() === '';
        const valueOffset = empty ? undefined : valueRange?.[0];
        key = keyOffset ?? value;
        // An empty value (`with:`) has no node: point at its key.
        value = valueOffset ?? key;
        current = pair.value;
      } else if (isSeq(current) && typeof segment === 'number') {
        const item: unknown = current.items[segment];
        const offset = isNode(item) ? item.range?.[0] : undefined;
        if (offset === undefined) return { value, key: undefined };
        value = offset;
        current = item;
      } else {
        return { value, key: undefined };
      }
    }
    return { value, key };
  }

  const at = (offset: number): Position => lineCounter.linePos(offset);

  const source: ScenarioSource = {
    file,
    text,
    positionOf: (path) => at(locate(path).value),
    keyPositionOf: (path) => {
      const found = locate(path);
      return at(found.key ?? found.value);
    },
    diagnostic: (path, init) => diagnosticAt(source, source.positionOf(path), init),
  };
  return source;
}

function isNode(value: unknown): value is { range?: [number, number, number] | null } {
  return typeof value === 'object' && value !== null && 'range' in value;
}

// An empty or comment-only document has no node: point at its first non-comment line.
function firstContentOffset(text: string): number {
  const match = /^(?!\s*(#|$))/m.exec(text);
  return match ? match.index : 0;
}

/** By file, line, column, then code, so output is stable. Sorts in place. */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.code.localeCompare(b.code));
}
