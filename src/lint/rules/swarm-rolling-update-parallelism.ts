import { optionPath } from '../topology.js';
import type { LintCheck, LintFinding } from '../types.js';

export const swarmRollingUpdateParallelism: LintCheck = {
  check({ scenario, optionsOf }) {
    const findings: LintFinding[] = [];
    for (const entry of scenario.verify.filter((e) => e.step === 'swarm/rolling-update')) {
      const options = optionsOf(entry);
      if (!options) continue;
      // The step's options schema fills in its defaults.
      const { replicas, parallelism } = options as { replicas: number; parallelism: number };
      if (replicas > parallelism) continue;
      findings.push({
        path: optionPath(entry, 'replicas' in entry.with ? 'replicas' : 'parallelism'),
        message: `replicas (${replicas}) is not greater than parallelism (${parallelism}): all tasks update in one batch.`,
        hint: `Set replicas above parallelism, e.g. replicas: ${parallelism + 2}.`,
      });
    }
    return findings;
  },
};
