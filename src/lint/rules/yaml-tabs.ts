import type { LintCheck, LintFinding } from '../types.js';

export const yamlTabs: LintCheck = {
  check({ lines }) {
    const findings: LintFinding[] = [];
    lines.forEach((text, i) => {
      const col = text.indexOf('\t');
      if (col >= 0) {
        findings.push({
          position: { line: i + 1, col: col + 1 },
          message: 'Tab character.',
          hint: 'Use spaces; write "\\t" in a double-quoted string if you mean a tab.',
        });
      }
    });
    return findings;
  },
};
