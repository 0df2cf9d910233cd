import { didYouMean } from '../../config/suggest.js';
import { labelKeyOf, parseConstraint, stringList } from '../topology.js';
import type { LintCheck, LintFinding } from '../types.js';

export const swarmUnknownLabel: LintCheck = {
  check({ scenario }) {
    const findings: LintFinding[] = [];
    const keys = new Set(scenario.platforms.flatMap((p) => Object.keys(p.labels)));
    for (const entry of [...scenario.converge, ...scenario.verify]) {
      const constraints = stringList(entry.with.constraints) ?? [];
      constraints.forEach((text, i) => {
        const constraint = parseConstraint(text);
        const key = constraint && labelKeyOf(constraint);
        if (key === undefined || keys.has(key)) return;
        findings.push({
          path: [entry.section, entry.index, 'with', 'constraints', i],
          message: `No platform has the label "${key}".${didYouMean(key, keys)}`,
          hint: keys.size > 0
            ? `Labels on the platforms: ${[...keys].join(', ')}. Or add "labels: { ${key}: ... }" to a platform.`
            : `Add "labels: { ${key}: ... }" to the platforms that should run it (applied by swarm/labels).`,
        });
      });
    }
    return findings;
  },
};
