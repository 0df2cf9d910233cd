import { setMaxListeners } from 'node:events';
import { SEQUENCE_COMMANDS, type Action, type Scenario } from '../config/index.js';
import { driverFor } from '../drivers/index.js';
import { ConfigError, ExitCode, exitCodeOf, HarnessError, Interrupted, messageOf, StepCrashed, UsageError } from '../errors.js';
import type { ActionResult, Reporter, RunSummary } from '../reporters/types.js';
import { secrets } from '../secrets/index.js';
import { actions, type ActionOutput } from './actions.js';
import { DESTROY_OPTION_COMMANDS, type DestroyPolicy } from './destroy-policy.js';
import { acquireLock } from './lock.js';
import { refuseInvalidScenarios } from './preflight.js';
import { Session } from './session.js';
import { StateStore } from './state.js';
import { Timeline } from './timeline.js';

export type { DestroyPolicy } from './destroy-policy.js';

export interface RunOptions {
  projectDir: string;
  /** The command, for the report (`test`, `converge`, ...). */
  command: string;
  sequence: Action[];
  /** Applies to a trailing `destroy` of the sequence; default `always`. */
  destroy?: DestroyPolicy;
  reporter: Reporter;
  /** Aborted on the first Ctrl-C / SIGTERM: stop the current action, then clean up. */
  signal: AbortSignal;
  /** Aborted on a second Ctrl-C: give up cleaning up too. */
  cleanupSignal: AbortSignal;
  /** `--host`/`--limit`: the nodes steps work on; all when absent. */
  limit?: readonly string[];
  /** `--debug`: keep the stack of a failed action's error in its result. */
  debug?: boolean;
  /** What followed "--" on the command line: given to every ansible-playbook run. */
  ansibleArgs?: readonly string[];
}

/**
 * Walk a sequence of actions for one scenario. After a failure or an interrupt
 * the remaining actions are skipped, except a trailing `destroy`, which runs as
 * the destroy policy says. The state file is written after every action.
 * A scenario that fails the syntax check is refused (ConfigError) before anything is touched.
 */
