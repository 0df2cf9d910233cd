import type { ScenarioName } from '../lifecycle/scenario-name.js';
import type { CommandResult } from '../transport/index.js';
import { recordedNode, withConnection } from './recorded-node.js';

/** `exec`: run one command on a node and pass its output and exit code through. */
export async function execOnNode(projectDir: string, scenario: ScenarioName, nodeName: string, argv: string[]): Promise<CommandResult> {
  return withConnection(await recordedNode(projectDir, scenario, nodeName), (connection) => connection.run(argv, { timeoutMs: 3_600_000 }));
}
