import type { LintCheck, LintFinding } from '../types.js';

export const yamlTrailingSpaces: LintCheck = {
  check({ lines }) {
    const findings: LintFinding[] = [];
    lines.forEach((text, i) => {
      const match = /[ \t]+$/.exec(text);
      if (match) {
        findings.push({
          position: { line: i + 1, col: match.index + 1 },
          message: 'Trailing whitespace.',
          hint: 'Remove the spaces at the end of the line.',
        });
      }
    });
    return findings;
  },
};
