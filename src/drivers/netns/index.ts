import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pMap from 'p-map';
import { z } from 'zod';
import type { PlatformConfig } from '../../config/index.js';
import { InfraError } from '../../errors.js';
import { ensureKeyPair, generateKeyPair, writeKeyPair } from '../../transport/index.js';
import { hasProgram, runOnHost } from '../../util/host-command.js';
import { cachedNodeImage, DEFAULT_CACHE_DIR, ensureNodeImage } from '../host/node-image/index.js';
import { waitUntilNodeAnswers } from '../ready.js';
import type { Driver, DriverContext, DriverState, NodeRecord, NodeStatus, SanityProblem } from '../types.js';
import {
  allLeases,
  bridgeName,
  linksStartingWith,
  createBridge,
  createNodeNetwork,
  leaseSubnet,
  linkExists,
  netnsExists,
  netnsName,
  nodeAddress,
  releaseSubnet,
  removeBridge,
  removeNodeNetwork,
  setLink,
  vethName,
  vethPrefix,
  type Subnet,
} from './network.js';
import { cgroupParent, isAlive, killNodeProcess, nodeProcessesOf, removeCgroups, startNodeProcess, waitGone, type NodeProcess } from './node-process.js';

const optionsSchema = z.object({
  /** A /16 from which each run leases a /24. */
  subnetPool: z.string().default('10.213.0.0/16'),
  /** Where node disks (Docker data, host keys, logs) live. */
  dataDir: z.string().default('/var/lib/swarm-molecule'),
  /** How long a node may take to answer SSH and Docker after it starts. */
  readyTimeoutSeconds: z.number().int().positive().default(90),
  /** Where the node image (each node's root filesystem, read-only) is cached between runs. */
  imageCacheDir: z.string().min(1).default(DEFAULT_CACHE_DIR),
  /** The Debian mirror debootstrap builds the node image from; default the one this machine uses. */
  mirror: z.string().url().optional(),
});
type NetnsOptions = z.infer<typeof optionsSchema>;

/** What a netns lease's owner file says. */
interface LeaseOwner {
  stateDir: string;
  runId: string;
  runDir: string;
}

function parseOwner(text: string): LeaseOwner | undefined {
  try {
    const owner = JSON.parse(text) as Partial<LeaseOwner>;
    return typeof owner.stateDir === 'string' && typeof owner.runId === 'string' && typeof owner.runDir === 'string' ? (owner as LeaseOwner) : undefined;
  } catch {
    return undefined;
  }
}

interface RunData {
  runId: string;
  subnet: Subnet;
  runDir: string;
}

interface NodeData {
  index: number;
  netns: string;
  veth: string;
  dir: string;
  cgroup: string;
  /** The node image's rootfs the node's disk (its overlay upper dir) was made on. */
  rootfs?: string;
  process?: NodeProcess;
  [key: string]: unknown;
}

const runDataOf = (state: DriverState): RunData | undefined =>
  typeof state.data.runId === 'string' ? (state.data as unknown as RunData) : undefined;
const nodeDataOf = (node: NodeRecord): NodeData => node.data as unknown as NodeData;

/**
 * Real nodes on this machine: per node a network, UTS, mount and PID namespace
 * with its own dockerd and sshd, all on one bridge per run. See
 * shared/design/real-nodes-on-one-machine.md for the facts this stands on.
 */
export class NetnsDriver implements Driver {
  readonly name = 'netns';

  #options(ctx: DriverContext): NetnsOptions {
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

