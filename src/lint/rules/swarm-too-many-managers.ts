import { managersOf } from '../topology.js';
import type { LintCheck } from '../types.js';

const MAX_MANAGERS = 7;

export const swarmTooManyManagers: LintCheck = {
  check({ scenario }) {
    const managers = managersOf(scenario);
    const extra = managers[MAX_MANAGERS];
    if (!extra) return [];
    return [
      {
        path: ['platforms', scenario.platforms.indexOf(extra), 'name'],
        message: `${managers.length} managers; Docker recommends at most ${MAX_MANAGERS}.`,
        hint: `Make ${extra.name} and the managers after it workers (group swarm-worker).`,
      },
    ];
  },
};
