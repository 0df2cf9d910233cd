import type { Scenario } from '../../config/index.js';
import { CheckFailed, messageOf } from '../../errors.js';
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

/**
 * Like `fromAnyManager`, but when every manager refuses (a command that fails,
 * e.g. Swarm's "does not have a leader" or "not a swarm manager"), each one's
 * answer, a line per manager, for a failure's "observed". The machinery's
 * failures (SSH lost) are still thrown.
 */
export async function answersOfManagers<T>(managers: readonly Host[], ask: (manager: Host) => Promise<T>): Promise<{ value: T } | { refused: string }> {
  const refusals: string[] = [];
  for (const manager of managers) {
    try {
      return { value: await ask(manager) };
    } catch (error) {
      if (!(error instanceof CheckFailed)) throw error;
      refusals.push(`${manager.name}: ${messageOf(error)}`);
    }
  }
  return { refused: refusals.join('\n') || 'no manager to ask' };
}

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
