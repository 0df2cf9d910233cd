import type { LintFinding, LintRule } from '../types.js';

export const yamlTabs: LintRule = {
  id: 'yaml-tabs',
  severity: 'warning',
  reason: 'Tabs are not indentation in YAML and line up differently in every editor.',
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
