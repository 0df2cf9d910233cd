import { join } from 'node:path';
import { checkNodeName, checkRunId } from '../host/ownership.js';
import { inPool } from '../host/leases.js';
import { expectMade, refuse, type OwnershipContext, type RunState } from '../state.js';

interface Run {
  runId: string;
  network: string;
  subnet?: string | undefined;
  connect?: 'address' | 'published' | undefined;
}

interface Node {
  index: number;
  container: string;
  volume: string;
}

/**
 * A docker state names only what this driver would have made for this
 * scenario: the run's network (or the one driver.options.network names), and per node the container, volume, address
 * and key it would have given. Refuses (exit 2) otherwise. The engine's
 * objects are then found and removed only by this scenario's labels, never by
 * a name from the state.
 */
export function verifyDockerState(
  ctx: OwnershipContext,
  options: { subnetPool: string; network?: string | undefined },
  state: RunState<Run, Node>,
  names: (runId: string) => { network: string; container: (node: string) => string; volume: (node: string) => string },
  address: (subnet: string, index: number) => string,
): void {
  const run = state.run;
  if (run) {
    checkRunId(ctx, 'driverState.data.runId', run.runId);
    // The run's own network, or the one the scenario names (never made nor removed by us: removal is by label).
    expectMade(ctx, 'driverState.data.network', run.network, options.network ?? names(run.runId).network);
    if (options.network === undefined && run.subnet !== undefined && !inPool(options.subnetPool, { base: run.subnet, gateway: `${run.subnet}.1`, prefixLength: 24 })) {
      refuse(ctx, 'driverState.data.subnet', `${run.subnet}.0/24 is not in the subnet pool ${options.subnetPool}`);
    }
  }
  state.nodes.forEach((node, i) => {
    const at = `driverState.nodes.${i}`;
    if (!run) refuse(ctx, at, 'a node without a run');
    checkNodeName(ctx, `${at}.name`, node.name);
    expectMade(ctx, `${at}.data.container`, node.data.container, names(run.runId).container(node.name));
    expectMade(ctx, `${at}.data.volume`, node.data.volume, names(run.runId).volume(node.name));
    if (node.address !== undefined) expectMade(ctx, `${at}.address`, node.address, address(run.subnet ?? '', node.data.index));
    if (run.connect === 'address') {
      expectMade(ctx, `${at}.host`, node.host, address(run.subnet ?? '', node.data.index));
      expectMade(ctx, `${at}.port`, node.port, 22);
    }
    expectMade(ctx, `${at}.user`, node.user, 'root');
    expectMade(ctx, `${at}.identityFile`, node.identityFile, join(ctx.stateDir, 'ssh', 'id_ed25519'));
  });
}
