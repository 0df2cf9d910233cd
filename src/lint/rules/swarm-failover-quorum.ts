import { managersOf, verifyEntries } from '../topology.js';
import type { LintCheck } from '../types.js';

export const swarmFailoverQuorum: LintCheck = {
  check({ scenario }) {
    const n = managersOf(scenario).length;
    if (n >= 3) return [];
    return verifyEntries(scenario, ['swarm/failover-leader']).map((entry) => ({
      path: ['verify', entry.index, 'step'],
      message: `swarm/failover-leader with ${n} manager${n === 1 ? '' : 's'}: when the leader stops, the rest cannot elect a new one.`,
      hint: 'Put at least 3 platforms in swarm-leader or swarm-manager (3 or 5), or remove this step.',
    }));
  },
};
