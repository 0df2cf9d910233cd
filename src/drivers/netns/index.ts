import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pMap from 'p-map';
import { z } from 'zod';
import type { PlatformConfig } from '../../config/index.js';
import { InfraError } from '../../errors.js';
import { ensureKeyPair, generateKeyPair, writeKeyPair } from '../../transport/index.js';
import { cgroupsStartingWith, removeCgroups, removeCgroupsWhenEmpty } from '../host/cgroups.js';
import { hasProgram } from '../host/command.js';
import { logTail } from '../host/log-tail.js';
import { allLeases, leaseSubnet, releaseSubnet, subnetSchema, type LeaseOwner } from '../host/leases.js';
import { deleteLink, deleteNetns, linkExists, linksStartingWith, namespacesStartingWith, netnsExists, setLink } from '../host/links.js';
import { cachedNodeImage, ensureNodeImage } from '../host/node-image/index.js';
import { applyPartition, healInState, healLeftover, partitionInState, partitionRecordSchema, removePartition } from '../host/partition.js';
import { isAlive, killNodeProcess, killProcesses, nodeProcessSchema, processesTiedTo } from '../host/processes.js';
import { sweepRuns } from '../host/sweep.js';
import { dockerdRestartDelaySeconds, pauseAt } from '../host/test-hooks.js';
import { readyPhases, waitUntilNodeAnswers, type ReadyTimes } from '../ready.js';
import { defineDriver, keepPlatformNodes, type RunState, type TypedDriver, type TypedDriverContext } from '../state.js';
import type { Driver, DriverContext, NodeRecord, NodeStatus, PartitionSides, SanityProblem } from '../types.js';
import {
  bridgeName,
  createBridge,
  createNodeNetwork,
  netnsName,
  nodeAddress,
  removeBridge,
  removeNodeNetwork,
  vethName,
  vethPrefix,
} from './network.js';
import { cgroupParent, startNodeProcess } from './node-process.js';
import { optionsSchema } from './options.js';
import { verifyNetnsState } from './ownership.js';

export { optionsSchema } from './options.js';
type NetnsOptions = z.infer<typeof optionsSchema>;

/** What the state file keeps about a run: its bridge and subnet, and where node disks live. */
const runSchema = z.object({
  runId: z.string().regex(/^[0-9a-f]+$/),
  subnet: subnetSchema,
  runDir: z.string(),
  /** The partition in place (see host/partition.ts); its rules live in the nodes' namespaces and go with them. */
  partition: partitionRecordSchema.optional(),
});
type RunData = z.infer<typeof runSchema>;

/** What the state file keeps about a node: its kernel objects, its disk, its PID 1. */
const nodeSchema = z.object({
  index: z.number().int().nonnegative(),
  netns: z.string(),
  veth: z.string(),
  dir: z.string(),
  cgroup: z.string(),
  /** The node image's rootfs the node's disk (its overlay upper dir) was made on. */
  rootfs: z.string().optional(),
  process: nodeProcessSchema.optional(),
  /**
   * Set before the node's process is started, cleared once its pid is recorded:
   * a process may run that the state has no pid of (the harness was killed in
   * between). Destroy finds such processes by the node's dir, netns and cgroup.
   */
  starting: z.boolean().optional(),
});
type NodeData = z.infer<typeof nodeSchema>;

type State = RunState<RunData, NodeData>;

/**
 * The await points of `create`, in order, at which the test hook
 * `SWARM_MOLECULE_TEST_PAUSE_AT` can hold it (see host/test-hooks.ts), so the
 * fault suite kills -9 the harness at each. The points from `node-recorded` on
 * are reached once per node.
 */
export const CREATE_PAUSE_POINTS = [
  'image',
  'lease',
  'run-recorded',
  'run-dir',
  'bridge',
  'key',
  'node-recorded',
  'node-dir',
  'network',
  'process-started',
  'process-recorded',
  'ready',
] as const;
type PausePoint = (typeof CREATE_PAUSE_POINTS)[number];

/** Every process tied to a node without trusting a recorded pid: by its dir, netns and the cgroups of its containers. */
function nodeProcesses(data: NodeData): number[] {
  return processesTiedTo({ dir: data.dir, netns: [data.netns], cgroupPrefix: `${data.cgroup}/` });
}

/** Kill a node: its recorded PID 1, then whatever else is tied to it (a process whose pid a killed harness never recorded). */
async function killNode(data: NodeData): Promise<void> {
  await killNodeProcess(data.process);
  await killProcesses(nodeProcesses(data));
}

