import { randomBytes, randomInt } from 'node:crypto';
import { dirname, join } from 'node:path';
import type Docker from 'dockerode';
import pMap from 'p-map';
import { z } from 'zod';
import type { PlatformConfig } from '../../config/index.js';
import { InfraError, UsageError } from '../../errors.js';
import { ensureKeyPair, generateKeyPair } from '../../transport/index.js';
import { tar } from '../../transport/tar.js';
import { hasProgram } from '../host/command.js';
import { cachedNodeImage, ensureNodeImage, INIT_PATH } from '../host/node-image/index.js';
import { healInState, healLeftover, partitionInState, partitionRecordSchema } from '../host/partition.js';
import { waitUntilNodeAnswers, type ReadyTimes } from '../ready.js';
import { defineDriver, keepPlatformNodes, type RunState, type TypedDriver, type TypedDriverContext } from '../state.js';
import type { Driver, DriverContext, NodeRecord, NodeStatus, PartitionSides, SanityProblem } from '../types.js';
import { engineClient, engineMessage, statusOf, unreachable } from '../../transport/docker-engine/client.js';
import { followProgress, hasImage, importArchive } from './client.js';
import { describeEngine, isLocalEngine, publishedHost, resolveEngine, type EngineAddress } from '../../transport/docker-engine/address.js';
import { labelsOf, LABEL, removeLabelled } from './labels.js';
import { pickSubnet, routeFrom, userNetworkBase } from './network.js';
import { optionsSchema, type DockerOptions } from './options.js';
import { verifyDockerState } from './ownership.js';
import { applyContainerPartition, removeContainerPartition } from './partition.js';

export { optionsSchema } from './options.js';

/** What the state file keeps about a run: its id (every name and label carries it), network and subnet. */
const runSchema = z.object({
  runId: z.string().regex(/^[0-9a-f]{6,32}$/),
  network: z.string(),
  /** The run's /24, e.g. `10.215.3` (`.1` is the network's gateway). */
  subnet: z.string().regex(/^\d{1,3}\.\d{1,3}\.\d{1,3}$/).optional(),
  /** How the harness reaches the nodes: their addresses, or ports published on the engine's host. */
  connect: z.enum(['address', 'published']).optional(),
  /** The engine the run was made on, for messages (`unix:///var/run/docker.sock (DOCKER_HOST)`). */
  engine: z.string(),
  /** The partition in place (see ./partition.ts); its rules live in the containers' network namespaces and go with them. */
  partition: partitionRecordSchema.optional(),
});
type RunData = z.infer<typeof runSchema>;

/** What the state file keeps about a node: its container and the volume of its /var/lib/docker. */
const nodeSchema = z.object({
  index: z.number().int().nonnegative(),
  container: z.string(),
  volume: z.string(),
});
type NodeData = z.infer<typeof nodeSchema>;

type State = RunState<RunData, NodeData>;
type Context = TypedDriverContext<RunData, NodeData>;
type Node = NodeRecord<NodeData>;

/** Every name of a run starts with this and its run id. */
export const namesOf = (runId: string) => ({
  network: `smd-${runId}`,
  container: (node: string) => `smd-${runId}-${node}`,
  volume: (node: string) => `smd-${runId}-${node}-docker`,
});

/** A node's address on the run's network: `.1` is the gateway, nodes from `.11`. */
export const nodeAddress = (subnet: string, index: number): string => `${subnet}.${11 + index}`;

/** Where a published sshd port is taken from: above the usual ephemeral range of neither Linux nor Docker Desktop. */
const PORT_RANGE = [20_000, 32_000] as const;

/**
 * Real nodes as containers on any Docker engine (kind's model): each node a
 * container of the node image running its own dockerd and sshd, its
 * /var/lib/docker on its own volume, on one bridge network per run. Reached
 * over SSH like every other driver's nodes: at their addresses when this
 * machine routes to them, else at a port published on the engine's host.
 */
export class DockerDriver implements TypedDriver<RunData, NodeData> {
  readonly name = 'docker';

