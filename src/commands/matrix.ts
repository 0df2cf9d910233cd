import { SEQUENCE_COMMANDS } from '../config/index.js';
import { UsageError } from '../errors.js';
import { out } from './output.js';
import { selectedScenarios, type ScenarioSelection } from './scenarios.js';

/** `matrix COMMAND`: the actions the command would run, per scenario. */
export async function printMatrix(command: string, selection: ScenarioSelection): Promise<void> {
  const sequenceCommand = SEQUENCE_COMMANDS.find((c) => c === command);
  if (!sequenceCommand) throw new UsageError(`"${command}" has no sequence.`, { hint: `Commands with sequences: ${SEQUENCE_COMMANDS.join(', ')}.` });
  for (const scenario of await selectedScenarios(process.cwd(), selection)) {
    out(`${scenario.name}:\n${scenario.sequences[sequenceCommand].map((a) => `  - ${a}`).join('\n')}\n`);
  }
}