  async create(ctx: DriverContext, platforms: PlatformConfig[], previous: DriverState | undefined): Promise<DriverState> {
    const options = this.#options(ctx);
    // Before anything else exists: a build that fails leaves nothing to clean up.
    const image = await ensureNodeImage({ cacheDir: options.imageCacheDir, mirror: options.mirror, signal: ctx.signal, log: (line) => ctx.log(line) });
    let run = previous ? runDataOf(previous) : undefined;
    const state: DriverState = { nodes: [...(previous?.nodes ?? [])], data: { ...(previous?.data ?? {}) } };
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
      const owner: LeaseOwner = { stateDir: ctx.stateDir, runId, runDir };
      const subnet = await leaseSubnet(options.subnetPool, JSON.stringify(owner));
      run = { runId, subnet, runDir };
      state.data = { ...run };
      await ctx.record(state);
      await mkdir(runDir, { recursive: true, mode: 0o700 });
      await createBridge(runId, subnet);
    }
    const runData = run;
    const keyPath = join(ctx.stateDir, 'ssh', 'id_ed25519');
    const userKey = await ensureKeyPair(keyPath, `swarm-molecule ${ctx.scenario.name}`);

    // Nodes that are no longer in the scenario go.
    const wanted = new Set(platforms.map((p) => p.name));
    for (const node of state.nodes.filter((n) => !wanted.has(n.name))) {
      await this.#destroyNode(runData, node);
    }
    state.nodes = state.nodes.filter((n) => wanted.has(n.name));

    const save = async (record: NodeRecord) => {
      state.nodes = [...state.nodes.filter((n) => n.name !== record.name), record];
      state.nodes.sort((a, b) => platforms.findIndex((p) => p.name === a.name) - platforms.findIndex((p) => p.name === b.name));
      await ctx.record(state);
    };

    await pMap(
      platforms,
      async (platform, index) => {
        const existing = state.nodes.find((n) => n.name === platform.name);
        if (existing && isAlive(nodeDataOf(existing).process)) {
          ctx.log('already running', platform.name);
          await this.#waitReady(existing, options, ctx);
          return;
        }
        const made = existing ?? (await this.#newNodeRecord(runData, platform, index, keyPath));
        // A node's disk stays on the image it was made on.
        const rootfs = nodeDataOf(made).rootfs ?? image.rootfs;
        const record: NodeRecord = { ...made, data: { ...made.data, rootfs } };
        const data = nodeDataOf(record);
        await save(record);
        await mkdir(data.dir, { recursive: true, mode: 0o700 });
        await writeFile(join(data.dir, 'authorized_keys'), `${userKey.publicKey}\n`, { mode: 0o600 });
        await createNodeNetwork(runData.runId, runData.subnet, data.index, platform.name);
        const process_ = startNodeProcess({ netns: data.netns, node: platform.name, dir: data.dir, address: record.host, cgroup: data.cgroup, rootfs });
        const started: NodeRecord = { ...record, data: { ...data, process: process_ } };
        await save(started);
        await this.#waitReady(started, options, ctx);
        ctx.log(`up at ${record.host}`, platform.name);
      },
      { concurrency: platforms.length || 1, signal: ctx.signal },
    );
    return state;
  }

