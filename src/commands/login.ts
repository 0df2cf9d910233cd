import type { ScenarioName } from '../lifecycle/scenario-name.js';
import { recordedNode, withConnection } from './recorded-node.js';

/** `login`: an interactive shell on one node. */
export async function login(projectDir: string, scenario: ScenarioName, nodeName: string): Promise<number> {
  return withConnection(await recordedNode(projectDir, scenario, nodeName), (connection) => connection.shell());
}
