import type { Scenario } from '../config/index.js';
// The scenario names alone (list) need neither the YAML parser nor the schema: loaded where a scenario is.
import { listScenarios } from '../config/scenario-dirs.js';
import { ConfigError, UsageError } from '../errors.js';
import { DEFAULT_SCENARIO, parseScenarioName, type ScenarioName } from '../lifecycle/scenario-name.js';

/** Which scenarios a command works on: `-s NAME` (default "default") or `--all`. */
export interface ScenarioSelection {
  scenarioName?: ScenarioName;
  all?: boolean;
}

/** Every scenario under `scenarios/`, by its checked name. */
export async function allScenarioNames(projectDir: string): Promise<ScenarioName[]> {
  return (await listScenarios(projectDir)).map(parseScenarioName);
}

/** The names the selection stands for. */
export async function selectedNames(projectDir: string, selection: ScenarioSelection): Promise<ScenarioName[]> {
  return selection.all ? await allScenarioNames(projectDir) : [selection.scenarioName ?? DEFAULT_SCENARIO];
}

/** One selected scenario: loaded, or the ConfigError that says why it cannot be. */
export type Loaded = { name: ScenarioName; scenario: Scenario; error?: undefined } | { name: ScenarioName; scenario?: undefined; error: ConfigError };

/** Every selected scenario, each loaded or with its ConfigError, in name order. */
export async function loadSelected(projectDir: string, selection: ScenarioSelection): Promise<Loaded[]> {
  const names = await selectedNames(projectDir, selection);
  if (names.length === 0) throw new UsageError('There are no scenarios under scenarios/.', { hint: 'Create scenarios/default/scenario.yml.' });
  const { loadScenario, ScenarioInvalid } = await import('../config/index.js');
  const loaded: Loaded[] = [];
  for (const name of names) {
    try {
      loaded.push({ name, scenario: await loadScenario(projectDir, name) });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // The step checks that need no valid scenario join the schema problems: one round shows both.
      loaded.push({ name, error: error instanceof ScenarioInvalid ? error.with(await (await import('../syntax/index.js')).checkStepsOfInvalid(error)) : error });
    }
  }
  return loaded;
}

/** The selected scenarios, loaded and validated; with `--all`, every broken one is reported, not just the first. */
export async function selectedScenarios(projectDir: string, selection: ScenarioSelection): Promise<Scenario[]> {
  const loaded = await loadSelected(projectDir, selection);
  const broken = loaded.flatMap((l) => (l.error ? [l.error] : []));
  const [first] = broken;
  if (first && broken.length === 1) throw first;
  if (broken.length > 1) {
    throw new ConfigError(`${broken.length} scenarios are not valid:\n${broken.map((e) => `  ${e.message}`).join('\n')}`, broken.flatMap((e) => e.diagnostics), {
      hint: 'Fix each one, or run the others with -s NAME.',
    });
  }
  return loaded.flatMap((l) => (l.scenario ? [l.scenario] : []));
}
