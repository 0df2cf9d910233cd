import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pMap from 'p-map';
import type { PlatformConfig } from '../../config/index.js';
import { InfraError, UsageError } from '../../errors.js';
import { ensureKeyPair, generateKeyPair, writeKeyPair } from '../../transport/index.js';
import { cachedNodeImage, ensureNodeImage, importNodeImage, type NodeImage } from '../host/node-image/index.js';
import { allLeases, leaseSubnet, releaseSubnet } from '../netns/network.js';
import { waitGone } from '../netns/node-process.js';
import { waitUntilNodeAnswers } from '../ready.js';
import type { Driver, DriverContext, DriverState, NodeRecord, NodeStatus, SanityProblem } from '../types.js';
import { VagrantClient, vagrantError, type VagrantRunOptions } from './client.js';
import { buildNodeList, privateAddress, writeNodeList } from './node-list.js';
import { isVmProvider, parseOptions, type Provider, type VagrantOptions } from './options.js';
import {
  addresses,
  createUplink,
  daemonProcessesOf,
  dockerEnv,
  isAlive,
  planDaemon,
  removeDaemon,
  startDaemon,
  waitForDaemon,
  type ProviderDaemon,
} from './provider-daemon.js';
import { vagrantSanityProblems } from './sanity.js';
import { sshConfigsOf } from './ssh-config.js';

/** The Vagrantfile at the top of swarm-molecule (beside package.json, from src/ and from dist/). */
const PROJECT_VAGRANTFILE = fileURLToPath(new URL('../../../Vagrantfile', import.meta.url));

/** What the state file keeps about a run of the vagrant driver. */
interface RunData {
  runId: string;
  provider: Provider;
  /** The scenario's Vagrant project: node list, keys, and Vagrant's machine data (VAGRANT_DOTFILE_PATH). */
  dir: string;
  vagrantHome: string;
  vagrantfile: string;
  /** docker provider: the run's isolated dockerd. */
  daemon?: ProviderDaemon;
  [key: string]: unknown;
}

const runDataOf = (state: DriverState): RunData | undefined =>
  typeof state.data.runId === 'string' ? (state.data as unknown as RunData) : undefined;

const nodesFile = (run: RunData) => join(run.dir, 'nodes.json');
const dotfileDir = (run: RunData) => join(run.dir, 'machines');
const keysDir = (run: RunData) => join(run.dir, 'keys');

/**
 * What a docker provider run writes in its subnet lease, so that `sweep` finds
 * the run without the state file. Under its own key: the netns driver reads
 * leases too, and must not take this one for its own.
 */
interface LeaseOwner {
  vagrant: { stateDir: string; runId: string; dataDir: string };
}

const leaseOwner = (stateDir: string, runId: string, dataDir: string): string =>
  JSON.stringify({ vagrant: { stateDir, runId, dataDir } } satisfies LeaseOwner);

