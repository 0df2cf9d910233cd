import { listScenarios, loadScenario, type Scenario } from '../config/index.js';
import { UsageError } from '../errors.js';

/** Which scenarios a command works on: `-s NAME` (default "default") or `--all`. */
export interface ScenarioSelection {
  scenarioName?: string;
  all?: boolean;
}

/** The selected scenarios, loaded and validated. */
export async function selectedScenarios(projectDir: string, selection: ScenarioSelection): Promise<Scenario[]> {
  const names = selection.all ? await listScenarios(projectDir) : [selection.scenarioName ?? 'default'];
  if (names.length === 0) throw new UsageError('There are no scenarios under scenarios/.', { hint: 'Create scenarios/default/scenario.yml.' });
  const scenarios: Scenario[] = [];
  for (const name of names) scenarios.push(await loadScenario(projectDir, name));
  return scenarios;
}

/** `--shard i/n`: the i-th of n slices of the scenarios (sorted by name), for CI machines. */
export function shardOf<T extends { name: string }>(scenarios: T[], shard: string | undefined): T[] {
  if (!shard) return scenarios;
  const match = /^(\d+)\/(\d+)$/.exec(shard);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard ${shard} is not of the form i/n with 1 ≤ i ≤ n.`, { hint: 'For example --shard 1/3 on the first of three CI machines.' });
  }
  return [...scenarios].sort((a, b) => a.name.localeCompare(b.name)).filter((_, i) => i % count === index - 1);
}
