import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pMap from 'p-map';
import { z } from 'zod';
import type { PlatformConfig } from '../../config/index.js';
import { InfraError, UsageError } from '../../errors.js';
import { ensureKeyPair, generateKeyPair, writeKeyPair } from '../../transport/index.js';
import { allLeases, leaseSubnet, releaseSubnet } from '../host/leases.js';
import { cachedNodeImage, ensureNodeImage, importNodeImage, type NodeImage } from '../host/node-image/index.js';
import { healInState, healLeftover, partitionInState, partitionRecordSchema } from '../host/partition.js';
import { applySshPartition, removeSshPartition } from '../host/ssh-partition.js';
import { sweepRuns } from '../host/sweep.js';
import { waitUntilNodeAnswers } from '../ready.js';
import { checkStateDir, defineDriver, type RunState, type TypedDriver, type TypedDriverContext } from '../state.js';
import type { Driver, DriverContext, NodeRecord, NodeStatus, PartitionSides, SanityProblem } from '../types.js';
import { VagrantClient, vagrantError, VagrantTimedOut, type VagrantRunOptions } from './client.js';
import { buildNodeList, privateAddress, writeNodeList } from './node-list.js';
import { isVmProvider, parseOptions, PROVIDERS, type VagrantOptions } from './options.js';
import {
  addresses,
  createUplink,
  DAEMON_MARKER,
  dockerEnv,
  isAlive,
  planDaemon,
  providerDaemonSchema,
  removeDaemon,
  startDaemon,
  waitForDaemon,
} from './provider-daemon.js';
import { verifyVagrantState } from './ownership.js';
import { vagrantSanityProblems } from './sanity.js';
import { sshConfigsOf } from './ssh-config.js';

/** How long one `vagrant status` may take (it is asked twice before a check gives up). */
const STATUS_TIMEOUT_MS = 120_000;
/** The Vagrantfile at the top of swarm-molecule (beside package.json, from src/ and from dist/). */
const PROJECT_VAGRANTFILE = fileURLToPath(new URL('../../../Vagrantfile', import.meta.url));

/** What the state file keeps about a run of the vagrant driver. */
const runSchema = z.object({
  runId: z.string().regex(/^[0-9a-f]+$/),
  provider: z.enum(PROVIDERS),
  /** The scenario's Vagrant project: node list, keys, and Vagrant's machine data (VAGRANT_DOTFILE_PATH). */
  dir: z.string(),
  vagrantHome: z.string(),
  vagrantfile: z.string(),
  /** docker provider: the run's isolated dockerd. */
  daemon: providerDaemonSchema.optional(),
  /** The partition in place (see host/ssh-partition.ts): its rules live in the machines and go with them. */
  partition: partitionRecordSchema.optional(),
});
type RunData = z.infer<typeof runSchema>;

/** Each node is a Vagrant machine of the same name. */
const nodeSchema = z.object({ machine: z.string() });
type NodeData = z.infer<typeof nodeSchema>;

type State = RunState<RunData, NodeData>;
type Context = TypedDriverContext<RunData, NodeData>;
type Node = NodeRecord<NodeData>;

const nodesFile = (run: RunData) => join(run.dir, 'nodes.json');
const dotfileDir = (run: RunData) => join(run.dir, 'machines');
const keysDir = (run: RunData) => join(run.dir, 'keys');

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
export class VagrantDriver implements TypedDriver<RunData, NodeData> {
  readonly name = 'vagrant';