export function parseLeaseOwner(text: string): LeaseOwner['vagrant'] | undefined {
  try {
    const owner = (JSON.parse(text) as Partial<LeaseOwner>).vagrant;
    return typeof owner?.stateDir === 'string' && typeof owner.runId === 'string' && typeof owner.dataDir === 'string' ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** Vagrant machine states, by provider, as the harness sees them. */
export function nodeStatusOf(vagrantState: string | undefined): NodeStatus {
  switch (vagrantState) {
    case 'running':
      return 'running';
    case undefined:
    case 'not_created':
    case 'host_state_unknown':
      return 'missing';
    default:
      // stopped, poweroff, shutoff, saved, paused, aborted, preparing, ...
      return 'stopped';
  }
}

/**
 * Nodes as Vagrant machines, through the project's Vagrantfile: VMs with the
 * virtualbox or libvirt provider, containers with the docker provider (for
 * machines without virtualisation). Vagrant is driven through its
 * machine-readable output; every node is then reached over SSH like any other.
 */
export class VagrantDriver implements Driver {
  readonly name = 'vagrant';

  #options(ctx: DriverContext): VagrantOptions {
    return parseOptions(ctx.scenario.name, ctx.scenario.driver.options);
  }

  /** Where this scenario's Vagrant things go; the same for every run of it. */
  #newRun(ctx: DriverContext, options: VagrantOptions): RunData {
    const dir = resolve(ctx.stateDir, 'vagrant');
    // VMs share one home per project, so that boxes are downloaded once. The docker
    // provider needs no box: its home is the run's own and goes with it.
    const defaultHome = isVmProvider(options.provider) ? join(dirname(ctx.stateDir), 'vagrant.d') : join(dir, 'home');
    return {
      runId: randomBytes(3).toString('hex'),
      provider: options.provider,
      dir,
      vagrantHome: resolve(ctx.scenario.dir, options.vagrantHome ?? defaultHome),
      vagrantfile: options.vagrantfile ? resolve(ctx.scenario.dir, options.vagrantfile) : PROJECT_VAGRANTFILE,
    };
  }

  #client(run: RunData): VagrantClient {
    return new VagrantClient({
      VAGRANT_CWD: dirname(run.vagrantfile),
      VAGRANT_VAGRANTFILE: basename(run.vagrantfile),
      VAGRANT_DOTFILE_PATH: dotfileDir(run),
      VAGRANT_HOME: run.vagrantHome,
      VAGRANT_CHECKPOINT_DISABLE: '1',
      VAGRANT_NO_COLOR: '1',
      VAGRANT_DEFAULT_PROVIDER: run.provider,
      // Without the node list the Vagrantfile falls back to the default topology.
      SWARM_MOLECULE_NODES: existsSync(nodesFile(run)) ? nodesFile(run) : '',
      ...(run.daemon ? dockerEnv(run.daemon) : {}),
    });
  }

  #progress(ctx: DriverContext): VagrantRunOptions['onProgress'] {
    return (line, target) => ctx.log(line, target || undefined);
  }

  async sanityCheck(ctx: DriverContext): Promise<SanityProblem[]> {
    const options = this.#options(ctx);
    const run = this.#newRun(ctx, options);
    const imageCached = options.provider === 'docker' && cachedNodeImage(options.imageCacheDir) !== undefined;
    return await vagrantSanityProblems({ options, platforms: ctx.scenario.platforms, client: this.#client(run), vagrantHome: run.vagrantHome, imageCached });
  }

  async create(ctx: DriverContext, platforms: PlatformConfig[], previous: DriverState | undefined): Promise<DriverState> {
    const options = this.#options(ctx);
    // Settings the node list cannot take fail here, before anything is made.
    buildNodeList(platforms, options);
    const state: DriverState = { nodes: [...(previous?.nodes ?? [])], data: { ...(previous?.data ?? {}) } };
    let run = runDataOf(state);
    if (run && run.provider !== options.provider) {
      throw new UsageError(`Scenario "${ctx.scenario.name}" has nodes made with the ${run.provider} provider, but now names ${options.provider}.`, {
        hint: `Destroy them first: "swarm-molecule destroy -s ${ctx.scenario.name}" with the provider set back to ${run.provider}.`,
      });
    }
    if (run?.daemon?.process && !isAlive(run.daemon.process)) {
      // The machine lost the run's dockerd (a reboot, a kill): start clean rather than half-reuse it.
      ctx.log('the docker provider\'s dockerd is gone; recreating every node');
      await this.destroy(ctx, state);
      state.nodes = [];
      state.data = {};
      run = undefined;
    }
    if (!run) {
      run = this.#newRun(ctx, options);
      state.data = { ...run };
      await ctx.record(state);
    }
    const save = async () => {
      state.data = { ...run };
      await ctx.record(state);
    };
    await mkdir(run.dir, { recursive: true, mode: 0o700 });
    await mkdir(run.vagrantHome, { recursive: true, mode: 0o700 });
    const keyPath = resolve(ctx.stateDir, 'ssh', 'id_ed25519');
    const userKey = await ensureKeyPair(keyPath, `swarm-molecule ${ctx.scenario.name}`);

    let image: NodeImage | undefined;
    if (options.provider === 'docker') {
      if (!run.daemon) {
        // The lease is recorded before anything else exists, so that destroy releases it.
        const subnet = await leaseSubnet(options.subnetPool, leaseOwner(ctx.stateDir, run.runId, options.dataDir));
        run.daemon = planDaemon(run.runId, subnet, options.dataDir);
        await save();
      }
      if (!isAlive(run.daemon.process)) {
        await createUplink(run.daemon);
        run.daemon.process = await startDaemon(run.daemon);
        await save();
      }
      await waitForDaemon(run.daemon, ctx.signal);
      image = await ensureNodeImage({ cacheDir: options.imageCacheDir, mirror: options.mirror, signal: ctx.signal, log: (line) => ctx.log(line) });
      const started = performance.now();
      if (await importNodeImage(dockerEnv(run.daemon), image, ctx.signal)) {
        ctx.log(`imported the node image ${image.tag} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      }
      for (const platform of platforms) await this.#nodeKeys(run, platform.name, userKey.publicKey);
    }

    // Nodes that are no longer in the scenario go, while the node list still names them.
    const wanted = new Set(platforms.map((p) => p.name));
    const unwanted = state.nodes.filter((n) => !wanted.has(n.name)).map((n) => n.name);
    if (unwanted.length > 0 && existsSync(nodesFile(run))) {
      await this.#client(run).run(['destroy', '-f', ...unwanted], { signal: ctx.signal, onProgress: this.#progress(ctx) });
    }
    state.nodes = state.nodes.filter((n) => wanted.has(n.name));

    const daemon = run.daemon;
    const list = buildNodeList(
      platforms,
      options,
      daemon && image
        ? {
            ssh: { username: 'root', privateKeyPath: keyPath },
            settings: { image: image.tag, containerPrefix: `${daemon.netns}`, keysDir: keysDir(run), harness: `${addresses(daemon.subnet).harness}/32` },
          }
        : undefined,
    );
    await writeNodeList(nodesFile(run), list);

    const names = platforms.map((p) => p.name);
    if (names.every((name) => state.nodes.some((n) => n.name === name))) {
      // Every node was made before: when all are running, one status call replaces up + ssh-config.
      const statuses = await this.status(ctx, state);
      if (names.every((name) => statuses.get(name) === 'running')) {
        for (const name of names) ctx.log('already running', name);
        await pMap(state.nodes, (node) => this.#waitReady(ctx, node, options), { concurrency: state.nodes.length || 1, signal: ctx.signal });
        return state;
      }
    }
    const started = performance.now();
    await this.#client(run).run(['up', '--provider', options.provider, ...names], {
      signal: ctx.signal,
      timeoutMs: options.upTimeoutSeconds * 1000,
      onProgress: this.#progress(ctx),
    });
    ctx.log(`vagrant up: ${names.length} machine(s) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    state.nodes = await this.#records(ctx, run, options, platforms, names, keyPath);
    await ctx.record(state);
    await pMap(state.nodes, (node) => this.#waitReady(ctx, node, options), { concurrency: state.nodes.length || 1, signal: ctx.signal });
    return state;
  }

  /** The docker provider's node gets its own host key (so we can check it) and the scenario's public key. */
  async #nodeKeys(run: RunData, node: string, publicKey: string): Promise<void> {
    const dir = join(keysDir(run), node);
    const hostKeyPath = join(dir, 'ssh_host_ed25519_key');
    if (!existsSync(hostKeyPath)) await writeKeyPair(hostKeyPath, generateKeyPair(`${node} host key`));
    await writeFile(join(dir, 'authorized_keys'), `${publicKey}\n`, { mode: 0o600 });
  }

  /** SSH parameters of each node from `vagrant ssh-config`. */
  async #records(
    ctx: DriverContext,
    run: RunData,
    options: VagrantOptions,
    platforms: readonly PlatformConfig[],
    names: string[],
    keyPath: string,
  ): Promise<NodeRecord[]> {
    const result = await this.#client(run).run(['ssh-config', ...names], { signal: ctx.signal, timeoutMs: 120_000 });
    const configs = sshConfigsOf(result.lines, dirname(run.vagrantfile));
    return await Promise.all(
      names.map(async (name): Promise<NodeRecord> => {
        const config = configs.get(name);
        if (!config) throw new InfraError(`"vagrant ssh-config" said nothing about ${name}, so it cannot be reached.`, { hint: `Run "swarm-molecule list -s ${ctx.scenario.name}" to see its state.` });
        if (options.provider === 'docker') {
          const hostKey = (await readFile(join(keysDir(run), name, 'ssh_host_ed25519_key.pub'), 'utf8')).trim();
          return { name, host: config.hostName, port: config.port, user: 'root', identityFile: keyPath, hostKey, data: { machine: name } };
        }
        // VMs: Vagrant's SSH goes through a forwarded port on 127.0.0.1; the swarm
        // (and so the harness) uses the node's private address.
        const index = platforms.findIndex((p) => p.name === name);
        const identityFile = config.identityFiles[0];
        if (!identityFile) throw new InfraError(`"vagrant ssh-config ${name}" names no private key.`);
        return { name, host: privateAddress(options.privateNetwork, index), port: 22, user: config.user, identityFile, data: { machine: name } };
      }),
    );
  }

  /** Wait until the node answers SSH and its dockerd answers. */
  async #waitReady(ctx: DriverContext, node: NodeRecord, options: VagrantOptions): Promise<void> {
    await waitUntilNodeAnswers(node, {
      timeoutMs: options.readyTimeoutSeconds * 1000,
      signal: ctx.signal,
      hint: `Run "swarm-molecule login -s ${ctx.scenario.name} -h ${node.name}" and look at /var/log/dockerd.log (docker provider) or "journalctl -u docker".`,
    });
    ctx.log(`up at ${node.host}`, node.name);
  }

  async destroy(ctx: DriverContext, state: DriverState): Promise<void> {
    const run = runDataOf(state);
    if (!run) return;
    const daemonGone = run.daemon !== undefined && !isAlive(run.daemon.process);
    let vagrantFailed = false;
    if (existsSync(nodesFile(run)) && existsSync(dotfileDir(run)) && !daemonGone) {
      const args = ['destroy', '-f', ...(run.provider === 'docker' ? ['--parallel'] : [])];
      const result = await this.#client(run).run(args, { signal: ctx.signal, allowFailure: true, onProgress: this.#progress(ctx) });
      if (result.exitCode !== 0) {
        const error = vagrantError(args, result);
        // VMs exist only in Vagrant's (and the hypervisor's) records: keep ours so that destroy can be retried.
        if (isVmProvider(run.provider)) throw error;
        vagrantFailed = true;
        ctx.log(`${error.message.split('\n')[0]} Removing its dockerd, which takes every container with it.`);
      }
    }
    if (run.daemon) {
      await removeDaemon(run.daemon);
      await releaseSubnet(run.daemon.subnet);
    }
    await rm(run.dir, { recursive: true, force: true, maxRetries: 3 });
    if ((vagrantFailed || daemonGone) && existsSync(run.vagrantHome)) {
      // A Vagrant home outside the run (driver.options.vagrantHome) still lists the machines; let Vagrant forget them.
      await this.#client({ ...run, daemon: undefined }).run(['global-status', '--prune'], { allowFailure: true, timeoutMs: 120_000 });
      // Vagrant makes its project data directory on every call.
      await rm(run.dir, { recursive: true, force: true, maxRetries: 3 });
    }
    for (const node of state.nodes) ctx.log('destroyed', node.name);
  }

  /**
   * Without the state file: the scenario's Vagrant project (VMs are destroyed
   * through it) and, for the docker provider, each run's dockerd, found by its
   * subnet lease and the run directory its arguments name.
   */
  async sweep(ctx: DriverContext): Promise<string[]> {
    const removed: string[] = [];
    const options = this.#options(ctx);
    const project = this.#newRun(ctx, options);
    if (isVmProvider(options.provider) && existsSync(nodesFile(project)) && existsSync(dotfileDir(project))) {
      await this.#client(project).run(['destroy', '-f'], { signal: ctx.signal, onProgress: this.#progress(ctx) });
      removed.push('the machines of the Vagrant project');
    }
    for (const lease of await allLeases()) {
      const owner = parseLeaseOwner(lease.owner);
      if (owner?.stateDir !== ctx.stateDir) continue;
      const daemon = planDaemon(owner.runId, lease.subnet, owner.dataDir);
      const pids = daemonProcessesOf(daemon.runDir);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await waitGone(pids);
      await removeDaemon(daemon);
      await releaseSubnet(lease.subnet);
      removed.push(`docker provider run ${owner.runId}: its dockerd (${pids.length} process(es)) and every container, namespace ${daemon.netns}, subnet ${lease.subnet.base}.0/24`);
    }
    if (existsSync(project.dir)) {
      await rm(project.dir, { recursive: true, force: true, maxRetries: 3 });
      removed.push(`the Vagrant project ${project.dir}`);
    }
    for (const line of removed) ctx.log(`swept ${line}`);
    return removed;
  }

  async status(ctx: DriverContext, state: DriverState): Promise<Map<string, NodeStatus>> {
    const run = runDataOf(state);
    const statuses = new Map<string, NodeStatus>(state.nodes.map((n) => [n.name, 'missing']));
    if (!run || !existsSync(nodesFile(run))) return statuses;
    // Without its dockerd, no container of the run exists (and Vagrant could not ask).
    if (run.daemon && !isAlive(run.daemon.process)) return statuses;
    const result = await this.#client(run).run(['status'], { signal: ctx.signal, timeoutMs: 120_000 });
    for (const line of result.lines) {
      if (line.type === 'state' && statuses.has(line.target)) statuses.set(line.target, nodeStatusOf(line.data[0]));
    }
    return statuses;
  }

  async stop(ctx: DriverContext, state: DriverState, name: string): Promise<DriverState> {
    const run = this.#run(state);
    this.#node(state, name);
    // --force: the power goes out, as in a crash (the docker provider stops the container).
    await this.#client(run).run(['halt', '--force', name], { signal: ctx.signal, onProgress: this.#progress(ctx) });
    ctx.log('stopped', name);
    return state;
  }

  async start(ctx: DriverContext, state: DriverState, name: string): Promise<DriverState> {
    const run = this.#run(state);
    const options = this.#options(ctx);
    const before = this.#node(state, name);
    await this.#client(run).run(['up', '--provider', run.provider, name], {
      signal: ctx.signal,
      timeoutMs: options.upTimeoutSeconds * 1000,
      onProgress: this.#progress(ctx),
    });
    // A container may come back with another address.
    const [record] = await this.#records(ctx, run, options, ctx.scenario.platforms, [name], before.identityFile);
    const node = record ?? before;
    const next: DriverState = { ...state, nodes: state.nodes.map((n) => (n.name === name ? node : n)) };
    await ctx.record(next);
    await this.#waitReady(ctx, node, options);
    ctx.log('started', name);
    return next;
  }

  #run(state: DriverState): RunData {
    const run = runDataOf(state);
    if (!run) throw new InfraError('The state file has no vagrant run: the nodes were not created by this driver.');
    return run;
  }

  #node(state: DriverState, name: string): NodeRecord {
    const node = state.nodes.find((n) => n.name === name);
    if (!node) throw new InfraError(`There is no node named ${name} in this scenario's state.`);
    return node;
  }
}
