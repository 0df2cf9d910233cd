// The module itself, not the config barrel: `--version` and `--help` load no schema, YAML or zod.
import { isScenarioName } from '../config/scenario-name.js';
import { UsageError } from '../errors.js';

/** A scenario's name, checked: one plain directory name, so `.swarm-molecule/<name>/` stays inside the project. */
export type ScenarioName = string & { readonly __brand: 'ScenarioName' };

export const DEFAULT_SCENARIO = 'default' as ScenarioName;

/** The rule of `isScenarioName`, which `loadScenario` and the drivers' state checks apply too. */
export function parseScenarioName(text: string): ScenarioName {
  if (!isScenarioName(text)) {
    throw new UsageError(`"${text}" is not a scenario name.`, { hint: 'A scenario is a directory name under scenarios/, e.g. "default".' });
  }
  return text as ScenarioName;
}
