/**
 * Errors grouped by cause, each with the exit code the CLI maps it to
 * (documented in the README): 1 a check failed, 2 usage or configuration,
 * 3 infrastructure (driver, transport), 130 interrupted.
 */
export const ExitCode = {
  passed: 0,
  checkFailed: 1,
  usage: 2,
  infrastructure: 3,
  interrupted: 130,
} as const;

export abstract class HarnessError extends Error {
  abstract readonly exitCode: number;
  /** What the user can do next, shown under the message. */
  readonly hint: string | undefined;

  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options?.hint;
  }
}

/** Bad command-line usage. */
export class UsageError extends HarnessError {
  readonly exitCode = ExitCode.usage;
}

/** One position in a scenario file, 1-based. */
export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  severity: 'error' | 'warning';
  /** `yaml`, `schema`, `syntax` or a lint rule id. */
  code: string;
  message: string;
  hint?: string;
  /** A few source lines with a caret under the column. */
  frame?: string;
}

/** A scenario that cannot be used as written: every problem, each with its position. */
export class ConfigError extends HarnessError {
  readonly exitCode = ExitCode.usage;
  readonly diagnostics: Diagnostic[];

  constructor(message: string, diagnostics: Diagnostic[], options?: { hint?: string }) {
    super(message, options);
    this.diagnostics = diagnostics;
  }
}

/** The code under test is wrong: a verify check, the idempotence check or lint failed. */
export class CheckFailed extends HarnessError {
  readonly exitCode = ExitCode.checkFailed;
}

/**
 * A step's own code threw (a bug in the step, e.g. reading a property of
 * `undefined`): exit 1 like a failed check, since a step is code under test,
 * but reported as an error with its stack, never as a check that failed.
 */
export class StepCrashed extends CheckFailed {}

/** The machinery failed (a node, the driver, SSH), not the code under test. */
export class InfraError extends HarnessError {
  readonly exitCode = ExitCode.infrastructure;
}

/** The run was stopped by SIGINT or SIGTERM. */
export class Interrupted extends HarnessError {
  readonly exitCode = ExitCode.interrupted;
  constructor(readonly signal: string) {
    super(`Interrupted by ${signal}.`);
  }
}

export function exitCodeOf(error: unknown): number {
  return error instanceof HarnessError ? error.exitCode : ExitCode.infrastructure;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
