import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { InfraError } from '../../errors.js';

export interface HostCommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Run a program on the machine running the harness, arguments as an array (no
 * shell). Rejects with an InfraError naming the command unless `allowFailure`.
 */
export async function runOnHost(
  file: string,
  args: readonly string[],
  options: { allowFailure?: boolean; input?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<HostCommandResult> {
  const result = await execa(file, args, {
    reject: false,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    ...(options.input === undefined ? {} : { input: options.input }),
    timeout: options.timeoutMs ?? 60_000,
    ...(options.env ? { env: options.env } : {}),
  });
  const out = { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode ?? 255 };
  if (!options.allowFailure && (result.failed || out.exitCode !== 0)) {
    const reason = result.timedOut ? 'timed out' : (out.stderr.trim() || result.shortMessage);
    throw new InfraError(`"${[file, ...args].join(' ')}" failed: ${reason}`);
  }
  return out;
}

/** Whether a program is on the PATH (or at an absolute path): looked up here, without starting a shell. */
export async function hasProgram(name: string): Promise<boolean> {
  const candidates = name.includes('/') ? [name] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      if ((await stat(candidate)).isFile()) return true;
    } catch {
      // not there, or not executable
    }
  }
  return false;
}
