import type { Action } from '../config/index.js';
import type { Diagnostic } from '../errors.js';
import type { ConvergeStepResult, StepEvents, StepSpan, VerifyStepResult } from '../steps/types.js';
import type { CommandResult } from '../transport/index.js';

export interface RunInfo {
  scenario: string;
  command: string;
  driver: string;
  actions: Action[];
  /** The scenario's platforms, in its order (the RECAP lists hosts so). */
  hosts?: string[];
}

export type ActionStatus = 'passed' | 'failed' | 'skipped';

/** A contiguous part of an action (e.g. `start`, `steps`): an action's phases add up to its duration. */
export interface ActionPhase {
  name: string;
  durationMs: number;
  /** The converge walk: when each step ran inside the phase (steps overlap, so their spans do not add up). */
  spans?: StepSpan[];
}

export interface ActionResult {
  action: Action;
  status: ActionStatus;
  durationMs: number;
  /** Where `durationMs` went, every millisecond of it, in order. */
  phases?: ActionPhase[];
  /** Why it failed or was skipped. */
  message?: string;
  hint?: string;
  /**
   * For a failed action: `failure` when the code under test is wrong (a check,
   * the scenario), `error` when the machinery failed or the run was interrupted.
   */
  kind?: 'failure' | 'error';
  converge?: ConvergeStepResult[];
  verify?: VerifyStepResult[];
  /** `--debug`: the stack of the error that failed the action. */
  stack?: string;
  /** What `syntax` or `lint` found, each at its `file:line:col`. */
  diagnostics?: Diagnostic[];
  /** What passed but deserves a look (a converge that changed nothing on fresh nodes, a test without verify steps). */
  warnings?: string[];
}

export interface RunSummary {
  info: RunInfo;
  actions: ActionResult[];
  status: 'passed' | 'failed' | 'interrupted';
  exitCode: number;
  /** When the run started (ISO 8601). */
  startedAt?: string;
  durationMs: number;
  /** What is left on the machine when the run could not clean up. */
  leftover?: string;
}

/**
 * Receives the events of a run. A reporter implements only the hooks it needs;
 * every reporter gets the same events (terminal now; JUnit and JSON alike).
 */
export interface Reporter extends StepEvents {
  runStart?(info: RunInfo): void;
  actionStart?(action: Action): void;
  actionEnd?(result: ActionResult): void;
  /** A driver's progress line. */
  driverLog?(line: string, node?: string): void;
  diagnostics?(action: Action, diagnostics: Diagnostic[]): void;
  /** A command run on a node (secrets are masked by the reporter that prints it). */
  command?(node: string, result: CommandResult): void;
  /** A debug line about a node that is not a command (e.g. why its Docker Engine API is not used); shown with `-v`. */
  note?(node: string, message: string): void;
  runEnd?(summary: RunSummary): void;
}

/** Fan events out to several reporters. */
export function combineReporters(reporters: Reporter[]): Reporter {
  const fan =
    <K extends keyof Reporter>(key: K) =>
    (...args: Parameters<NonNullable<Reporter[K]>>) => {
      for (const reporter of reporters) (reporter[key] as ((...a: unknown[]) => void) | undefined)?.(...args);
    };
  return {
    runStart: fan('runStart'),
    actionStart: fan('actionStart'),
    actionEnd: fan('actionEnd'),
    driverLog: fan('driverLog'),
    diagnostics: fan('diagnostics'),
    command: fan('command'),
    note: fan('note'),
    runEnd: fan('runEnd'),
    stepStart: fan('stepStart'),
    hostResult: fan('hostResult'),
    verifyResult: fan('verifyResult'),
    log: fan('log'),
    taskStart: fan('taskStart'),
    taskResult: fan('taskResult'),
    waiting: fan('waiting'),
  };
}
