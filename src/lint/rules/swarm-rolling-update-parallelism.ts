import { optionPath, verifyEntries } from '../topology.js';
import type { LintCheck, LintFinding } from '../types.js';

export const swarmRollingUpdateParallelism: LintCheck = {
  check({ scenario, optionsOf }) {
    const findings: LintFinding[] = [];
    for (const entry of verifyEntries(scenario, ['swarm/rolling-update'])) {
      const options = optionsOf(entry);
      if (!options) continue;
      const replicas = typeof options.replicas === 'number' ? options.replicas : 3;
      const parallelism = typeof options.parallelism === 'number' ? options.parallelism : 1;
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
