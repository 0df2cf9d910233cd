import { readdirSync, readFileSync, statSync } from 'node:fs';
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

/** Exited, and not reaped by its parent yet: it holds nothing. */
export function isZombie(pid: number): boolean {
  return statFields(pid)?.[0] === 'Z';
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

/** What ties processes to a run (or a node) when their pids were never recorded. */
export interface ProcessTies {
  /** The run's (or node's) directory: named by a command line, or the source of a mount. */
  dir: string;
  /** Named network namespaces (under /run/netns) of the run: everything a node runs is in one. */
  netns?: readonly string[];
  /** A cgroup path prefix (e.g. `/sm-<run>-`): the containers a node's dockerd started. */
  cgroupPrefix?: string;
}

/** Inode of a namespace file, or undefined when it is gone. */
function inode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/**
 * PIDs of the processes tied to `ties.dir` without trusting a recorded pid (a
 * `create` killed between starting a node and recording its pid leaves none):
 * - its command line names the directory or a path under it (a node's
 *   `nsenter`, `unshare` and `sh`);
 * - its mount namespace mounts something from under it (a node's root is an
 *   overlay whose upper dir is there, its /var/lib/docker is bound from there:
 *   dockerd, sshd and every login of the node);
 * - it runs in one of `ties.netns`, or in a cgroup under `ties.cgroupPrefix`.
 *
 * Never this process, its ancestors, or anything in this machine's own mount
 * or network namespace found only by a mount or a namespace: a mount of the
 * directory there would otherwise tie every process of the machine to it.
 */
export function processesTiedTo(ties: ProcessTies): number[] {
  const under = `${ties.dir}/`;
  const machineMnt = new Set([inode('/proc/1/ns/mnt'), inode('/proc/self/ns/mnt')].filter((i) => i !== undefined));
  const machineNet = new Set([inode('/proc/1/ns/net'), inode('/proc/self/ns/net')].filter((i) => i !== undefined));
  const netns = new Set((ties.netns ?? []).map((name) => inode(`/run/netns/${name}`)).filter((i) => i !== undefined && !machineNet.has(i)));
  const protectedPids = new Set<number>();
  for (let pid = process.pid; pid > 1; ) {
    protectedPids.add(pid);
    pid = Number(statFields(pid)?.[1] ?? 0);
  }
  /** Whether a mount namespace mounts from the directory, read once per namespace. */
  const mountsDir = new Map<number, boolean>();
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (protectedPids.has(pid)) continue;
    const args = readOr(`/proc/${pid}/cmdline`, '').split('\0');
    // Cheapest first; a mount table is read once per mount namespace, and last.
    let tied = args.some((arg) => arg === ties.dir || arg.startsWith(under));
    if (!tied && netns.size > 0) tied = netns.has(inode(`/proc/${pid}/ns/net`));
    if (!tied && ties.cgroupPrefix !== undefined) {
      const prefix = ties.cgroupPrefix;
      tied = readOr(`/proc/${pid}/cgroup`, '').split('\n').some((line) => line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1).startsWith(prefix));
    }
    if (!tied) {
      const mnt = inode(`/proc/${pid}/ns/mnt`);
      if (mnt !== undefined && !machineMnt.has(mnt)) {
        if (!mountsDir.has(mnt)) mountsDir.set(mnt, readOr(`/proc/${pid}/mountinfo`, '').includes(under));
        tied = mountsDir.get(mnt) === true;
      }
    }
    if (tied && running(pid)) pids.push(pid);
  }
  return pids;
}
