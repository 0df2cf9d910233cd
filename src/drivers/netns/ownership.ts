import { join, relative, sep } from 'node:path';
import type { Lease, Subnet } from '../host/leases.js';
import { checkDirIn, checkNodeName, checkProcess, checkRunDir, checkSubnet } from '../host/ownership.js';
import type { NodeProcess } from '../host/processes.js';
import { expectMade, refuse, type OwnershipContext, type RunState } from '../state.js';
import { netnsName, nodeAddress, vethName } from './network.js';
import { cgroupParent } from './node-process.js';

interface Run {
  runId: string;
  subnet: Subnet;
  runDir: string;
}

interface Node {
  index: number;
  netns: string;
  veth: string;
  dir: string;
  cgroup: string;
  rootfs?: string | undefined;
  process?: NodeProcess | undefined;
}

/**
 * A netns state names only what this driver made for this scenario: its run
 * directory under the data root, a subnet of the pool leased to this state
 * directory, and per node the names, directory, address and key it would
 * have given, and a PID 1 that is its own. Refuses (exit 2) otherwise.
 */
export function verifyNetnsState(
  ctx: OwnershipContext,
  options: { dataDir: string; subnetPool: string; imageCacheDir: string },
  state: RunState<Run, Node>,
  leases: readonly Lease[],
): void {
  const run = state.run;
  if (run) {
    checkRunDir(ctx, 'driverState.data.runDir', run.runDir, options.dataDir, run.runId);
    checkSubnet(ctx, 'driverState.data.subnet', run.subnet, options.subnetPool, { driver: 'netns', stateDir: ctx.stateDir, runId: run.runId, runDir: run.runDir }, leases);
  }
  state.nodes.forEach((node, i) => {
    const at = `driverState.nodes.${i}`;
    if (!run) refuse(ctx, at, 'a node without a run');
    checkNodeName(ctx, `${at}.name`, node.name);
    const data = node.data;
    expectMade(ctx, `${at}.data.netns`, data.netns, netnsName(run.runId, node.name));
    expectMade(ctx, `${at}.data.veth`, data.veth, vethName(run.runId, data.index));
    expectMade(ctx, `${at}.data.cgroup`, data.cgroup, cgroupParent(run.runId, node.name));
    checkDirIn(ctx, `${at}.data.dir`, data.dir, run.runDir, node.name);
    // How the harness reaches the node: its address on the run's subnet, with the scenario's key.
    expectMade(ctx, `${at}.host`, node.host, nodeAddress(run.subnet, data.index));
    expectMade(ctx, `${at}.port`, node.port, 22);
    expectMade(ctx, `${at}.user`, node.user, 'root');
    expectMade(ctx, `${at}.identityFile`, node.identityFile, join(ctx.stateDir, 'ssh', 'id_ed25519'));
    checkProcess(ctx, `${at}.data.process`, data.process, data.dir);
    // The node's root is mounted from here: only a node image of our cache.
    if (data.rootfs !== undefined) {
      const image = /^node-[0-9a-f]{6,64}$/;
      const parts = relative(options.imageCacheDir, data.rootfs).split(sep);
      if (parts.length !== 2 || !image.test(parts[0] ?? '') || parts[1] !== 'rootfs') {
        refuse(ctx, `${at}.data.rootfs`, `${JSON.stringify(data.rootfs)} is not a node image under ${options.imageCacheDir}`);
      }
    }
  });
}
