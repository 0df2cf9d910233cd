import type { NodeRecord } from '../drivers/index.js';
import { UsageError } from '../errors.js';
import type { ScenarioName } from '../lifecycle/scenario-name.js';
import { StateStore } from '../lifecycle/state.js';
import { SshConnection } from '../transport/index.js';

/** A node of the scenario as its state file records it; a usage error names the nodes there are. */
export async function recordedNode(projectDir: string, scenario: ScenarioName, nodeName: string): Promise<NodeRecord> {
  const state = await new StateStore(projectDir, scenario).read();
  const node = state?.driverState?.nodes.find((n) => n.name === nodeName);
  if (node) return node;
  const names = state?.driverState?.nodes.map((n) => n.name).join(', ');
  throw new UsageError(`Scenario "${scenario}" has no node named "${nodeName}".`, {
    hint: names ? `Its nodes: ${names}.` : `Create them first: "swarm-molecule create -s ${scenario}".`,
  });
}

/** One SSH connection to a recorded node for the length of `use`. */
export async function withConnection<T>(node: NodeRecord, use: (connection: SshConnection) => Promise<T>): Promise<T> {
  const connection = new SshConnection(node, { timeoutMs: 15_000 });
  try {
    return await use(connection);
  } finally {
    connection.close();
  }
}
