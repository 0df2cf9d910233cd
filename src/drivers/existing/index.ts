import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import pMap from 'p-map';
import { z } from 'zod';
import type { PlatformConfig } from '../../config/index.js';
import { InfraError, messageOf, UsageError } from '../../errors.js';
import { SshConnection } from '../../transport/index.js';
import { healInState, healLeftover, partitionInState, partitionPlan, partitionRecordSchema } from '../host/partition.js';
import { applySshPartition, removeSshPartition } from '../host/ssh-partition.js';
import { defineDriver, expectMade, refuse, type RunState, type TypedDriver, type TypedDriverContext } from '../state.js';
import type { Driver, DriverContext, NodeRecord, NodeStatus, PartitionSides, SanityProblem } from '../types.js';

const argv = z.array(z.string()).min(1);

const KNOWN_HOSTS_HINT = (file: string) =>
  `Check the hosts' SSH keys yourself; if they are right, remove ${file} so they are trusted again on first use.`;

/** `driver.options` of the existing driver; checked by `syntax` too. */
export const optionsSchema = z.strictObject({
  /** Commands run on each host by `create` (after it answers) and by `destroy`, as argument arrays. */
  createCommands: z.array(argv).default([]),
  destroyCommands: z.array(argv).default([]),
  /** Opt in: `destroy` makes each host leave the swarm (`docker swarm leave --force`). */
  leaveSwarmOnDestroy: z.boolean().default(false),
  /** How failover steps stop and start a host; default: stop and start its Docker service. */
  stopCommand: argv.default(['systemctl', 'stop', 'docker.socket', 'docker.service']),
  startCommand: argv.default(['systemctl', 'start', 'docker.service']),
  connectTimeoutSeconds: z.number().int().positive().default(30),
  /**
   * Opt in to partitions (the chaos steps) on hosts that are yours, not ours:
   * `iptables` applies swarm-molecule's own chain on each host over SSH (root,
   * or `sudo -n`); or your commands, `apply` run on each host with the
   * addresses it must stop hearing from as its last arguments, and `heal` run
   * on every host to undo it (it must succeed when nothing is in place).
   */
  partition: z.union([z.literal('iptables'), z.strictObject({ apply: argv, heal: argv })]).optional(),
});
type ExistingOptions = z.infer<typeof optionsSchema>;

/** The hosts outlive every run: the driver keeps no facts of its own about them but a partition it put in place. */
const runSchema = z.object({ partition: partitionRecordSchema.optional() });
const nodeSchema = z.object({});
type RunData = z.infer<typeof runSchema>;
type NodeData = z.infer<typeof nodeSchema>;
type State = RunState<RunData, NodeData>;
type Context = TypedDriverContext<RunData, NodeData>;

/**
 * Hosts that exist already (a staging fleet, CI machines): `create` and
 * `destroy` only check that they answer (and run the commands the scenario
 * gives). Host keys are trusted on first use and checked from then on.
 */
export class ExistingDriver implements TypedDriver<RunData, NodeData> {
  readonly name = 'existing';

