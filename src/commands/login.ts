import { UsageError } from '../errors.js';
import type { ScenarioName } from '../lifecycle/scenario-name.js';
import { recordedNode, withConnection } from './recorded-node.js';

/** `login`: an interactive shell on one node. */
export async function login(projectDir: string, scenario: ScenarioName, nodeName: string): Promise<number> {
  const node = await recordedNode(projectDir, scenario, nodeName);
  // Without a terminal an interactive shell waits for input that never comes.
  if (!process.stdin.isTTY) {
    throw new UsageError(`"login" needs a terminal, but its input is not one (node "${nodeName}", scenario "${scenario}").`, {
      hint: `Run a command without one: "swarm-molecule exec -s ${scenario} -h ${nodeName} -- CMD ARGS...".`,
    });
  }
  return withConnection(node, (connection) => connection.shell());
}
