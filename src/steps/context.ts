import { isManager, isWorker } from '../config/roles.js';
import { UsageError } from '../errors.js';
import { secrets } from '../transport/index.js';
import type { Host, ScenarioInfo, StepContext } from './api.js';

/** The parts of a step context that do not depend on the step. */
export interface ContextBase {
  scenario: ScenarioInfo;
  hosts: readonly Host[];
  log: (message: string) => void;
  signal: AbortSignal;
  /** Aborted only on a second interrupt; the signal itself when there is no cleanup stage. */
  cleanupSignal?: AbortSignal;
  /**
   * `--host`/`--limit`: the hosts a step iterates over (`hosts`, `group`,
   * `managers`, `workers`); `host(name)` and `leader()` still reach any node.
   */
  limit?: readonly string[];
}

export function createStepContext<Options>(base: ContextBase, options: Options): StepContext<Options> {
  const memo = new Map<string, Promise<unknown>>();
  const host = (name: string): Host => {
    const found = base.hosts.find((h) => h.name === name);
    if (!found) throw new UsageError(`There is no platform named "${name}" in scenario "${base.scenario.name}".`);
    return found;
  };
  const inGroup = (name: string) => base.hosts.filter((h) => h.groups.includes(name));
  const limited = (hosts: readonly Host[]) => (base.limit ? hosts.filter((h) => base.limit?.includes(h.name)) : [...hosts]);
  return {
    options,
    scenario: base.scenario,
    hosts: limited(base.hosts),
    host,
    group: (name) => limited(name === 'all' ? base.hosts : inGroup(name).length > 0 ? inGroup(name) : base.hosts.filter((h) => h.name === name)),
    leader: () => {
      const leaders = inGroup('swarm-leader');
      if (leaders.length !== 1) {
        throw new UsageError(`Scenario "${base.scenario.name}" needs exactly one platform in group swarm-leader (found ${leaders.length}).`);
      }
      return leaders[0] as Host;
    },
    managers: () => limited(base.hosts.filter(isManager)),
    workers: () => limited(base.hosts.filter(isWorker)),
    log: base.log,
    secret: (value) => secrets.add(value),
    shared: <T>(key: string, compute: () => Promise<T>) => {
      let value = memo.get(key);
      if (!value) {
        value = compute();
        memo.set(key, value);
      }
      return value as Promise<T>;
    },
    signal: base.signal,
    cleanupSignal: base.cleanupSignal ?? base.signal,
  };
}