export async function runSequence(scenario: Scenario, options: RunOptions): Promise<RunSummary> {
  // Before the lock, the state or any node: a scenario that fails `syntax` touches nothing.
  await refuseInvalidScenarios([{ scenario, sequence: options.sequence }]);
  const started = performance.now();
  const startedAt = new Date().toISOString();
  // Every command in flight on every node listens for the interrupt.
  setMaxListeners(0, options.signal, options.cleanupSignal);
  const store = new StateStore(options.projectDir, scenario.name);
  const release = await acquireLock(store.dir, scenario.name);
  const results: ActionResult[] = [];
  let failure: unknown;
  let session: Session | undefined;
  try {
    const state = await store.read();
    if (state?.driverState && state.created && state.driver !== scenario.driver.name) {
      throw new UsageError(`Scenario "${scenario.name}" has nodes made by the ${state.driver} driver, but now names the ${scenario.driver.name} driver.`, {
        hint: `Destroy them first: change the driver back and run "swarm-molecule destroy -s ${scenario.name}".`,
      });
    }
    const driver = await driverFor(scenario.driver.name);
    session = new Session(scenario, driver, store, options.reporter, options.signal, state, options.cleanupSignal);
    if (options.limit) session.limit = options.limit;
    if (options.ansibleArgs) session.ansibleArgs = options.ansibleArgs;
    options.reporter.runStart?.({
      scenario: scenario.name,
      command: options.command,
      driver: driver.name,
      actions: options.sequence,
      hosts: scenario.platforms.map((p) => p.name),
    });

    for (const [index, action] of options.sequence.entries()) {
      // An interrupt that landed between two actions (or as one finished) stops the run here.
      if (failure === undefined && options.signal.aborted) failure = new Interrupted(String(options.signal.reason ?? 'signal'));
      const last = options.sequence.length - 1;
      const trailingDestroy = action === 'destroy' && index === last && index > 0;
      // A cleanup right before the trailing destroy belongs to the teardown: it runs when the destroy does.
      const teardownCleanup = action === 'cleanup' && index === last - 1 && options.sequence[last] === 'destroy';
      const skip = teardownCleanup && options.signal.aborted ? 'interrupted: cleanup steps not run' : skipReason(action, trailingDestroy || teardownCleanup, failure, options);
      if (skip) {
        results.push({ action, status: 'skipped', durationMs: 0, message: skip });
        options.reporter.actionEnd?.({ action, status: 'skipped', durationMs: 0, message: skip });
        continue;
      }
      options.reporter.actionStart?.(action);
      const actionStarted = performance.now();
      const timeline = new Timeline(actionStarted, 'start');
      session.timeline = timeline;
      // Cleaning up goes on after the first interrupt; only a second one stops it.
      const signal = action === 'destroy' ? options.cleanupSignal : options.signal;
      let result: ActionResult;
      try {
        const output: ActionOutput = await actions[action](session, signal);
        const ended = performance.now();
        result = { action, status: 'passed', durationMs: ended - actionStarted, phases: timeline.finish(ended), ...output };
      } catch (caught) {
        const ended = performance.now();
        const error = signal.aborted && !(caught instanceof Interrupted) ? new Interrupted(String(signal.reason ?? 'signal')) : caught;
        failure ??= error;
        const partial = caught as Partial<Pick<ActionResult, 'converge' | 'verify' | 'diagnostics'>>;
        result = {
          action,
          status: 'failed',
          durationMs: ended - actionStarted,
          phases: timeline.finish(ended),
          message: secrets.mask(messageOf(error)),
          kind: !(error instanceof StepCrashed) && (exitCodeOf(error) === ExitCode.checkFailed || exitCodeOf(error) === ExitCode.usage) ? 'failure' : 'error',
          ...(error instanceof HarnessError && error.hint ? { hint: inspectHint(error.hint, scenario, options) } : {}),
          ...(partial.converge ? { converge: partial.converge } : {}),
          ...(partial.verify ? { verify: partial.verify } : {}),
          ...(partial.diagnostics ? { diagnostics: partial.diagnostics } : {}),
          ...(options.debug && error instanceof Error && error.stack ? { stack: error.stack } : {}),
        };
      }
      results.push(result);
      options.reporter.actionEnd?.(result);
      await session.save({ lastAction: action, ...(result.status === 'failed' ? { lastError: result.message } : { lastError: undefined }) });
    }
  } catch (error) {
    failure ??= error;
  } finally {
    session?.close();
    await release();
  }
  // An interrupt during the last destroy lets the cleanup finish, but the run was still interrupted.
  if (failure === undefined && options.signal.aborted) failure = new Interrupted(String(options.signal.reason ?? 'signal'));
  const interrupted = failure instanceof Interrupted || options.signal.aborted;
  const summary: RunSummary = {
    info: { scenario: scenario.name, command: options.command, driver: scenario.driver.name, actions: options.sequence },
    actions: results,
    status: failure === undefined ? 'passed' : interrupted ? 'interrupted' : 'failed',
    exitCode: failure === undefined ? ExitCode.passed : interrupted ? ExitCode.interrupted : exitCodeOf(failure),
    durationMs: performance.now() - started,
    startedAt,
    ...(options.sequence.at(-1) === 'destroy' || options.cleanupSignal.aborted ? leftoverOf(scenario, session, options.cleanupSignal.aborted) : {}),
  };
  if (failure !== undefined && results.length === 0) {
    // Failed before any action (lock, state file): say why.
    const result: ActionResult = {
      action: options.sequence[0] ?? 'destroy',
      status: 'failed',
      durationMs: 0,
      kind: exitCodeOf(failure) === ExitCode.infrastructure ? 'error' : 'failure',
      message: secrets.mask(messageOf(failure)),
      ...(failure instanceof HarnessError && failure.hint ? { hint: failure.hint } : {}),
    };
    summary.actions.push(result);
    options.reporter.actionEnd?.(result);
  }
  options.reporter.runEnd?.(summary);
  return summary;
}

