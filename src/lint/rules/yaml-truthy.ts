import { isScalar, Scalar, visit } from 'yaml';
import type { LintCheck, LintFinding } from '../types.js';

// The YAML 1.1 booleans that YAML 1.2 (and this tool) read as plain strings.
const TRUTHY = /^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$/;

export const yamlTruthy: LintCheck = {
  check({ document, lineCounter, scenario }) {
    const findings: LintFinding[] = [];
    // `lint.rules` values are the words off/warning/error, not booleans.
    const rules: unknown = document.getIn(['lint', 'rules'], true);
    const skip = isScalar(rules) || rules === undefined || rules === null ? undefined : (rules as { range?: [number, number, number] }).range;
    const text = scenario.source.text;
    visit(document, {
      Scalar(_, node) {
        if (node.type !== Scalar.PLAIN || !node.range) return;
        const [start, end] = node.range;
        if (skip && start >= skip[0] && start < skip[1]) return;
        const raw = text.slice(start, end);
        if (!TRUTHY.test(raw)) return;
        const isTrue = /^(?:yes|on)$/i.test(raw);
        findings.push({
          position: lineCounter.linePos(start),
          message: `"${raw}" is the string "${raw}" here, but the boolean ${isTrue} in YAML 1.1 (Ansible).`,
          hint: `Write ${isTrue} for a boolean, or "${raw}" in quotes for the string.`,
        });
      },
    });
    return findings;
  },
};
