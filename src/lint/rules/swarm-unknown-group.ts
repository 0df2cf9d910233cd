import { didYouMean } from '../../config/suggest.js';
import { SWARM_GROUPS } from '../topology.js';
import type { LintCheck, LintFinding } from '../types.js';

export const swarmUnknownGroup: LintCheck = {
  check({ scenario }) {
    const findings: LintFinding[] = [];
    scenario.platforms.forEach((platform, p) => {
      platform.groups.forEach((group, g) => {
        if (!group.startsWith('swarm-') || (SWARM_GROUPS as readonly string[]).includes(group)) return;
        findings.push({
          path: ['platforms', p, 'groups', g],
          message: `Unknown swarm group "${group}".${didYouMean(group, SWARM_GROUPS)}`,
          hint: `The swarm groups are ${SWARM_GROUPS.join(', ')}; other groups must not start with "swarm-".`,
        });
      });
    });
    return findings;
  },
};
