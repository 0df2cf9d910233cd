import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { InfraError } from '../../errors.js';

/** A process a driver started and recorded in the state file. */
export const nodeProcessSchema = z.object({
  pid: z.number().int().positive(),
  /** Start time from /proc/PID/stat: a recycled PID is never taken for ours. */
  startTime: z.string(),
});
export type NodeProcess = z.infer<typeof nodeProcessSchema>;

/** The fields of /proc/PID/stat after the command name, or undefined when the process is gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the other fields start after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Running and not a zombie (a zombie has exited; only its parent has not reaped it yet). */
function running(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state !== undefined && state !== 'Z';
}

export function startTimeOf(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/** Whether the process we started is still the one at that PID. */
export function isAlive(process_: NodeProcess | undefined): boolean {
  if (!process_) return false;
  const fields = statFields(process_.pid);
  return fields !== undefined && fields[19] === process_.startTime && fields[0] !== 'Z';
}

/** Wait until none of `pids` runs (zombies count as gone). */
export async function waitGone(pids: number[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(running)) {
    if (Date.now() > deadline) throw new InfraError(`Node processes ${pids.filter(running).join(', ')} did not exit after SIGKILL.`);
    await sleep(50);
  }
}

/**
 * Kill a node as a crash would and wait until the process is gone. A node's
 * first process is `unshare --fork --kill-child`, which ignores SIGTERM: SIGKILL
 * it, it kills the namespace's PID 1, and the kernel tears the PID namespace down.
 */
export async function killNodeProcess(process_: NodeProcess | undefined, timeoutMs = 15_000): Promise<void> {
  if (!process_ || !isAlive(process_)) return;
  try {
    process.kill(process_.pid, 'SIGKILL');
  } catch {
    return;
  }
  await waitGone([process_.pid], timeoutMs);
}

/** SIGKILL each of `pids` (found without the state file) and wait until all are gone. */
export async function killProcesses(pids: number[]): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await waitGone(pids);
}

/**
 * PIDs of a run's processes found without the state file: a node's first
 * process and its daemons take a path under the run's directory (or the
 * directory itself) as an argument, so they are ours by construction.
 * `marker`, when given, is an argument they must also have.
 */
export function nodeProcessesOf(runDir: string, marker?: string): number[] {
  const under = `${runDir}/`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (marker !== undefined && !args.includes(marker)) continue;
      if (args.some((arg) => arg === runDir || arg.startsWith(under))) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}