  #options(ctx: Pick<DriverContext, 'scenario'>): VagrantOptions {
    return parseOptions(ctx.scenario.name, ctx.scenario.driver.options);
  }

  /** Where this scenario's Vagrant things go; the same for every run of it. */
  #newRun(ctx: Pick<DriverContext, 'scenario' | 'stateDir'>, options: VagrantOptions): RunData {
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

  /** State is not a command: it must name only what this driver made for this scenario. */
  async verifyOwnership(ctx: DriverContext, state: State): Promise<void> {
    const options = this.#options(ctx);
    // What `#newRun` makes, for the provider the run was made with.
    const made = state.run ? this.#newRun(ctx, { ...options, provider: state.run.provider }) : undefined;
    verifyVagrantState(ctx, options, made, state, state.run?.daemon ? await allLeases() : []);
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

  #progress(ctx: Pick<DriverContext, 'log'>): VagrantRunOptions['onProgress'] {
    return (line, target) => ctx.log(line, target || undefined);
  }

  async sanityCheck(ctx: DriverContext): Promise<SanityProblem[]> {
    const options = this.#options(ctx);
    const run = this.#newRun(ctx, options);
    const imageCached = options.provider === 'docker' && cachedNodeImage(options.imageCacheDir) !== undefined;
    return await vagrantSanityProblems({ options, platforms: ctx.scenario.platforms, client: this.#client(run), vagrantHome: run.vagrantHome, imageCached });
  }

  async create(ctx: Context, platforms: PlatformConfig[], previous: State | undefined): Promise<State> {
    const options = this.#options(ctx);
    // Settings the node list cannot take fail here, before anything is made.
    buildNodeList(platforms, options);
    const state: State = { nodes: [...(previous?.nodes ?? [])], run: previous?.run };
    let run = state.run;
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
      state.run = undefined;
      run = undefined;
    }
    if (!run) {
      run = this.#newRun(ctx, options);
      state.run = run;
      await ctx.record(state);
    }
    const save = async () => {
      state.run = { ...run };
      await ctx.record(state);
    };
    await mkdir(run.dir, { recursive: true, mode: 0o700 });
    await mkdir(run.vagrantHome, { recursive: true, mode: 0o700 });
    const keyPath = resolve(ctx.stateDir, 'ssh', 'id_ed25519');
    const userKey = await ensureKeyPair(keyPath, `swarm-molecule ${ctx.scenario.name}`);

    let image: NodeImage | undefined;
    if (options.provider === 'docker') {
      image = await this.#startProvider(ctx, run, options, save);
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
        return await healLeftover(ctx, state, (s) => this.heal(ctx, s));
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
    return await healLeftover(ctx, state, (s) => this.heal(ctx, s));
  }

  async partition(ctx: Context, state: State, sides: PartitionSides): Promise<State> {
    const nodes = state.nodes.map((n) => ({ target: n, address: n.address ?? n.host }));
    return partitionInState(ctx, state, sides, () => applySshPartition(nodes, sides, ctx.signal));
  }

  async heal(ctx: Context, state: State): Promise<State> {
    return healInState(ctx, state, () => removeSshPartition(state.nodes, ctx.signal));
  }

  /**
   * The docker provider's own dockerd with the node image in it. Its subnet
   * lease is recorded before anything else exists, so that destroy releases it.
   */
  async #startProvider(ctx: Context, run: RunData, options: VagrantOptions, save: () => Promise<void>): Promise<NodeImage> {
    if (!run.daemon) {
      const subnet = await leaseSubnet(options.subnetPool, { driver: this.name, stateDir: ctx.stateDir, runId: run.runId, runDir: join(options.dataDir, run.runId) });
      run.daemon = planDaemon(run.runId, subnet, options.dataDir);
      await save();
    }
    if (!isAlive(run.daemon.process)) {
      await createUplink(run.daemon);
      run.daemon.process = await startDaemon(run.daemon);
      await save();
    }
    await waitForDaemon(run.daemon, ctx.signal);
    const image = await ensureNodeImage({ cacheDir: options.imageCacheDir, mirror: options.mirror, signal: ctx.signal, log: (line) => ctx.log(line) });
    const started = performance.now();
    if (await importNodeImage(dockerEnv(run.daemon), image, ctx.signal)) {
      ctx.log(`imported the node image ${image.tag} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    return image;
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
    ctx: Context,
    run: RunData,
    options: VagrantOptions,
    platforms: readonly PlatformConfig[],
    names: string[],
    keyPath: string,
  ): Promise<Node[]> {
    const result = await this.#client(run).run(['ssh-config', ...names], { signal: ctx.signal, timeoutMs: 120_000 });
    const configs = sshConfigsOf(result.lines, dirname(run.vagrantfile));
    return await Promise.all(
      names.map(async (name): Promise<Node> => {
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
  async #waitReady(ctx: Context, node: Node, options: VagrantOptions): Promise<void> {
    await waitUntilNodeAnswers(node, {
      timeoutMs: options.readyTimeoutSeconds * 1000,
      signal: ctx.signal,
      hint: `Run "swarm-molecule login -s ${ctx.scenario.name} -h ${node.name}" and look at /var/log/dockerd.log (docker provider) or "journalctl -u docker".`,
    });
    ctx.log(`up at ${node.host}`, node.name);
  }

  async destroy(ctx: Context, state: State): Promise<void> {
    const run = state.run;
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
    checkStateDir(ctx);
    const removed: string[] = [];
    const options = this.#options(ctx);
    const project = this.#newRun(ctx, options);
    if (isVmProvider(options.provider) && existsSync(nodesFile(project)) && existsSync(dotfileDir(project))) {
      await this.#client(project).run(['destroy', '-f'], { signal: ctx.signal, onProgress: this.#progress(ctx) });
      removed.push('the machines of the Vagrant project');
    }
    const runs = await sweepRuns(
      ctx,
      this.name,
      async (owner, lease) => {
        const daemon = planDaemon(owner.runId, lease.subnet, dirname(owner.runDir));
        await removeDaemon(daemon);
        return `its dockerd and every container, namespace ${daemon.netns}`;
      },
      { dataDir: options.dataDir, processMarker: DAEMON_MARKER },
    );
    removed.push(...runs);
    if (existsSync(project.dir)) {
      await rm(project.dir, { recursive: true, force: true, maxRetries: 3 });
      removed.push(`the Vagrant project ${project.dir}`);
    }
    for (const line of removed.filter((line) => !runs.includes(line))) ctx.log(`swept ${line}`);
    return removed;
  }

  async status(ctx: Context, state: State): Promise<Map<string, NodeStatus>> {
    const run = state.run;
    const statuses = new Map<string, NodeStatus>(state.nodes.map((n) => [n.name, 'missing']));
    if (!run || !existsSync(nodesFile(run))) return statuses;
    // Without its dockerd, no container of the run exists (and Vagrant could not ask).
    if (run.daemon && !isAlive(run.daemon.process)) return statuses;
    const ask = () => this.#client(run).run(['status'], { signal: ctx.signal, timeoutMs: STATUS_TIMEOUT_MS });
    // A read: on a loaded machine Vagrant (Ruby, a docker call per machine) can take minutes to start; ask once more.
    const result = await ask().catch((error: unknown) => {
      if (!(error instanceof VagrantTimedOut)) throw error;
      ctx.log(`"vagrant status" gave no answer in ${STATUS_TIMEOUT_MS / 1000} s; asking once more`);
      return ask();
    });
    for (const line of result.lines) {
      if (line.type === 'state' && statuses.has(line.target)) statuses.set(line.target, nodeStatusOf(line.data[0]));
    }
    return statuses;
  }

  async stop(ctx: Context, state: State, name: string): Promise<State> {
    const run = this.#run(state);
    this.#node(state, name);
    // --force: the power goes out, as in a crash (the docker provider stops the container).
    await this.#client(run).run(['halt', '--force', name], { signal: ctx.signal, onProgress: this.#progress(ctx) });
    ctx.log('stopped', name);
    return state;
  }

  async start(ctx: Context, state: State, name: string): Promise<State> {
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
    const next: State = { ...state, nodes: state.nodes.map((n) => (n.name === name ? node : n)) };
    await ctx.record(next);
    await this.#waitReady(ctx, node, options);
    ctx.log('started', name);
    return next;
  }

  #run(state: State): RunData {
    const run = state.run;
    if (!run) throw new InfraError('The state file has no vagrant run: the nodes were not created by this driver.');
    return run;
  }

  #node(state: State, name: string): Node {
    const node = state.nodes.find((n) => n.name === name);
    if (!node) throw new InfraError(`There is no node named ${name} in this scenario's state.`);
    return node;
  }
}

/** The vagrant driver as the lifecycle calls it: its state parsed with its schemas. */
export const vagrantDriver = (): Driver => defineDriver({ run: runSchema, node: nodeSchema }, new VagrantDriver());