  async #newNodeRecord(run: RunData, platform: PlatformConfig, index: number, keyPath: string): Promise<NodeRecord> {
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
  #waitReady(node: NodeRecord, options: NetnsOptions, ctx: DriverContext): Promise<void> {
    return waitUntilNodeAnswers(node, {
      timeoutMs: options.readyTimeoutSeconds * 1000,
      signal: ctx.signal,
      hint: `See ${join(nodeDataOf(node).dir, 'dockerd.log')}.`,
    });
  }

  async #destroyNode(run: RunData, node: NodeRecord): Promise<void> {
    const data = nodeDataOf(node);
    await killNodeProcess(data.process);
    await removeNodeNetwork(run.runId, data.index, node.name);
    removeCgroups(data.cgroup);
    // Its disk (the overlay's upper dir, Docker's data) goes with it.
    await rm(data.dir, { recursive: true, force: true, maxRetries: 3 });
  }

  async destroy(ctx: DriverContext, state: DriverState): Promise<void> {
    const run = runDataOf(state);
    if (!run) return;
    // Kill every node first: a live node could otherwise hold on to another's resources.
    await Promise.all(state.nodes.map((node) => killNodeProcess(nodeDataOf(node).process)));
    for (const node of state.nodes) {
      await this.#destroyNode(run, node);
      ctx.log('destroyed', node.name);
    }
    await removeBridge(run.runId);
    await rm(run.runDir, { recursive: true, force: true, maxRetries: 3 });
    await releaseSubnet(run.subnet);
  }

  async sweep(ctx: DriverContext): Promise<string[]> {
    const removed: string[] = [];
    for (const lease of await allLeases()) {
      const owner = parseOwner(lease.owner);
      if (owner?.stateDir !== ctx.stateDir) continue;
      const { runId, runDir } = owner;
      // Node processes are ours by construction: their arguments name this run's netns.
      const pids = nodeProcessesOf(runDir);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await waitGone(pids);
      const namespaces = existsSync('/run/netns') ? (await readdir('/run/netns')).filter((n) => n.startsWith(netnsName(runId, ''))) : [];
      for (const ns of namespaces) await runOnHost('ip', ['netns', 'delete', ns], { allowFailure: true });
      for (const link of await linksStartingWith(vethPrefix(runId))) await runOnHost('ip', ['link', 'delete', link], { allowFailure: true });
      await removeBridge(runId);
      for (const ns of namespaces) removeCgroups(cgroupParent(runId, ns.slice(netnsName(runId, '').length)));
      await rm(runDir, { recursive: true, force: true, maxRetries: 3 });
      await releaseSubnet(lease.subnet);
      removed.push(`run ${runId}: ${pids.length} node process(es), ${namespaces.length} namespace(s), bridge, subnet ${lease.subnet.base}.0/24`);
      ctx.log(`swept ${removed.at(-1) ?? ''}`);
    }
    return removed;
  }

  async status(_ctx: DriverContext, state: DriverState): Promise<Map<string, NodeStatus>> {
    const statuses = new Map<string, NodeStatus>();
    for (const node of state.nodes) {
      const data = nodeDataOf(node);
      statuses.set(node.name, isAlive(data.process) ? 'running' : netnsExists(data.netns) ? 'stopped' : 'missing');
    }
    return statuses;
  }

  async stop(ctx: DriverContext, state: DriverState, name: string): Promise<DriverState> {
    const node = this.#node(state, name);
    const data = nodeDataOf(node);
    // A crash: every process of the node dies at once and its link goes dark,
    // so peers see silence (as with a real dead host), not refused connections.
    await killNodeProcess(data.process);
    await setLink(data.veth, 'down');
    removeCgroups(data.cgroup);
    ctx.log('stopped', name);
    return this.#replace(state, { ...node, data: { ...data, process: undefined } });
  }

  async start(ctx: DriverContext, state: DriverState, name: string): Promise<DriverState> {
    const node = this.#node(state, name);
    const data = nodeDataOf(node);
    if (isAlive(data.process)) return state;
    await setLink(data.veth, 'up');
    const options = this.#options(ctx);
    const rootfs = data.rootfs ?? (await ensureNodeImage({ cacheDir: options.imageCacheDir, mirror: options.mirror, signal: ctx.signal, log: (line) => ctx.log(line) })).rootfs;
    const process_ = startNodeProcess({ netns: data.netns, node: name, dir: data.dir, address: node.host, cgroup: data.cgroup, rootfs });
    const next = this.#replace(state, { ...node, data: { ...data, process: process_ } });
    await ctx.record(next);
    await this.#waitReady(this.#node(next, name), options, ctx);
    ctx.log('started', name);
    return next;
  }

  #node(state: DriverState, name: string): NodeRecord {
    const node = state.nodes.find((n) => n.name === name);
    if (!node) throw new InfraError(`There is no node named ${name} in this scenario's state.`);
    return node;
  }

  #replace(state: DriverState, node: NodeRecord): DriverState {
    return { ...state, nodes: state.nodes.map((n) => (n.name === node.name ? node : n)) };
  }
}
