import { join } from 'node:path';
import { DEFAULT_SEQUENCES, loadScenario, type Scenario } from '../config/index.js';
import type { DriverContext } from '../drivers/index.js';
import type { ScenarioName } from '../lifecycle/scenario-name.js';
import { stateDirOf } from '../lifecycle/state.js';

/**
 * A driver context for commands that work on what exists (`list`, `reset`):
 * the scenario as loaded, or, when its file is gone or broken, its name and
 * the state's driver with default options — enough to find and remove nodes.
 */
export async function offlineContext(projectDir: string, name: ScenarioName, driver: string): Promise<DriverContext> {
  let scenario: Scenario;
  try {
    scenario = await loadScenario(projectDir, name);
  } catch {
    const dir = join(projectDir, 'scenarios', name);
    scenario = {
      name,
      dir,
      file: join(dir, 'scenario.yml'),
      driver: { name: driver as Scenario['driver']['name'], options: {} },
      platforms: [],
      converge: [],
      verify: [],
      prepare: [],
      side_effect: [],
      cleanup: [],
      dependency: {},
      ansible: { skipTags: [], args: [], env: {}, extraVars: {}, hostVars: {}, groupVars: {} },
      sequences: structuredClone(DEFAULT_SEQUENCES) as Scenario['sequences'],
      lint: { rules: {} },
      source: undefined as never,
    };
  }
  return { scenario, stateDir: stateDirOf(projectDir, name), signal: new AbortController().signal, log: () => undefined, record: async () => undefined };
}
