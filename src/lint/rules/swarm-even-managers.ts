import { managersOf } from '../topology.js';
import type { LintCheck } from '../types.js';

export const swarmEvenManagers: LintCheck = {
  check({ scenario }) {
    const managers = managersOf(scenario);
    const n = managers.length;
    const last = managers.at(-1);
    if (n === 0 || n % 2 === 1 || !last) return [];
    // Raft needs a majority: n managers survive the loss of (n - 1) / 2, rounded down.
    const tolerated = Math.floor((n - 1) / 2);
    return [
      {
        path: ['platforms', scenario.platforms.indexOf(last), 'name'],
        message: `${n} managers tolerate ${tolerated} failed manager${tolerated === 1 ? '' : 's'}, no more than ${n - 1} would.`,
        hint: `Use an odd number of managers (${n - 1} or ${n + 1}), e.g. make ${last.name} a worker.`,
      },
    ];
  },
};