  #options(ctx: Pick<DriverContext, 'scenario'>): DockerOptions {
    return optionsSchema.parse(ctx.scenario.driver.options);
  }

  /** The engine, found as the docker CLI finds it (DOCKER_HOST, contexts), and a client of it. */
  #engine(): { address: EngineAddress; docker: Docker } {
    const address = resolveEngine({ env: process.env });
    return { address, docker: engineClient(address) };
  }

  /** The engine, answering: one that does not is an infrastructure error that says what to do. */
  async #connected(): Promise<{ address: EngineAddress; docker: Docker }> {
    const engine = this.#engine();
    await engine.docker.ping().catch((error: unknown) => {
      const { problem, fix } = unreachable(engine.address, error);
      throw new InfraError(problem, { hint: fix });
    });
    return engine;
  }

  async sanityCheck(ctx: DriverContext): Promise<SanityProblem[]> {
    const options = this.#options(ctx);
    let engine: { address: EngineAddress; docker: Docker };
    try {
      engine = this.#engine();
    } catch (error) {
      if (error instanceof UsageError) return [{ problem: error.message, fix: error.hint ?? 'Fix DOCKER_HOST or the docker context.' }];
      throw error;
    }
    try {
      await engine.docker.ping();
    } catch (error) {
      return [unreachable(engine.address, error)];
    }
    const problems: SanityProblem[] = [];
    if (!options.image && !cachedNodeImage(options.imageCacheDir)) {
      if (process.getuid?.() !== 0) {
        problems.push({
          problem: `The node image is not built yet (cache ${options.imageCacheDir}), and building it (debootstrap) needs root.`,
          fix: 'Build it once as root: "sudo npx swarm-molecule image build"; or name an image in driver.options.image.',
        });
      } else if (!(await hasProgram('debootstrap'))) {
        problems.push({ problem: 'debootstrap is not installed (it builds the node image).', fix: 'apt-get install -y debootstrap debian-archive-keyring' });
      }
    }
    const info = (await engine.docker.info().catch(() => undefined)) as { CgroupVersion?: string; SecurityOptions?: string[] } | undefined;
    if (info?.CgroupVersion === '2' && !options.privileged && info.SecurityOptions?.some((o) => o.includes('rootless'))) {
      problems.push({
        problem: `The engine ${describeEngine(engine.address)} is rootless on cgroup v2: the nodes' own dockerd cannot manage cgroups without a writable delegation.`,
        fix: 'Delegate cgroup controllers to the user (systemd: Delegate=yes for user@.service), or use a rootful engine.',
      });
    }
    return problems;
  }

  async create(ctx: Context, platforms: PlatformConfig[], previous: State | undefined): Promise<State> {
    const options = this.#options(ctx);
    const { address, docker } = await this.#connected();
    // Before anything else exists: a build that fails leaves nothing to clean up.
    const image = await this.#image(ctx, options, docker);
    const state: State = { nodes: [...(previous?.nodes ?? [])], run: previous?.run };
    let run = state.run;
    if (run && !(await this.#exists(docker.getNetwork(run.network).inspect()))) {
      // The engine lost the run (a restart, a prune): start clean rather than half-reuse it.
      ctx.log(`network ${run.network} is gone; recreating every node`);
      await this.destroy(ctx, state);
      state.nodes = [];
      run = undefined;
    }
    if (!run) {
      const runId = randomBytes(3).toString('hex');
      // Recorded before anything exists: an interrupt from here on is cleaned up by the run's label.
      run = { runId, network: options.network ?? namesOf(runId).network, engine: describeEngine(address) };
      state.run = run;
      await ctx.record(state);
      // A network of the user's is used as it is; otherwise the run makes its own.
      const subnet = options.network
        ? await userNetworkBase(docker, options.network)
        : await pickSubnet(docker, options.subnetPool, run.network, labelsOf(ctx, runId), ctx.signal);
      const connect = options.connect === 'auto' ? ((await this.#routable(address, subnet)) ? 'address' : 'published') : options.connect;
      run = { ...run, subnet, connect };
      state.run = run;
      await ctx.record(state);
      ctx.log(`network ${run.network} (${subnet}.0/24) on ${run.engine}; nodes reached at ${connect === 'address' ? 'their addresses' : `ports published on ${publishedHost(address)}`}`);
    }
    // A partition an interrupted verify left in place: the nodes must reach each other again.
    const healed = await healLeftover(ctx, state, (s) => this.heal(ctx, s));
    state.run = healed.run;
    run = healed.run ?? run;
    const runData = run;
    const keyPath = join(ctx.stateDir, 'ssh', 'id_ed25519');
    const userKey = await ensureKeyPair(keyPath, `swarm-molecule ${ctx.scenario.name}`);

    // Nodes that are no longer in the scenario go.
    const save = await keepPlatformNodes(ctx, state, platforms, async (node) => {
      await removeLabelled(docker, { ...labelsOf(ctx, runData.runId), [LABEL.node]: node.name });
    });

    await pMap(
      platforms,
      async (platform, index) => {
        const existing = state.nodes.find((n) => n.name === platform.name);
        const container = existing ? await this.#inspect(docker, existing.data.container) : undefined;
        if (existing && container) {
          if (!container.State.Running) {
            ctx.log('not running; starting it again', platform.name);
            await docker.getContainer(existing.data.container).start();
          } else {
            ctx.log('already running', platform.name);
          }
          await this.#waitReady(existing, options, ctx);
          return;
        }
        const record = await this.#makeNode(ctx, docker, address, runData, platform, existing?.data.index ?? index, keyPath, userKey.publicKey, image, options, save);
        await this.#waitReady(record, options, ctx);
        ctx.log(`up at ${record.host}:${record.port}`, platform.name);
      },
      { concurrency: platforms.length || 1, signal: ctx.signal },
    );
    return state;
  }

  /** The node image's name on the engine: the user's (pulled when missing), or ours (built and imported when missing). */
  async #image(ctx: Context, options: DockerOptions, docker: Docker): Promise<string> {
    if (options.image) {
      if (await hasImage(docker, options.image)) return options.image;
      ctx.log(`pulling ${options.image}`);
      try {
        await followProgress(docker, await docker.pull(options.image), ctx.signal);
      } catch (error) {
        throw new InfraError(`The engine could not pull the node image ${options.image}: ${engineMessage(error)}`, {
          hint: 'Load the image into the engine ("docker load"), or leave driver.options.image unset to use the node image swarm-molecule builds.',
        });
      }
      return options.image;
    }
    const image = await ensureNodeImage({ cacheDir: options.imageCacheDir, mirror: options.mirror, signal: ctx.signal, log: (line) => ctx.log(line) });
    if (!(await hasImage(docker, image.tag))) {
      const started = performance.now();
      try {
        await importArchive(docker, image.archive, image.tag, [INIT_PATH], ctx.signal);
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        throw new InfraError(`Importing the node image into the engine failed: ${engineMessage(error)}`, {
          hint: `The cached image ${image.dir} may be damaged: remove it ("swarm-molecule image rm ${image.hash}") and run again to rebuild it.`,
        });
      }
      ctx.log(`imported the node image ${image.tag} into the engine in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    return image.tag;
  }

  /** Whether this machine routes to the run's network other than by its default route (a local engine on Linux). */
  async #routable(address: EngineAddress, subnet: string): Promise<boolean> {
    if (!isLocalEngine(address) || process.platform !== 'linux') return false;
    return (await routeFrom(nodeAddress(subnet, 0))) !== undefined;
  }

  async #makeNode(
    ctx: Context,
    docker: Docker,
    address: EngineAddress,
    run: RunData,
    platform: PlatformConfig,
    index: number,
    keyPath: string,
    userKey: string,
    image: string,
    options: DockerOptions,
    save: (node: Node) => Promise<void>,
  ): Promise<Node> {
    const names = namesOf(run.runId);
    const subnet = run.subnet ?? '';
    const published = run.connect === 'published';
    const labels = { ...labelsOf(ctx, run.runId), [LABEL.node]: platform.name };
    const data: NodeData = { index, container: names.container(platform.name), volume: names.volume(platform.name) };
    const hostKey = generateKeyPair(`${platform.name} host key`);
    // Published: a port of our choosing, so that a node keeps it across stop and start.
    let port = published ? randomInt(PORT_RANGE[0], PORT_RANGE[1]) : 22;
    const record = (): Node => ({
      name: platform.name,
      host: published ? publishedHost(address) : nodeAddress(subnet, index),
      port,
      address: nodeAddress(subnet, index),
      user: 'root',
      identityFile: keyPath,
      hostKey: hostKey.publicKey,
      data,
    });
    await save(record());
    await docker.createVolume({ Name: data.volume, Labels: labels });
    // The harness as the node sees it: the node's init routes to it only (no default route).
    const harness = published ? `${subnet}.1` : ((await routeFrom(nodeAddress(subnet, index)))?.source ?? `${subnet}.1`);
    const memory = platform.memory ?? options.memory;
    const cpus = platform.cpus ?? options.cpus;
    for (let attempt = 1; ; attempt++) {
      const container = await docker.createContainer({
        name: data.container,
        Hostname: platform.name,
        Image: platform.box ?? image,
        Labels: labels,
        Env: [`SWARM_MOLECULE_HARNESS=${harness}/32`],
        ...(published ? { ExposedPorts: { '22/tcp': {} } } : {}),
        HostConfig: {
          ...(options.privileged
            ? { Privileged: true }
            : {
                // Where privileged is refused (no CAP_SYS_RESOURCE): what dockerd in the node needs, one by one.
                CapAdd: ['ALL'],
                CapDrop: ['SYS_RESOURCE'],
                SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
                // The CLI's "systempaths=unconfined": /proc and /sys neither masked nor read-only.
                MaskedPaths: [],
                ReadonlyPaths: [],
                DeviceCgroupRules: ['a *:* rwm'],
              }),
          NetworkMode: run.network,
          Mounts: [{ Type: 'volume', Source: data.volume, Target: '/var/lib/docker' }],
          ...(published ? { PortBindings: { '22/tcp': [{ HostIp: isLocalEngine(address) ? '127.0.0.1' : '', HostPort: String(port) }] } } : {}),
          ...(memory ? { Memory: memory * 2 ** 20 } : {}),
          ...(cpus ? { NanoCpus: Math.round(cpus * 1e9) } : {}),
        },
        NetworkingConfig: { EndpointsConfig: { [run.network]: { IPAMConfig: { IPv4Address: nodeAddress(subnet, index) } } } },
      });
      // Keys reach the node through the engine (a remote engine has no access to this machine's files).
      await container.putArchive(
        tar([
          { type: 'dir', path: 'swarm-molecule', mode: 0o700 },
          { type: 'file', path: 'swarm-molecule/authorized_keys', content: `${userKey}\n`, mode: 0o600 },
          { type: 'file', path: 'swarm-molecule/ssh_host_ed25519_key', content: hostKey.privateKey, mode: 0o600 },
        ]),
        { path: '/etc' },
      );
      try {
        await container.start();
        break;
      } catch (error) {
        await container.remove({ force: true }).catch(() => undefined);
        const message = engineMessage(error);
        if (published && /port is already allocated|address already in use/i.test(message) && attempt < 5) {
          port = randomInt(PORT_RANGE[0], PORT_RANGE[1]);
          await save(record());
          continue;
        }
        throw startFailed(platform.name, options, message);
      }
    }
    const made = record();
    await save(made);
    return made;
  }

  /** Wait until the node answers SSH and its dockerd answers. */
  #waitReady(node: Node, options: DockerOptions, ctx: Context): Promise<ReadyTimes> {
    return waitUntilNodeAnswers(node, {
      timeoutMs: options.readyTimeoutSeconds * 1000,
      signal: ctx.signal,
      hint: `See the node's log: "swarm-molecule exec -s ${ctx.scenario.name} -h ${node.name} -- tail /var/log/dockerd.log", or the engine's ("docker logs ${node.data.container}").`,
    });
  }

  async #inspect(docker: Docker, name: string): Promise<Docker.ContainerInspectInfo | undefined> {
    try {
      return await docker.getContainer(name).inspect();
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async #exists(inspection: Promise<unknown>): Promise<boolean> {
    try {
      await inspection;
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
  }

  /** Everything of the run goes, found by its labels (so also what a create made before it could record it). */
  async destroy(ctx: Context, state: State): Promise<void> {
    const run = state.run;
    if (!run) return;
    const { docker } = await this.#connected();
    const removed = await removeLabelled(docker, labelsOf(ctx, run.runId));
    for (const node of state.nodes) ctx.log('destroyed', node.name);
    if (removed.length > 0) ctx.log(`removed ${removed.join(', ')} of run ${run.runId}`);
  }

  /** State is not a command: it must name only what this driver would have made for this scenario. */
  verifyOwnership(ctx: DriverContext, state: State): Promise<void> {
    verifyDockerState(ctx, this.#options(ctx), state, namesOf, nodeAddress);
    return Promise.resolve();
  }

  /** Without the state file: everything on the engine labelled with this project and scenario. */
  async sweep(ctx: DriverContext): Promise<string[]> {
    // No engine socket at all (a machine without Docker): nothing of ours can be on it.
    // An engine that exists but refuses is still an error: it may hold our containers.
    const noSocket = await this.#engine().docker.ping().then(
      () => false,
      (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT',
    );
    if (noSocket) return [];
    const { docker } = await this.#connected();
    const labels = labelsOf(ctx);
    const removed = await removeLabelled(docker, labels);
    if (removed.length === 0) return [];
    const line = `docker objects of scenario "${ctx.scenario.name}" in ${dirname(dirname(ctx.stateDir))}: ${removed.join(', ')}`;
    ctx.log(`swept ${line}`);
    return [line];
  }

  async status(_ctx: Context, state: State): Promise<Map<string, NodeStatus>> {
    const { docker } = await this.#connected();
    const statuses = new Map<string, NodeStatus>();
    for (const node of state.nodes) {
      const container = await this.#inspect(docker, node.data.container);
      statuses.set(node.name, container === undefined ? 'missing' : container.State.Running ? 'running' : 'stopped');
    }
    return statuses;
  }

  /** A crash: every process of the node dies at once (SIGKILL to the container); its volume and container stay. */
  async stop(ctx: Context, state: State, name: string): Promise<State> {
    const node = this.#node(state, name);
    const { docker } = await this.#connected();
    const container = await this.#inspect(docker, node.data.container);
    if (container?.State.Running) await docker.getContainer(node.data.container).kill({ signal: 'SIGKILL' });
    ctx.log('stopped', name);
    return state;
  }

  async start(ctx: Context, state: State, name: string): Promise<State> {
    const node = this.#node(state, name);
    const { docker } = await this.#connected();
    const container = await this.#inspect(docker, node.data.container);
    if (!container) throw new InfraError(`The container ${node.data.container} of ${name} is gone from the engine.`, { hint: `Run "swarm-molecule create -s ${ctx.scenario.name}" to make it again.` });
    if (!container.State.Running) await docker.getContainer(node.data.container).start();
    await this.#waitReady(node, this.#options(ctx), ctx);
    ctx.log('started', name);
    return state;
  }

  async partition(ctx: Context, state: State, sides: PartitionSides): Promise<State> {
    const { docker } = await this.#connected();
    const nodes = state.nodes.map((n) => ({ name: n.name, container: n.data.container, address: n.address ?? n.host }));
    return partitionInState(ctx, state, sides, () => applyContainerPartition(docker, nodes, sides));
  }

  async heal(ctx: Context, state: State): Promise<State> {
    const { docker } = await this.#connected();
    return healInState(ctx, state, () => removeContainerPartition(docker, state.nodes.map((n) => ({ name: n.name, container: n.data.container }))));
  }

  #node(state: State, name: string): Node {
    const node = state.nodes.find((n) => n.name === name);
    if (!node) throw new InfraError(`There is no node named ${name} in this scenario's state.`);
    return node;
  }
}

/** A container that would not start: privileged refused gets its own way out. */
function startFailed(node: string, options: DockerOptions, message: string): InfraError {
  if (options.privileged && /privileged|operation not permitted|permission denied/i.test(message)) {
    return new InfraError(`The engine refused to start ${node} as a privileged container: ${message}`, {
      hint: 'Set driver.options.privileged: false (nodes then get every capability but SYS_RESOURCE, and no seccomp or AppArmor profile), or use an engine that allows privileged containers.',
    });
  }
  return new InfraError(`The engine could not start the container of ${node}: ${message}`);
}

/** The docker driver as the lifecycle calls it: its state parsed with its schemas. */
export const dockerDriver = (): Driver => defineDriver({ run: runSchema, node: nodeSchema }, new DockerDriver());
