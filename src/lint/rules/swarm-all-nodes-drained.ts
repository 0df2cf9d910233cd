import { isManager, isWorker, schedulableNodes } from '../topology.js';
import type { LintCheck } from '../types.js';

export const swarmAllNodesDrained: LintCheck = {
  check({ scenario }) {
    const members = scenario.platforms.filter((p) => isManager(p) || isWorker(p));
    if (members.length === 0 || schedulableNodes(scenario).length > 0) return [];
    return scenario.converge
      .filter((entry) => entry.step === 'swarm/drain-managers')
      .map((entry) => ({
        path: ['converge', entry.index, 'step'],
        message: 'swarm/drain-managers drains every node of the swarm: no node is left to run services.',
        hint: 'Add a platform in group swarm-worker (or drain fewer hosts), or remove this step.',
      }));
  },
};