/** Every process tied to a run: by the run's dir, its netns names and its cgroups, whatever the state lists. */
async function runProcesses(runId: string, runDir: string): Promise<number[]> {
  return processesTiedTo({ dir: runDir, netns: await namespacesStartingWith(netnsName(runId, '')), cgroupPrefix: cgroupParent(runId, '') });
}

/** The kernel objects of a run found by its id (its processes already killed): namespaces, veths, bridge, cgroups. */
async function removeRunObjects(runId: string): Promise<string> {
  const namespaces = await namespacesStartingWith(netnsName(runId, ''));
  for (const ns of namespaces) await deleteNetns(ns);
  for (const link of await linksStartingWith(vethPrefix(runId))) await deleteLink(link);
  await removeBridge(runId);
  for (const cgroup of cgroupsStartingWith(cgroupParent(runId, '').slice(1))) await removeCgroupsWhenEmpty(cgroup, `run ${runId}`);
  return `${namespaces.length} namespace(s), bridge`;
}
type Context = TypedDriverContext<RunData, NodeData>;
type Node = NodeRecord<NodeData>;

/**
 * Real nodes on this machine: per node a network, UTS, mount and PID namespace
 * with its own dockerd and sshd, all on one bridge per run. See
 * shared/design/real-nodes-on-one-machine.md for the facts this stands on.
 */
export class NetnsDriver implements TypedDriver<RunData, NodeData> {
  readonly name = 'netns';

