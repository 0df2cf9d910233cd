import { setMaxListeners } from 'node:events';
import { mkdirSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Scenario } from '../config/index.js';
import type { Driver, DriverContext, DriverState } from '../drivers/index.js';
import { InfraError, UsageError } from '../errors.js';
import type { Reporter } from '../reporters/types.js';
import type { NodeControl } from '../steps/api.js';
import { createHost } from '../steps/host.js';
import type { StepRunInput } from '../steps/types.js';
import { secrets } from '../secrets/index.js';
import { ConnectionPool, quoteCommand, type CommandResult } from '../transport/index.js';
import { emptyState, type State, type StateStore } from './state.js';
import type { Timeline } from './timeline.js';

/**
 * Everything one command works with: the scenario, its state (kept in step
 * with the state file), the driver, the SSH connections and the reporter.
 */
export class Session {
  state: State;
  /** `--host`/`--limit`: the only nodes steps iterate over. */
  limit: readonly string[] | undefined;
  /** The running action's phases (set by the runner for each action). */
  timeline: Timeline | undefined;
  /** What followed "--" on the command line: given to every ansible-playbook run. */
  ansibleArgs: readonly string[] = [];
  #pool: ConnectionPool | undefined;
  /** Stops the pool's connections that are still trying (a node found not running). */
  #poolAbort: AbortController | undefined;
  #nodeChanges: Promise<unknown> = Promise.resolve();

  constructor(
    readonly scenario: Scenario,
    readonly driver: Driver,
    readonly store: StateStore,
    readonly reporter: Reporter,
    /** Aborted on the first Ctrl-C: stops the current action. */
    readonly signal: AbortSignal,
    state: State | undefined,
    /** Aborted only on a second Ctrl-C: what a step made is still removed after the first. */
    readonly cleanupSignal: AbortSignal = signal,
  ) {
    this.state = state ?? emptyState(scenario.name, driver.name);
  }

  async save(patch: Partial<State>): Promise<void> {
    this.state = { ...this.state, ...patch };
    await this.store.write(this.state);
  }

  driverContext(signal: AbortSignal = this.signal): DriverContext {
    return {
      scenario: this.scenario,
      stateDir: this.store.dir,
      signal,
      log: (line, node) => this.reporter.driverLog?.(line, node),
      record: async (driverState) => {
        await this.save({ driverState: structuredClone(driverState) });
        this.#pool?.update(driverState);
      },
    };
  }

  /** The nodes' driver state; fails when there are no nodes to work on. */
  nodes(): DriverState {
    const driverState = this.state.driverState;
    if (!this.state.created || !driverState || driverState.nodes.length === 0) {
      throw new UsageError(`Scenario "${this.scenario.name}" has no nodes.`, {
        hint: `Run "swarm-molecule create -s ${this.scenario.name}" (or "converge", which creates them).`,
      });
    }
    return driverState;
  }

  /** Check the state against reality: every platform's node must be running. */
  async assertNodesRunning(): Promise<void> {
    const driverState = this.nodes();
    const statuses = await this.driver.status(this.driverContext(), driverState);
    const problems: string[] = [];
    for (const platform of this.scenario.platforms) {
      const status = statuses.get(platform.name) ?? 'missing';
      if (status !== 'running') problems.push(`${platform.name} is ${status}`);
    }
    if (problems.length > 0) {
      throw new InfraError(`The state file says the nodes of "${this.scenario.name}" exist, but ${problems.join(', ')}.`, {
        hint: `Run "swarm-molecule converge -s ${this.scenario.name}" to recreate them, or "swarm-molecule destroy -s ${this.scenario.name}".`,
      });
    }
  }

