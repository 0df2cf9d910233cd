import type { Scenario } from '../../config/index.js';
import { isManager } from '../../config/roles.js';
import type { Host, StepRequirementProblem } from '../api.js';
import { nodeList, type NodeRow } from './node-list.js';

/**
 * Ask the managers in turn until one answers: after a failover check one may
 * be down, and a follower answers as well as the leader. Pass only managers
 * that run; a stopped one costs a connection timeout.
 */
export async function fromAnyManager<T>(managers: readonly Host[], ask: (manager: Host) => Promise<T>): Promise<T> {
  let lastError: unknown = new Error('No manager to ask.');
  for (const manager of managers) {
    try {
      return await ask(manager);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

export const nodeListFromAny = (managers: readonly Host[]): Promise<NodeRow[]> => fromAnyManager(managers, nodeList);

/** The Leader's row, if exactly one node is Leader. */
export function leaderOf(rows: readonly NodeRow[]): NodeRow | undefined {
  const leaders = rows.filter((r) => r.ManagerStatus === 'Leader');
  return leaders.length === 1 ? leaders[0] : undefined;
}


/**
 * The requirement of a step that needs `min` managers, or none when the scenario has them:
 * one message naming the step, the managers there are, and `why` it needs that many.
 */
export function managersRequirement(scenario: Pick<Scenario, 'platforms'>, step: string, min: number, why: string): StepRequirementProblem[] {
  const managers = scenario.platforms.filter(isManager);
  if (managers.length >= min) return [];
  const list = managers.length > 0 ? ` (${managers.map((p) => p.name).join(', ')})` : '';
  return [{ path: ['step'], message: `${step} needs at least ${min} managers (platforms in swarm-leader or swarm-manager); this scenario has ${managers.length}${list}. ${why}` }];
}
