import type { z } from 'zod';
import type { PlatformConfig, Scenario, StepConfig } from '../config/index.js';
import type { DriverCapability } from '../drivers/types.js';
import type { CommandResult, DockerApiRequest, DockerApiResponse, EngineCall, RunOptions } from '../transport/index.js';

/** A node as steps see it: its platform facts and a way to run commands on it. */
export interface Host {
  readonly name: string;
  /** The node's own address on the node network (use it for `--advertise-addr`). */
  readonly address: string;
  readonly groups: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** Run a command (an argument array, never a shell string); resolves whatever the exit code. */
  run(argv: readonly string[], options?: RunOptions): Promise<CommandResult>;
  /** Run a command and return its trimmed stdout; rejects with stderr when it exits non-zero. */
  check(argv: readonly string[], options?: RunOptions): Promise<string>;
  /** `check(['docker', ...args])`. */
  docker(args: readonly string[], options?: RunOptions): Promise<string>;
  /**
   * `check` for a read whose answer several steps need (e.g. the node's swarm
   * state): answered from the action's cache when the same read ran since the
   * last command that was not a read, on any node.
   */
  read(argv: readonly string[]): Promise<string>;
  /**
   * A request to the node's Docker Engine API, forwarded over SSH: for values
   * that must not appear in any process's arguments (a join token).
   */
  dockerApi(request: DockerApiRequest): Promise<DockerApiResponse>;
  /**
   * A call to the node's Docker Engine API through dockerode, over this host's
   * SSH connection (sshd forwards each request to the node's Docker socket; no
   * process starts on the node): typed answers, no CLI text. Resolves
   * `undefined` where the node's sshd will not forward the socket (the reason is
   * in the node log, once): do the same with `docker` then. With `read`, the
   * answer is shared as `read`'s are; a call whose label is not a `GET`
   * forgets the reads.
   */
  engine<T>(call: EngineCall<T>, options?: { read?: boolean }): Promise<T | undefined>;
}

/** Control of the nodes themselves, for steps that test failures. */
export interface NodeControl {
  /** Stop a node as a crash would; its disk is kept. */
  stop(node: string): Promise<void>;
  /** Start a stopped node and wait until it answers SSH and Docker. */
  start(node: string): Promise<void>;
  /**
   * Cut the node network between two sets of nodes (both ways, every protocol;
   * the harness still reaches every node); replaces a partition in place.
   * Only for steps that declare `needs: ['partition']`.
   */
  partition(sideA: readonly string[], sideB: readonly string[]): Promise<void>;
  /** A partition of one: `node` against every other node. */
  isolate(node: string): Promise<void>;
  /** Remove the partition in place, if any. */
  heal(): Promise<void>;
}

/** The scenario as steps see it. */
export interface ScenarioInfo {
  readonly name: string;
  /** Absolute path of the scenario directory: files a step reads (a compose file) are relative to it. */
  readonly dir: string;
  readonly platforms: readonly PlatformConfig[];
  /** The converge entries, so a verify step can tell what converge was asked to do. */
  readonly converge: readonly StepConfig[];
}

/** What every step gets. */
export interface StepContext<Options> {
  readonly options: Options;
  readonly scenario: ScenarioInfo;
  /** Every node of the scenario. */
  readonly hosts: readonly Host[];
  host(name: string): Host;
  /** Hosts of a group (a platform name also works, for one host). */
  group(name: string): Host[];
  /** The one host in `swarm-leader`. */
  leader(): Host;
  /** Hosts in `swarm-leader` or `swarm-manager`. */
  managers(): Host[];
  /** Hosts in `swarm-worker` and in no manager group. */
  workers(): Host[];
  /** A progress line under the step. */
  log(message: string): void;
  /** Never show this value (a token, a password): it is masked in all output. */
  secret(value: string): void;
  /**
   * Compute a value once per run of the step and share it between its hosts
   * (e.g. a join token read from the leader).
   */
  shared<T>(key: string, compute: () => Promise<T>): Promise<T>;
  /** Aborted on the first Ctrl-C: stop what the step is doing. */
  readonly signal: AbortSignal;
  /**
   * Aborted only on a second Ctrl-C: pass it (`host.run(argv, { signal })`) to
   * the commands that remove what the step made, so they run after the first.
   */
  readonly cleanupSignal: AbortSignal;
}

/** What a converge step did on one host. */
export type HostOutcome =
  | { status: 'ok'; message?: string }
  | { status: 'changed'; changes: string[] }
  | { status: 'skipped'; reason: string };

export const ok = (message?: string): HostOutcome => (message ? { status: 'ok', message } : { status: 'ok' });
/** Each change as `what: before → after`, e.g. `swarm: inactive → worker`. */
export const changed = (...changes: string[]): HostOutcome => ({ status: 'changed', changes });
export const skipped = (reason: string): HostOutcome => ({ status: 'skipped', reason });

/** A problem a step finds in the scenario before any node exists (shown by `syntax`). */
export interface StepRequirementProblem {
  message: string;
  /** Path under the step entry, e.g. `['with', 'replicas']`; the entry itself when absent. */
  path?: PropertyKey[];
  /** What to do about it; by default, that the step cannot run as written. */
  hint?: string;
}

