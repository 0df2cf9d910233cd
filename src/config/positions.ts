import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter } from 'yaml';
import type { Diagnostic } from '../errors.js';
import { findDuplicateKeys } from './duplicate-keys.js';
import type { Position, ScenarioSource } from './types.js';
import { displayPath } from './display-path.js';

// Read without the YAML parser (state files, step modules): its own module.
export { displayPath };

/** Where a path leads in the YAML tree, as source offsets. */
interface Located {
  /** Start of the value (or of the nearest existing ancestor when the path does not exist). */
  value: number;
  /** Start of the key when the path ends in a map key that exists. */
  key: number | undefined;
}


/** Widest part of a line shown in a code frame; longer lines are cut to a window around the column. */
const FRAME_WIDTH = 120;

// Line starts of the last text framed: one scan per file, not one per diagnostic.
let framed: { text: string; starts: number[] } | undefined;

function lineStarts(text: string): number[] {
  if (framed?.text === text) return framed.starts;
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  framed = { text, starts };
  return starts;
}

/**
 * A control character as its escape (`\x1b`), so a frame cannot move the
 * cursor, clear the screen or retitle the terminal; tabs are kept.
 */
function visible(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  if (char === '\t') return char;
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return `\\x${code.toString(16).padStart(2, '0')}`;
  // Bidirectional overrides reorder what the terminal shows.
  if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) return `\\u${code.toString(16)}`;
  return char;
}

/** The part of a line a frame shows (a window around `col` when it is long), escaped, and the caret's padding. */
function window(line: string, col: number): { shown: string; pad: string } {
  const index = Math.min(Math.max(col - 1, 0), line.length);
  const from = line.length > FRAME_WIDTH ? Math.max(0, Math.min(index - FRAME_WIDTH / 2, line.length - FRAME_WIDTH)) : 0;
  const to = Math.min(line.length, from + FRAME_WIDTH);
  let shown = from > 0 ? '…' : '';
  let pad = from > 0 ? ' ' : '';
  for (let i = from; i < to; i++) {
    const char = line.charAt(i);
    const text = visible(char);
    shown += text;
    const code = char.charCodeAt(0);
    // Keep tabs so the caret lines up with what the terminal shows; a surrogate pair is one column.
    if (i < index && !(code >= 0xdc00 && code <= 0xdfff)) pad += char === '\t' ? '\t' : ' '.repeat(text.length);
  }
  if (to < line.length) shown += '…';
  return { shown, pad };
}

/**
 * A few source lines around `position` with a caret under the column:
 *
 *     3 | platforms:
 *   > 4 |   - nme: a
 *       |     ^
 *
 * Long lines are cut to a window around the column and control characters are
 * escaped, so a frame stays small and safe to print whatever the file holds.
 */
export function codeFrame(text: string, position: Position, context = 2): string {
  const starts = lineStarts(text);
  const lineOf = (n: number): string => {
    const begin = starts[n - 1] ?? text.length;
    const end = starts[n] === undefined ? text.length : starts[n] - 1;
    // Only the window is needed: never copy more than a frame's width around the column.
    return text.slice(begin, Math.min(end, begin + Math.max(position.col, 1) + FRAME_WIDTH * 2)).replace(/\r$/, '');
  };
  const line = Math.min(Math.max(position.line, 1), starts.length);
  const first = Math.max(1, line - context);
  const width = String(line).length;
  const out: string[] = [];
  let pad = '';
  for (let n = first; n <= line; n++) {
    const framedLine = window(lineOf(n), n === line ? position.col : 1);
    if (n === line) pad = framedLine.pad;
    out.push(`${n === line ? '>' : ' '} ${String(n).padStart(width)} |${framedLine.shown === '' ? '' : ` ${framedLine.shown}`}`);
  }
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
    get duplicateKeys() {
      return findDuplicateKeys(document, lineCounter).map(({ position, message, hint }) => diagnosticAt(source, position, { severity: 'error', code: 'yaml', message, hint }));
    },
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
