import { isScalar, visit, type Node } from 'yaml';
import type { LintCheck, LintFinding } from '../types.js';

export const yamlDuplicateKeys: LintCheck = {
  check({ document, lineCounter }) {
    const findings: LintFinding[] = [];
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
            findings.push({
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
    return findings;
  },
};