interface StepDefinitionBase<Options> {
  /** `area/verb-thing`, e.g. `swarm/join-workers`. */
  name: string;
  description: string;
  /** Options given under `with:`; validated by `syntax`. */
  options?: z.ZodType<Options>;
  /**
   * What the step needs from the scenario (groups, numbers of managers); checked
   * by `syntax` with the options already validated.
   */
  requirements?(scenario: Scenario, options: Options): StepRequirementProblem[];
  /** What the scenario's driver must be able to do (e.g. `partition`); checked by `syntax`. */
  needs?: readonly DriverCapability[];
}

/**
 * What a converge step needs before it may run on a host, besides its own
 * earlier steps on that host (see `ConvergeStepDefinition.graph`).
 * - `swarm`: the swarm exists — an earlier step has made the swarm-leader host a
 *   member (initialised it), so the leader can hand out join tokens and change nodes.
 * - `member`: this host is in the swarm — an earlier step has joined it.
 */
export type StepNeed = 'swarm' | 'member';

/** What holds on a host once a step has ended there without failing: `member`, the host is in the swarm. */
export type StepFact = 'member';

/** A converge step's place in the walk of the converge graph. */
export interface StepGraph {
  /** What must hold first, besides the host's own earlier steps; a need that no earlier step provides makes the step wait for every earlier step. */
  needs?: readonly StepNeed[];
  /** What holds on a host once the step has ended there, for the steps after it that need it. */
  provides?: readonly StepFact[];
}

export interface ConvergeStepDefinition<Options = Record<string, unknown>> extends StepDefinitionBase<Options> {
  kind: 'converge';
  /**
   * Opt in to the walk per host: the step's entry may run on a host as soon as
   * the host's own earlier steps have ended there and what `needs` names holds,
   * while other hosts are still in earlier steps. Without it the step is a
   * barrier: it starts once every earlier step has ended on every host, and no
   * later step starts before it has ended on all of its hosts.
   */
  graph?: StepGraph;
  /**
   * Default hosts: a group or platform name, `all`, or a function of the
   * context (e.g. every manager). The scenario's `hosts:` overrides it.
   */
  hosts: string | ((ctx: StepContext<Options>) => readonly Host[]);
  /** Apply to one host at a time, in platform order (e.g. manager joins). */
  serial?: boolean;
  /**
   * Reads the step will need, done by the runner for every step at once, in
   * parallel, before the first step runs (as Ansible gathers facts); use
   * `host.read` for them here and in `apply`.
   */
  gather?(ctx: StepContext<Options>, hosts: readonly Host[]): Promise<unknown>;
  /**
   * Bring one host to the wanted state. Read the real state first and return
   * `ok()` when nothing was to be done, `changed(...)` with what changed
   * otherwise; throw to fail.
   */
  apply(ctx: StepContext<Options>, host: Host): Promise<HostOutcome>;
}

/** A measured duration or count reported with a verify step (e.g. leader election time). */
export interface Measurement {
  name: string;
  value: number;
  unit: 'ms' | 's' | 'count';
}

export interface EventuallyOptions {
  /** Give up after this long; default 60 s. */
  timeout?: number;
  /** Wait this long between tries; default 500 ms. */
  interval?: number;
  /** What is awaited, for the failure message (e.g. "a new leader"). */
  description?: string;
}

export interface VerifyContext<Options> extends StepContext<Options> {
  /**
   * Retry `check` until it returns without throwing; on timeout fail with the
   * last error and the last value `check` observed (via `observe`). The live
   * line shows each observed value as it changes: `summary` when given (one
   * line, e.g. "2/3 tasks of app:v2 running"), else the value itself.
   */
  eventually<T>(check: (observe: (value: unknown, summary?: string) => void) => Promise<T>, options?: EventuallyOptions): Promise<T>;
  /**
   * For a wait that is not an `eventually` (a loop of its own): show on the
   * live line what the step waits for, its timeout, and what it last saw.
   */
  waiting(description: string, progress?: { timeout?: number; observed?: string }): void;
  /** Report a measured figure with the step's result. */
  measure(name: string, value: number, unit?: Measurement['unit']): void;
  /** Stop or start nodes through the scenario's driver. */
  readonly nodes: NodeControl;
}

export interface VerifyStepDefinition<Options = Record<string, unknown>> extends StepDefinitionBase<Options> {
  kind: 'verify';
  /** Stops nodes or changes the cluster; it must restore what it changed before it returns. */
  disruptive?: boolean;
  /**
   * Touches nothing another step looks at (reads, or only objects of its own):
   * it runs at the same time as the verify steps next to it in the list that
   * say so too. Ignored on a disruptive step. Output stays in the list's order.
   */
  concurrent?: boolean;
  /** Throw `AssertionFailed` (or any error) to fail; return `{ skipped }` to skip with a reason. */
  verify(ctx: VerifyContext<Options>): Promise<void | { skipped: string }>;
}

export type StepDefinition = ConvergeStepDefinition<any> | VerifyStepDefinition<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Define a converge step; the default export of a custom step module. */
export function defineConvergeStep<Options = Record<string, unknown>>(
  definition: Omit<ConvergeStepDefinition<Options>, 'kind'>,
): ConvergeStepDefinition<Options> {
  return { ...definition, kind: 'converge' };
}

/** Define a verify step; the default export of a custom step module. */
export function defineVerifyStep<Options = Record<string, unknown>>(
  definition: Omit<VerifyStepDefinition<Options>, 'kind'>,
): VerifyStepDefinition<Options> {
  return { ...definition, kind: 'verify' };
}