/**
 * A scenario refused before anything was touched (it does not load, or fails
 * the syntax check): told to the reporters as a run whose `syntax` failed with
 * every diagnostic, so the report files hold it beside the scenarios that ran.
 */
export function reportRefused(scenario: string, error: ConfigError, options: { command: string; driver?: string; reporter: Reporter }): RunSummary {
  const info = { scenario, command: options.command, driver: options.driver ?? '(not loaded)', actions: ['syntax'] as Action[] };
  options.reporter.runStart?.(info);
  options.reporter.actionStart?.('syntax');
  options.reporter.diagnostics?.('syntax', error.diagnostics);
  const result: ActionResult = {
    action: 'syntax',
    status: 'failed',
    durationMs: 0,
    kind: 'failure',
    message: secrets.mask(error.message),
    ...(error.hint ? { hint: error.hint } : {}),
    ...(error.diagnostics.length > 0 ? { diagnostics: error.diagnostics } : {}),
  };
  options.reporter.actionEnd?.(result);
  const summary: RunSummary = { info, actions: [result], status: 'failed', exitCode: error.exitCode, durationMs: 0, startedAt: new Date().toISOString() };
  options.reporter.runEnd?.(summary);
  return summary;
}

/**
 * A hint to log in to a node: as it is while the nodes stay, and when this very
 * run destroys them at its end, how to keep them first. Only a command that takes
 * `--destroy` is told to use it; another one's sequence ends with destroy.
 */
export function inspectHint(hint: string, scenario: Pick<Scenario, 'name'>, options: Pick<RunOptions, 'command' | 'sequence' | 'destroy'>): string {
  const destroysAfter = options.sequence.length > 1 && options.sequence.at(-1) === 'destroy' && (options.destroy ?? 'always') === 'always';
  if (!destroysAfter || !hint.startsWith('Run "swarm-molecule login')) return hint;
  const login = `r${hint.slice(1)}`;
  if (DESTROY_OPTION_COMMANDS.includes(options.command)) {
    return `This run destroys the nodes at its end: to keep them, run "swarm-molecule ${options.command} -s ${scenario.name} --destroy never", then ${login}`;
  }
  const test = `"swarm-molecule test -s ${scenario.name} --destroy never"`;
  if (!SEQUENCE_COMMANDS.some((command) => command === options.command)) return `This run destroys the nodes at its end: to keep them, run ${test}, then ${login}`;
  return `This run destroys the nodes at its end (sequences.${options.command} in scenario.yml ends with destroy): to keep them, remove that destroy or run ${test}, then ${login}`;
}

function skipReason(action: Action, trailingDestroy: boolean, failure: unknown, options: RunOptions): string | undefined {
  const policy = options.destroy ?? 'always';
  if (!trailingDestroy) return failure === undefined ? undefined : 'skipped after an earlier failure';
  if (policy === 'never') return 'nodes kept (--destroy never)';
  if (policy === 'passing' && failure !== undefined) return 'nodes kept for inspection (--destroy passing)';
  if (options.cleanupSignal.aborted) return 'interrupted twice: cleanup abandoned';
  return undefined;
}

function leftoverOf(scenario: Scenario, session: Session | undefined, abandoned: boolean): Pick<RunSummary, 'leftover'> {
  // After a second Ctrl-C the user was promised an account of what is left, even when it is nothing.
  if (!session?.state.created) return abandoned ? { leftover: `Nothing of scenario "${scenario.name}" is left: it has no nodes.` } : {};
  const nodes = session.state.driverState?.nodes.map((n) => n.name).join(', ') ?? '';
  return {
    leftover: `The nodes of scenario "${scenario.name}" still exist (${nodes}). Remove them with "swarm-molecule destroy -s ${scenario.name}".`,
  };
}
