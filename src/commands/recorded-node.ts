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
  if (!names) {
    throw new UsageError(`Scenario "${scenario}" has no nodes yet, so there is no node "${nodeName}".`, {
      hint: `Create them first: "swarm-molecule create -s ${scenario}".`,
    });
  }
  throw new UsageError(`Scenario "${scenario}" has no node named "${nodeName}".`, { hint: `Its nodes: ${names}.` });
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
