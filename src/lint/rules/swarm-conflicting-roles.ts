import { isManager, WORKER_GROUP } from '../topology.js';
import type { LintCheck, LintFinding } from '../types.js';

export const swarmConflictingRoles: LintCheck = {
  check({ scenario }) {
    const findings: LintFinding[] = [];
    scenario.platforms.forEach((platform, p) => {
      const g = platform.groups.indexOf(WORKER_GROUP);
      if (g < 0 || !isManager(platform)) return;
      findings.push({
        path: ['platforms', p, 'groups', g],
        message: `${platform.name} is in swarm-worker and in a manager group.`,
        hint: 'Remove swarm-worker (managers run tasks too unless drained), or the manager groups.',
      });
    });
    return findings;
  },
};
