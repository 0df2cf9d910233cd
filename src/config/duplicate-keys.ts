import { isScalar, visit, type Document, type LineCounter, type Node } from 'yaml';
import type { Position } from './types.js';

/** A key given twice in one mapping: the parser keeps the last value and drops the first silently. */
export interface DuplicateKey {
  /** Where the second key is. */
  position: Position;
  message: string;
  hint: string;
}

/** Every repeated key of every mapping in the document, at the repeat. */
export function findDuplicateKeys(document: Document, lineCounter: LineCounter): DuplicateKey[] {
  const found: DuplicateKey[] = [];
  visit(document, {
    Map(_, map) {
      const seen = new Map<string, Node>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const name = String(pair.key.value);
        const first = seen.get(name);
        const start = pair.key.range?.[0];
        if (first && start !== undefined) {
          const firstLine = lineCounter.linePos(first.range?.[0] ?? 0).line;
          found.push({
            position: lineCounter.linePos(start),
            message: `Duplicate key "${name}": this value replaces the one at line ${firstLine}.`,
            hint: `Keep one "${name}" key.`,
          });
        } else {
          seen.set(name, pair.key);
        }
      }
    },
  });
  return found;
}