  #options(ctx: Pick<DriverContext, 'scenario'>): ExistingOptions {
    return optionsSchema.parse(ctx.scenario.driver.options);
  }

  async sanityCheck(ctx: DriverContext): Promise<SanityProblem[]> {
    const problems: SanityProblem[] = [];
    for (const platform of ctx.scenario.platforms) {
      if (!platform.address) {
        problems.push({ problem: `Platform ${platform.name} has no address.`, fix: `Add "address: HOST" to ${platform.name} in ${ctx.scenario.file}.` });
      }
      const key = this.#identityFile(ctx, platform);
      if (!existsSync(key)) {
        problems.push({ problem: `The SSH key ${key} for ${platform.name} does not exist.`, fix: `Set "identityFile" of ${platform.name} to a private key that the host accepts.` });
      }
    }
    return problems;
  }

  #identityFile(ctx: Pick<DriverContext, 'scenario'>, platform: PlatformConfig): string {
    const file = platform.identityFile ?? join(homedir(), '.ssh', 'id_ed25519');
    if (file.startsWith('~/')) return join(homedir(), file.slice(2));
    return isAbsolute(file) ? file : resolve(ctx.scenario.dir, file);
  }

  /**
   * State is not a command: every recorded host must be a platform of the
   * scenario, reached as the scenario says (the state only adds its host key).
   */
  verifyOwnership(ctx: DriverContext, state: State): Promise<void> {
    state.nodes.forEach((node, i) => {
      const at = `driverState.nodes.${i}`;
      const platform = ctx.scenario.platforms.find((p) => p.name === node.name);
      if (!platform) refuse(ctx, `${at}.name`, `${JSON.stringify(node.name)} is not a platform of the scenario`);
      expectMade(ctx, `${at}.host`, node.host, platform.address);
      expectMade(ctx, `${at}.port`, node.port, platform.port ?? 22);
      expectMade(ctx, `${at}.user`, node.user, platform.user ?? 'root');
      expectMade(ctx, `${at}.identityFile`, node.identityFile, this.#identityFile(ctx, platform));
    });
    return Promise.resolve();
  }

  /** `host:port` → host key, kept beside the state so it outlives `destroy`. */
  async #knownHosts(ctx: Pick<DriverContext, 'stateDir'>): Promise<Record<string, string>> {
    const file = join(ctx.stateDir, 'known_hosts.json');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new UsageError(`The recorded host keys ${file} could not be read (${messageOf(error)}).`, { hint: KNOWN_HOSTS_HINT(file) });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const known = z.record(z.string(), z.string()).safeParse(parsed);
    // Never `{}`: that would trust every host's key again, whatever it is now.
    if (!known.success) throw new UsageError(`The recorded host keys ${file} are damaged.`, { hint: KNOWN_HOSTS_HINT(file) });
    return known.data;
  }

  async create(ctx: Context, platforms: PlatformConfig[], previous: State | undefined): Promise<State> {
    const options = this.#options(ctx);
    const state: State = { nodes: [], run: previous?.run?.partition ? { partition: previous.run.partition } : {} };
    const knownHosts = await this.#knownHosts(ctx);
    // Every host settles before the outcome is known: no host's lines after the verdict.
    const settled = await Promise.allSettled(platforms.map(async (platform) => {
      if (!platform.address) throw new UsageError(`Platform ${platform.name} has no address.`);
      const hostPort = `${platform.address}:${platform.port ?? 22}`;
      let hostKey = knownHosts[hostPort];
      const target: NodeRecord<NodeData> = {
        name: platform.name,
        host: platform.address,
        port: platform.port ?? 22,
        user: platform.user ?? 'root',
        identityFile: this.#identityFile(ctx, platform),
        ...(hostKey ? { hostKey } : {}),
        data: {},
      };
      const connection = new SshConnection(target, {
        timeoutMs: options.connectTimeoutSeconds * 1000,
        signal: ctx.signal,
        onFirstHostKey: (key) => {
          hostKey = key;
          knownHosts[hostPort] = key;
          ctx.log(`trusting host key on first use: ${key.slice(0, 40)}…`, platform.name);
        },
      });
      try {
        await connection.connect();
        const docker = await connection.run(['docker', 'version', '--format', '{{.Server.Version}}'], { timeoutMs: 30_000 });
        if (docker.exitCode !== 0) {
          throw new InfraError(`Docker does not answer on ${platform.name} (${platform.address}): ${docker.stderr.trim()}`, {
            hint: 'Install Docker on the host and make sure the SSH user may run "docker".',
          });
        }
        for (const command of options.createCommands) await this.#runChecked(connection, platform.name, command);
        ctx.log(`reachable, Docker ${docker.stdout.trim()}`, platform.name);
      } finally {
        connection.close();
      }
      return { ...target, ...(hostKey ? { hostKey } : {}) };
    }));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const nodes = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    await writeFile(join(ctx.stateDir, 'known_hosts.json'), `${JSON.stringify(knownHosts, null, 2)}\n`, { mode: 0o600 });
    state.nodes = nodes;
    await ctx.record(state);
    // A partition an interrupted verify left in place: the hosts must reach each other again.
    return await healLeftover(ctx, state, (s) => this.heal(ctx, s));
  }

  /** How partitions are made on these hosts, or a usage error: they are the user's, so only when the scenario says how. */
  #partitionWay(ctx: Context): NonNullable<ExistingOptions['partition']> {
    const way = this.#options(ctx).partition;
    if (!way) {
      throw new UsageError('The existing driver partitions hosts only when the scenario says how.', {
        hint: `Set driver.options.partition in ${ctx.scenario.file}: "iptables" (swarm-molecule's own chain, over SSH), or { apply: [...], heal: [...] } commands of yours.`,
      });
    }
    return way;
  }

  async partition(ctx: Context, state: State, sides: PartitionSides): Promise<State> {
    const way = this.#partitionWay(ctx);
    const withRun: State = { ...state, run: state.run ?? {} };
    if (way === 'iptables') {
      const nodes = state.nodes.map((n) => ({ target: n, address: n.address ?? n.host }));
      return partitionInState(ctx, withRun, sides, () => applySshPartition(nodes, sides, ctx.signal));
    }
    const plan = partitionPlan(
      state.nodes.map((n) => ({ name: n.name, address: n.address ?? n.host })),
      sides,
    );
    return partitionInState(ctx, withRun, sides, async () => {
      await pMap(state.nodes, async (node) => {
        const dropFrom = plan.get(node.name) ?? [];
        if (dropFrom.length > 0) await this.#onNode(ctx, state, node.name, [...way.apply, ...dropFrom]);
      });
    });
  }

  async heal(ctx: Context, state: State): Promise<State> {
    const way = this.#partitionWay(ctx);
    const withRun: State = { ...state, run: state.run ?? {} };
    return healInState(ctx, withRun, () =>
      way === 'iptables'
        ? removeSshPartition(state.nodes, ctx.signal)
        : pMap(state.nodes, (node) => this.#onNode(ctx, state, node.name, way.heal)).then(() => undefined),
    );
  }

  async #runChecked(connection: SshConnection, node: string, command: string[]): Promise<void> {
    const result = await connection.run(command, { timeoutMs: 600_000 });
    if (result.exitCode !== 0) {
      throw new InfraError(`"${command.join(' ')}" exited ${result.exitCode} on ${node}: ${result.stderr.trim() || result.stdout.trim()}`);
    }
  }

  async destroy(ctx: Context, state: State): Promise<void> {
    const options = this.#options(ctx);
    // The hosts outlive the run; the filter rules we put on them must not.
    await healLeftover(ctx, state, (s) => this.heal(ctx, s));
    const commands = [...(options.leaveSwarmOnDestroy ? [['docker', 'swarm', 'leave', '--force']] : []), ...options.destroyCommands];
    if (commands.length === 0) return;
    const failures: string[] = [];
    await pMap(state.nodes, async (node) => {
      const connection = new SshConnection(node, { timeoutMs: options.connectTimeoutSeconds * 1000, signal: ctx.signal });
      try {
        for (const command of commands) {
          const result = await connection.run(command, { timeoutMs: 120_000 });
          // Leaving a swarm the host is not in is fine.
          if (result.exitCode !== 0 && !/not part of a swarm/.test(result.stderr)) failures.push(`${node.name}: ${result.stderr.trim()}`);
        }
        ctx.log('cleaned up', node.name);
      } catch (error) {
        failures.push(`${node.name}: ${messageOf(error)}`);
      } finally {
        connection.close();
      }
    });
    if (failures.length > 0) throw new InfraError(`Could not clean up every host: ${failures.join('; ')}`);
  }

  async status(ctx: Context, state: State): Promise<Map<string, NodeStatus>> {
    const statuses = new Map<string, NodeStatus>();
    await pMap(state.nodes, async (node) => {
      const connection = new SshConnection(node, { timeoutMs: 5000, signal: ctx.signal });
      try {
        const result = await connection.run(['docker', 'info', '--format', '{{.ID}}'], { timeoutMs: 10_000 });
        statuses.set(node.name, result.exitCode === 0 ? 'running' : 'stopped');
      } catch {
        statuses.set(node.name, 'stopped');
      } finally {
        connection.close();
      }
    });
    return statuses;
  }

  async stop(ctx: Context, state: State, name: string): Promise<State> {
    await this.#onNode(ctx, state, name, this.#options(ctx).stopCommand);
    return state;
  }

  async start(ctx: Context, state: State, name: string): Promise<State> {
    await this.#onNode(ctx, state, name, this.#options(ctx).startCommand);
    return state;
  }

  async #onNode(ctx: Context, state: State, name: string, command: string[]): Promise<void> {
    const node = state.nodes.find((n) => n.name === name);
    if (!node) throw new InfraError(`There is no node named ${name} in this scenario's state.`);
    const connection = new SshConnection(node, { timeoutMs: this.#options(ctx).connectTimeoutSeconds * 1000, signal: ctx.signal });
    try {
      await this.#runChecked(connection, name, command);
    } finally {
      connection.close();
    }
  }
}

/** The existing driver as the lifecycle calls it. */
export const existingDriver = (): Driver => defineDriver({ run: runSchema, node: nodeSchema }, new ExistingDriver());
