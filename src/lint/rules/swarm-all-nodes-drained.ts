import { isManager, isWorker, schedulableNodes } from '../topology.js';
import type { LintRule } from '../types.js';

export const swarmAllNodesDrained: LintRule = {
  id: 'swarm-all-nodes-drained',
  severity: 'warning',
  reason: 'Draining every node (the managers of a swarm without workers) leaves none to run a service.',
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
