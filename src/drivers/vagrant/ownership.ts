import { resolve } from 'node:path';
import type { Lease } from '../host/leases.js';
import { checkDirIn, checkNodeName, checkProcess, checkRunDir, checkRunId, checkSubnet } from '../host/ownership.js';
import { expectMade, refuse, type OwnershipContext, type RunState } from '../state.js';
import type { Provider } from './options.js';
import { planDaemon, type ProviderDaemon } from './provider-daemon.js';

interface Run {
  runId: string;
  provider: Provider;
  dir: string;
  vagrantHome: string;
  vagrantfile: string;
  daemon?: ProviderDaemon | undefined;
}

/**
 * A vagrant state names only what this driver made for this scenario: the
 * scenario's Vagrant project, home and Vagrantfile as the options give them
 * (`made`), and for the docker provider the run's dockerd under the data root,
 * on a subnet of the pool leased to this state directory, with a process of
 * its own. Refuses (exit 2) otherwise.
 */
export function verifyVagrantState(
  ctx: OwnershipContext,
  options: { dataDir: string; subnetPool: string },
  made: Pick<Run, 'dir' | 'vagrantHome' | 'vagrantfile'> | undefined,
  state: RunState<Run, { machine: string }>,
  leases: readonly Lease[],
): void {
  const run = state.run;
  if (run && made) {
    checkRunId(ctx, 'driverState.data.runId', run.runId);
    checkDirIn(ctx, 'driverState.data.dir', run.dir, resolve(ctx.stateDir), 'vagrant');
    expectMade(ctx, 'driverState.data.dir', run.dir, made.dir);
    expectMade(ctx, 'driverState.data.vagrantHome', run.vagrantHome, made.vagrantHome);
    expectMade(ctx, 'driverState.data.vagrantfile', run.vagrantfile, made.vagrantfile);
    const daemon = run.daemon;
    if (daemon) {
      if (run.provider !== 'docker') refuse(ctx, 'driverState.data.daemon', `the ${run.provider} provider has no dockerd of its own`);
      const planned = planDaemon(run.runId, daemon.subnet, options.dataDir);
      checkRunDir(ctx, 'driverState.data.daemon.runDir', daemon.runDir, options.dataDir, run.runId);
      expectMade(ctx, 'driverState.data.daemon.netns', daemon.netns, planned.netns);
      expectMade(ctx, 'driverState.data.daemon.veth', daemon.veth, planned.veth);
      expectMade(ctx, 'driverState.data.daemon.cgroup', daemon.cgroup, planned.cgroup);
      checkSubnet(ctx, 'driverState.data.daemon.subnet', daemon.subnet, options.subnetPool, { driver: 'vagrant', stateDir: ctx.stateDir, runId: run.runId, runDir: planned.runDir }, leases);
      checkProcess(ctx, 'driverState.data.daemon.process', daemon.process, daemon.runDir);
    }
  }
  state.nodes.forEach((node, i) => {
    const at = `driverState.nodes.${i}`;
    if (!run) refuse(ctx, at, 'a node without a run');
    checkNodeName(ctx, `${at}.name`, node.name);
    expectMade(ctx, `${at}.data.machine`, node.data.machine, node.name);
    if (run.provider === 'docker') expectMade(ctx, `${at}.identityFile`, node.identityFile, resolve(ctx.stateDir, 'ssh', 'id_ed25519'));
  });
}