  #options(ctx: Pick<DriverContext, 'scenario'>): NetnsOptions {
    return optionsSchema.parse(ctx.scenario.driver.options);
  }

  async sanityCheck(ctx: DriverContext): Promise<SanityProblem[]> {
    const problems: SanityProblem[] = [];
    if (process.getuid?.() !== 0) {
      problems.push({ problem: 'The netns driver needs root (it creates namespaces, links and mounts).', fix: 'Run as root, e.g. "sudo npx swarm-molecule test".' });
    }
    // dockerd and sshd come from the node image, not from this machine.
    const programs: [string, string][] = [
      ['ip', 'apt-get install -y iproute2'],
      ['nsenter', 'apt-get install -y util-linux'],
      ['unshare', 'apt-get install -y util-linux'],
      ['pivot_root', 'apt-get install -y util-linux'],
      ...(cachedNodeImage(this.#options(ctx).imageCacheDir) ? [] : ([['debootstrap', 'apt-get install -y debootstrap debian-archive-keyring']] as [string, string][])),
    ];
    const found = await Promise.all(programs.map(([program]) => hasProgram(program)));
    programs.forEach(([program, fix], i) => {
      if (!found[i]) problems.push({ problem: `${program} is not installed.`, fix });
    });
    if (!existsSync('/sys/fs/cgroup/devices') && !existsSync('/sys/fs/cgroup/cgroup.controllers')) {
      problems.push({ problem: 'No cgroup hierarchy is mounted at /sys/fs/cgroup; dockerd cannot run.', fix: 'Run on a machine (or VM) with cgroups mounted.' });
    }
    return problems;
  }

  async create(ctx: Context, platforms: PlatformConfig[], previous: State | undefined): Promise<State> {
    const options = this.#options(ctx);
    const pause = (point: PausePoint, node?: string) => pauseAt(point, ctx.signal, node);
    // Before anything else exists: a build that fails leaves nothing to clean up.
    const image = await ensureNodeImage({ cacheDir: options.imageCacheDir, mirror: options.mirror, signal: ctx.signal, log: (line) => ctx.log(line) });
    await pause('image');
    let run = previous?.run;
    const state: State = { nodes: [...(previous?.nodes ?? [])], run };
    if (run && !(await linkExists(bridgeName(run.runId)))) {
      // The machine lost the run (a reboot): start clean rather than half-reuse it.
      ctx.log(`bridge ${bridgeName(run.runId)} is gone; recreating every node`);
      await this.destroy(ctx, state);
      state.nodes = [];
      run = undefined;
    }
    if (!run) {
      const runId = randomBytes(3).toString('hex');
      const runDir = join(options.dataDir, runId);
      // Record the lease before anything else exists, so destroy can release it.
      // The lease names its owner, so that `sweep` finds the run even without the state file.
      const owner: LeaseOwner = { driver: this.name, stateDir: ctx.stateDir, runId, runDir };
      const subnet = await leaseSubnet(options.subnetPool, owner);
      await pause('lease');
      run = { runId, subnet, runDir };
      state.run = run;
      await ctx.record(state);
      await pause('run-recorded');
      await mkdir(runDir, { recursive: true, mode: 0o700 });
      await pause('run-dir');
      await createBridge(runId, subnet);
      await pause('bridge');
    }
    // A partition an interrupted verify left in place: the nodes must reach each other again.
    const healed = await healLeftover(ctx, state, (s) => this.heal(ctx, s));
    state.run = healed.run;
    run = healed.run ?? run;
    const runData = run;
    const keyPath = join(ctx.stateDir, 'ssh', 'id_ed25519');
    const userKey = await ensureKeyPair(keyPath, `swarm-molecule ${ctx.scenario.name}`);
    await pause('key');

    // Nodes that are no longer in the scenario go.
    const save = await keepPlatformNodes(ctx, state, platforms, (node) => this.#destroyNode(runData, node));

    await pMap(
      platforms,
      async (platform, index) => {
        const existing = state.nodes.find((n) => n.name === platform.name);
        if (existing && isAlive(existing.data.process)) {
          ctx.log('already running', platform.name);
          await this.#waitReady(existing, options, ctx);
          return;
        }
        const made = existing ?? (await this.#newNodeRecord(runData, platform, index, keyPath));
        // Intent first: the state names the node (its dir, netns, veth, cgroup) and says its
        // process is being started before any of it exists, so that whatever a kill -9 leaves
        // from here on is found by destroy, pid or not. A node's disk stays on its image.
        const record: Node = { ...made, data: { ...made.data, rootfs: made.data.rootfs ?? image.rootfs, process: undefined, starting: true } };
        const data = record.data;
        const rootfs = data.rootfs ?? image.rootfs;
        const began = performance.now();
        await save(record);
        await pause('node-recorded', platform.name);
        await mkdir(data.dir, { recursive: true, mode: 0o700 });
        await writeFile(join(data.dir, 'authorized_keys'), `${userKey.publicKey}\n`, { mode: 0o600 });
        await pause('node-dir', platform.name);
        await createNodeNetwork(runData.runId, runData.subnet, data.index, platform.name);
        await pause('network', platform.name);
        // A process an earlier, killed create started for this node (its pid never recorded) goes first.
        // A node the state did not name has none: its process is only ever started after its record.
        if (existing) await killNode(data);
        const networked = performance.now();
        const process_ = startNodeProcess({ netns: data.netns, node: platform.name, dir: data.dir, address: record.host, cgroup: data.cgroup, rootfs });
        await pause('process-started', platform.name);
        const started: Node = { ...record, data: { ...data, process: process_, starting: undefined } };
        await save(started);
        const spawned = performance.now();
        await pause('process-recorded', platform.name);
        const ready = await this.#waitReady(started, options, ctx);
        await pause('ready', platform.name);
        ctx.log(`up at ${record.host} ${readyPhases([['network', networked - began], ['start', spawned - networked], ['sshd', ready.sshMs], ['dockerd', ready.dockerdMs - ready.sshMs]])}`, platform.name);
      },
      { concurrency: platforms.length || 1, signal: ctx.signal },
    );
    return state;
  }

  async #newNodeRecord(run: RunData, platform: PlatformConfig, index: number, keyPath: string): Promise<Node> {
    const dir = join(run.runDir, platform.name);
    const hostKey = generateKeyPair(`${platform.name} host key`);
    await writeKeyPair(join(dir, 'ssh_host_ed25519_key'), hostKey);
    const data: NodeData = {
      index,
      netns: netnsName(run.runId, platform.name),
      veth: vethName(run.runId, index),
      dir,
      cgroup: cgroupParent(run.runId, platform.name),
    };
    return {
      name: platform.name,
      host: nodeAddress(run.subnet, index),
      port: 22,
      user: 'root',
      identityFile: keyPath,
      hostKey: hostKey.publicKey,
      data,
    };
  }

  /** Wait until the node answers SSH and its dockerd answers. */
  #waitReady(node: Node, options: NetnsOptions, ctx: Context): Promise<ReadyTimes> {
    return waitUntilNodeAnswers(node, {
      timeoutMs: options.readyTimeoutSeconds * 1000,
      signal: ctx.signal,
      // Its last lines in the error itself: a failed run's cleanup removes the node's dir, log and all.
      hint: () => `See ${join(node.data.dir, 'dockerd.log')}; its last lines:\n${logTail(join(node.data.dir, 'dockerd.log'))}`,
    });
  }

  /** Remove a node; `killed` when every process of its run is already gone. */
  async #destroyNode(run: RunData, node: Node, killed = false): Promise<void> {
    const data = node.data;
    if (!killed) await killNode(data);
    await removeNodeNetwork(run.runId, data.index, node.name);
    removeCgroups(data.cgroup);
    // Its disk (the overlay's upper dir, Docker's data) goes with it.
    await rm(data.dir, { recursive: true, force: true, maxRetries: 3 });
  }

  async destroy(ctx: Context, state: State): Promise<void> {
    const run = state.run;
    if (!run) return;
    // Kill every node first: a live node could otherwise hold on to another's resources.
    await Promise.all(state.nodes.map((node) => killNodeProcess(node.data.process)));
    // Always, whatever the state lists: a create killed between starting a node and
    // recording its pid (or before recording the node) leaves processes only the run ties to.
    await killProcesses(await runProcesses(run.runId, run.runDir));
    for (const node of state.nodes) {
      await this.#destroyNode(run, node, true);
      ctx.log('destroyed', node.name);
    }
    // And the run's kernel objects the state does not name.
    await removeRunObjects(run.runId);
    await rm(run.runDir, { recursive: true, force: true, maxRetries: 3 });
    await releaseSubnet(run.subnet);
  }

  /** State is not a command: it must name only what this driver made for this scenario. */
  async verifyOwnership(ctx: DriverContext, state: State): Promise<void> {
    verifyNetnsState(ctx, this.#options(ctx), state, await allLeases());
  }

  /** Without the state file: each run's lease names its directory, and every object of the run carries its id. */
  sweep(ctx: DriverContext): Promise<string[]> {
    return sweepRuns(ctx, this.name, ({ runId }) => removeRunObjects(runId), {
      dataDir: this.#options(ctx).dataDir,
      processesOf: ({ runId, runDir }) => runProcesses(runId, runDir),
    });
  }

  async status(_ctx: Context, state: State): Promise<Map<string, NodeStatus>> {
    const statuses = new Map<string, NodeStatus>();
    for (const node of state.nodes) {
      const data = node.data;
      statuses.set(node.name, isAlive(data.process) ? 'running' : netnsExists(data.netns) ? 'stopped' : 'missing');
    }
    return statuses;
  }

  async stop(ctx: Context, state: State, name: string): Promise<State> {
    const node = this.#node(state, name);
    const data = node.data;
    // A crash: every process of the node dies at once and its link goes dark,
    // so peers see silence (as with a real dead host), not refused connections.
    await killNode(data);
    await setLink(data.veth, 'down');
    removeCgroups(data.cgroup);
    ctx.log('stopped', name);
    return this.#replace(state, { ...node, data: { ...data, process: undefined } });
  }

  async start(ctx: Context, state: State, name: string): Promise<State> {
    const node = this.#node(state, name);
    const data = node.data;
    if (isAlive(data.process)) return state;
    await setLink(data.veth, 'up');
    const options = this.#options(ctx);
    const rootfs = data.rootfs ?? (await ensureNodeImage({ cacheDir: options.imageCacheDir, mirror: options.mirror, signal: ctx.signal, log: (line) => ctx.log(line) })).rootfs;
    // Intent first, as in create; then nothing of an earlier, unrecorded start may run beside the new one.
    await ctx.record(this.#replace(state, { ...node, data: { ...data, process: undefined, starting: true } }));
    await killNode(data);
    const delay = dockerdRestartDelaySeconds();
    if (delay > 0) ctx.log(`test hook: its dockerd starts ${delay} s late`, name);
    const startedAt = performance.now();
    const process_ = startNodeProcess({ netns: data.netns, node: name, dir: data.dir, address: node.host, cgroup: data.cgroup, rootfs, dockerdDelaySeconds: delay });
    const next = this.#replace(state, { ...node, data: { ...data, process: process_, starting: undefined } });
    await ctx.record(next);
    await this.#waitReady(this.#node(next, name), options, ctx);
    ctx.log(`started; SSH and dockerd answered after ${((performance.now() - startedAt) / 1000).toFixed(1)} s`, name);
    return next;
  }

  partition(ctx: Context, state: State, sides: PartitionSides): Promise<State> {
    return partitionInState(ctx, state, sides, () =>
      applyPartition(
        state.nodes.map((n) => ({ name: n.name, netns: n.data.netns, address: n.address ?? n.host })),
        sides,
      ),
    );
  }

  heal(ctx: Context, state: State): Promise<State> {
    return healInState(ctx, state, () => removePartition(state.nodes.map((n) => ({ name: n.name, netns: n.data.netns }))));
  }

  #node(state: State, name: string): Node {
    const node = state.nodes.find((n) => n.name === name);
    if (!node) throw new InfraError(`There is no node named ${name} in this scenario's state.`);
    return node;
  }

  #replace(state: State, node: Node): State {
    return { ...state, nodes: state.nodes.map((n) => (n.name === node.name ? node : n)) };
  }
}

/** The netns driver as the lifecycle calls it: its state parsed with its schemas. */
export const netnsDriver = (): Driver => defineDriver({ run: runSchema, node: nodeSchema }, new NetnsDriver());