  #connections(): ConnectionPool {
    if (!this.#pool) {
      this.#poolAbort = new AbortController();
      const signal = AbortSignal.any([this.signal, this.#poolAbort.signal]);
      // Every connection and request listens to it: 20 nodes are not a leak.
      setMaxListeners(0, signal);
      this.#pool = new ConnectionPool(this.nodes(), {
        signal,
        onCommand: this.#logCommand,
        onNote: this.#logNote,
      });
    }
    return this.#pool;
  }

  /**
   * The one round trip before the first step: the reality check of the nodes,
   * a connection to each and `firstReads`, all at once (a node's reads go as
   * soon as its connection is up). A node that does not run fails it at once,
   * with what to do, and stops what still tries to reach it.
   */
  async #start(pool: ConnectionPool, firstReads: () => Promise<void>, check: boolean): Promise<void> {
    const checking = (check ? this.assertNodesRunning() : Promise.resolve()).then(() => {
      const missing = this.scenario.platforms.filter((p) => !this.nodes().nodes.some((n) => n.name === p.name));
      if (missing.length > 0) {
        throw new InfraError(`No node exists for ${missing.map((p) => p.name).join(', ')}.`, {
          hint: `Run "swarm-molecule converge -s ${this.scenario.name}" to create it.`,
        });
      }
    });
    const recorded = this.scenario.platforms.filter((p) => this.nodes().nodes.some((n) => n.name === p.name));
    const connecting = Promise.all(recorded.map((p) => pool.get(p.name).connect()));
    try {
      await Promise.all([checking, connecting, firstReads()]);
    } catch (error) {
      // A connection to a node that does not run would retry for 30 s: stop it, and start afresh next time.
      this.#poolAbort?.abort(new Error('the start of the action failed'));
      this.close();
      throw error;
    }
  }

  /** Every remote command, with its output, in `.swarm-molecule/<scenario>/logs/<node>.log`, secrets masked. */
  #logCommand = (node: string, result: CommandResult): void => {
    const lines = [
      `# ${new Date().toISOString()} exit=${result.exitCode} ${result.durationMs.toFixed(0)}ms`,
      `$ ${quoteCommand(result.argv)}`,
      result.stdout.trimEnd(),
      result.stderr.trimEnd() ? `[stderr]\n${result.stderr.trimEnd()}` : '',
    ].filter((line) => line !== '');
    this.#appendNodeLog(node, lines.join('\n'));
    this.reporter.command?.(node, result);
  };

  /** A debug line about a node (not a command): in its log, and on the terminal with `-v`. */
  #logNote = (node: string, message: string): void => {
    this.#appendNodeLog(node, `# ${new Date().toISOString()} ${message}`);
    this.reporter.note?.(node, message);
  };

  #appendNodeLog(node: string, text: string): void {
    const dir = join(this.store.dir, 'logs');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    appendFileSync(join(dir, `${node}.log`), `${secrets.mask(text)}\n`);
  }

  /** The reporter's step hooks, with a step's log lines for one host also in that node's log. */
  #stepEvents(): StepRunInput['events'] {
    const reporter = this.reporter;
    return {
      stepStart: (...args) => reporter.stepStart?.(...args),
      hostResult: (...args) => reporter.hostResult?.(...args),
      verifyResult: (...args) => reporter.verifyResult?.(...args),
      waiting: (...args) => reporter.waiting?.(...args),
      taskStart: (...args) => reporter.taskStart?.(...args),
      taskResult: (...args) => reporter.taskResult?.(...args),
      log: (line, step, host) => {
        if (host) this.#appendNodeLog(host, `# ${new Date().toISOString()} log ${step}: ${line}`);
        reporter.log?.(line, step, host);
      },
    };
  }

  /**
   * What the step runners need: hosts over SSH and node control through the
   * driver. `checkNodes: false` when the action has checked the nodes itself.
   */
  stepInput(playbook: { skipTags?: readonly string[] } = {}, checkNodes = true): StepRunInput {
    const pool = this.#connections();
    const book = {
      platforms: this.scenario.platforms,
      addressOf: (name: string) => {
        const node = this.nodes().nodes.find((n) => n.name === name);
        return node?.address ?? node?.host ?? '';
      },
      connections: pool,
      reads: new Map<string, Promise<unknown>>(),
    };
    // Each stop or start reads the state the previous one saved: run them one
    // after another, or two at once would each overwrite the other's record.
    const change = (apply: () => Promise<DriverState>): Promise<void> => {
      const run = this.#nodeChanges.then(async () => {
        const next = await apply();
        await this.save({ driverState: next });
        pool.update(next);
      });
      this.#nodeChanges = run.catch(() => undefined);
      return run;
    };
    const nodes: NodeControl = {
      stop: (name) =>
        change(() => {
          pool.drop(name);
          return this.driver.stop(this.driverContext(), this.nodes(), name);
        }),
      start: (name) => change(() => this.driver.start(this.driverContext(), this.nodes(), name)),
      partition: (sideA, sideB) => change(() => this.#partitioning().partition(this.driverContext(), this.nodes(), [sideA, sideB])),
      isolate: (name) =>
        change(() => {
          const others = this.nodes().nodes.map((n) => n.name).filter((n) => n !== name);
          return this.#partitioning().partition(this.driverContext(), this.nodes(), [[name], others]);
        }),
      // Healed after a first Ctrl-C too: a step heals what it cut on its way out.
      heal: () => change(() => this.#partitioning().heal(this.driverContext(this.cleanupSignal), this.nodes())),
    };
    return {
      scenario: this.scenario,
      base: {
        scenario: { name: this.scenario.name, dir: this.scenario.dir, platforms: this.scenario.platforms, converge: this.scenario.converge },
        hosts: this.scenario.platforms.map((p) => createHost(p, book)),
        signal: this.signal,
        cleanupSignal: this.cleanupSignal,
        ...(this.limit ? { limit: this.limit } : {}),
      },
      events: this.#stepEvents(),
      nodes,
      targets: () => this.nodes().nodes,
      stateDir: this.store.dir,
      forgetReads: () => book.reads.clear(),
      phase: (name) => this.phase(name),
      spans: (spans) => this.timeline?.spans(spans),
      start: (firstReads) => this.#start(pool, firstReads, checkNodes),
      playbook: { ...playbook, args: this.ansibleArgs },
    };
  }

  /** The driver's partition methods; `syntax` refuses a step that needs them on a driver without. */
  #partitioning(): Required<Pick<Driver, 'partition' | 'heal'>> {
    const driver = this.driver;
    if (!driver.partition || !driver.heal) {
      throw new UsageError(`The ${driver.name} driver cannot partition the node network.`, { hint: 'Run the partition steps with the netns, vagrant or docker driver.' });
    }
    return { partition: driver.partition.bind(driver), heal: driver.heal.bind(driver) };
  }

  /** The running action enters phase `name` (see Timeline): where its time goes. */
  phase(name: string): void {
    this.timeline?.phase(name);
  }

  close(): void {
    this.#pool?.closeAll();
    this.#pool = undefined;
    this.#poolAbort = undefined;
  }
}
