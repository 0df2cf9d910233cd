import { isManager, isWorker, LEADER_GROUP, MANAGER_GROUP, WORKER_GROUP } from '../config/roles.js';
import type { PlatformConfig, Scenario, StepConfig } from '../config/types.js';

export { isManager, isWorker, LEADER_GROUP, MANAGER_GROUP, WORKER_GROUP };
export const SWARM_GROUPS = [LEADER_GROUP, MANAGER_GROUP, WORKER_GROUP] as const;

export const managersOf = (s: Scenario): PlatformConfig[] => s.platforms.filter(isManager);

/** Platforms a `hosts:` value names: a group, a platform, or all. */
export function platformsOf(s: Scenario, hosts: string): PlatformConfig[] {
  return s.platforms.filter((p) => hosts === 'all' || p.name === hosts || p.groups.includes(hosts));
}

/**
 * Names of the nodes the converge drains. Only `swarm/drain-managers` drains:
 * the managers, or the hosts its entry names.
 */
export function drainedNodes(s: Scenario): Set<string> {
  return new Set(
    s.converge
      .filter((e) => e.step === 'swarm/drain-managers')
      .flatMap((e) => (e.hosts === undefined ? managersOf(s) : platformsOf(s, e.hosts)))
      .map((p) => p.name),
  );
}

/** Swarm members that can run tasks after the converge. */
export function schedulableNodes(s: Scenario): PlatformConfig[] {
  const drained = drainedNodes(s);
  return s.platforms.filter((p) => (isWorker(p) || isManager(p)) && !drained.has(p.name));
}

/** A placement constraint, e.g. `node.labels.zone==a`. */
export interface Constraint {
  attribute: string;
  operator: '==' | '!=';
  value: string;
}

export function parseConstraint(text: string): Constraint | undefined {
  const match = /^\s*([\w.-]+)\s*(==|!=)\s*(.*?)\s*$/.exec(text);
  if (!match) return undefined;
  const [, attribute = '', operator, value = ''] = match;
  return { attribute, operator: operator === '!=' ? '!=' : '==', value };
}

/** The label key of a `node.labels.<key>` constraint. */
export function labelKeyOf(constraint: Constraint): string | undefined {
  return constraint.attribute.startsWith('node.labels.') ? constraint.attribute.slice('node.labels.'.length) : undefined;
}

/** Whether a node satisfies a constraint; attributes this tool does not model count as satisfied. */
export function satisfies(node: PlatformConfig, constraint: Constraint): boolean {
  let actual: string | undefined;
  const label = labelKeyOf(constraint);
  if (constraint.attribute === 'node.role') actual = isManager(node) ? 'manager' : 'worker';
  else if (constraint.attribute === 'node.hostname') actual = node.name;
  else if (label !== undefined) actual = node.labels[label];
  else return true;
  const equal = actual === constraint.value;
  return constraint.operator === '==' ? equal : !equal;
}

/** A string list option, or `undefined` when the entry has something else there. */
export function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
}

/** `with.<key>` of an entry when the scenario sets it, else the entry's step. */
export function optionPath(entry: StepConfig, key: string): PropertyKey[] {
  return key in entry.with ? [entry.section, entry.index, 'with', key] : [entry.section, entry.index, 'step'];
}
