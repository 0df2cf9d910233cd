import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HarnessError, Interrupted } from '../errors.js';
import { secrets } from '../secrets/index.js';

/**
 * A step's own code threw (a bug in the step, such as reading a property of
 * `undefined`), as opposed to a check that did not hold. Reported as "error"
 * with the stack and a code frame of the step's file.
 */
export interface StepCrash {
  /** The error's class, e.g. `TypeError`. */
  name: string;
  message: string;
  stack: string;
  /** Where it threw in the step's own file, relative to the working directory. */
  file?: string;
  line?: number;
  col?: number;
  /** A few lines of that file with a caret under the column (as vitest shows). */
  frame?: string;
}

/**
 * Whether an error thrown by a step is a crash of its code: anything that is
 * not one of ours (a check, a failed command, an interrupt) is.
 */
export function isStepCrash(error: unknown): error is Error {
  return error instanceof Error && !(error instanceof HarnessError) && !(error instanceof Interrupted);
}

// This package's own files (dist/ or src/): the runner's frames say nothing about the step's bug.
const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The stack without the harness's own frames below the step's. */
function userStack(stack: string): string {
  const lines = stack.split('\n');
  const kept = lines.filter((line, i) => i === 0 || !/^\s+at /.test(line) || !(line.includes(packageRoot) || line.includes('node:internal')));
  return kept.length > 1 ? kept.join('\n') : stack;
}

const FRAME = /\(?((?:file:\/\/)?\/[^():]+):(\d+):(\d+)\)?$/;

/** The first stack frame in `file` (the step module) or else under `dir` (the scenario). */
function throwingFrame(stack: string, file: string | undefined, dir: string): { file: string; line: number; col: number } | undefined {
  const frames = stack
    .split('\n')
    .slice(1)
    .map((line) => FRAME.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ file: (m[1] ?? '').replace(/^file:\/\//, ''), line: Number(m[2]), col: Number(m[3]) }));
  return frames.find((f) => f.file === file) ?? frames.find((f) => f.file.startsWith(`${dir}/`) && !f.file.includes('/node_modules/'));
}

/** Two lines either side of `line`, numbered, with a caret under `col`. */
export function codeFrame(source: string, line: number, col: number): string {
  const lines = source.split('\n');
  const first = Math.max(1, line - 2);
  const last = Math.min(lines.length, line + 2);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    out.push(`${n === line ? '>' : ' '} ${String(n).padStart(width)} | ${lines[n - 1] ?? ''}`);
    if (n === line) out.push(`  ${' '.repeat(width)} | ${' '.repeat(Math.max(0, col - 1))}^`);
  }
  return out.join('\n');
}

/** What a report shows of a crash: message, stack, and where in the step's file it threw. */
export function describeCrash(error: Error, stepFile: string | undefined, scenarioDir: string): StepCrash {
  const stack = userStack(secrets.mask(error.stack ?? `${error.name}: ${error.message}`));
  const at = throwingFrame(stack, stepFile, scenarioDir);
  const crash: StepCrash = { name: error.name, message: secrets.mask(error.message), stack };
  if (!at) return crash;
  const frame = existsSync(at.file) ? codeFrame(readFileSync(at.file, 'utf8'), at.line, at.col) : undefined;
  return { ...crash, file: relative(process.cwd(), at.file), line: at.line, col: at.col, ...(frame ? { frame } : {}) };
}

/** `file:line:col` of a crash, or the step's file when the stack does not reach it. */
export function crashPosition(crash: StepCrash): string | undefined {
  return crash.file ? `${crash.file}:${crash.line ?? 0}:${crash.col ?? 0}` : undefined;
}
