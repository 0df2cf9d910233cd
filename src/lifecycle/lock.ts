import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HarnessError, ExitCode } from '../errors.js';
import { isZombie, startTimeOf } from '../drivers/host/processes.js';

export class LockedError extends HarnessError {
  readonly exitCode = ExitCode.usage;
}

/** Who holds a lock: enough to tell the holder from a later process that got its pid. */
interface Holder {
  pid: number;
  /** Kernel start time of the process (clock ticks since boot, /proc/PID/stat field 22). */
  start: string;
  cmdline: string;
}

/**
 * Points where a test can hold an acquirer, to force the interleavings that
 * lost the lock before (two acquirers that both judged a holder stale).
 */
export const lockHooks: { beforeTakeOver?: (stale: string) => Promise<void> } = {};

function processCmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The holder still runs: the same pid, started at the same moment (a pid and
 * its start time name one process for the machine's uptime). The command line
 * is recorded to name the holder, not compared: a process may retitle itself.
 */
function holderRuns(holder: Holder): boolean {
  // A zombie has exited (a harness killed -9 whose parent has not reaped it yet): it holds nothing.
  if (!isRunning(holder.pid) || isZombie(holder.pid)) return false;
  const start = startTimeOf(holder.pid);
  // Without /proc (not Linux) the pid is all we can compare.
  return start === undefined || start === holder.start;
}

function describeHolder(holder: Holder): string {
  return `pid ${holder.pid}: ${holder.cmdline || '(command line unknown)'}`;
}

const HOLDER_PREFIX = 'holder-';

/**
 * One command at a time per scenario: a second `swarm-molecule` on the same
 * scenario refuses instead of fighting over its nodes.
 *
 * The lock is a directory `lock/` holding one file named after its holder. It
 * is taken by renaming a prepared directory over a missing or empty `lock/`,
 * which the kernel does atomically and refuses (ENOTEMPTY) while another
 * holder's file is inside: there is never a lock without its holder. A holder
 * that no longer runs (or whose pid now belongs to another process) is taken
 * over by removing exactly its file; of many acquirers racing for a stale lock
 * only one removal succeeds, and only one rename onto the emptied directory.
 */
export async function acquireLock(stateDir: string, scenario: string): Promise<() => Promise<void>> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const lock = join(stateDir, 'lock');
  const me: Holder = { pid: process.pid, start: startTimeOf(process.pid) ?? '', cmdline: processCmdline(process.pid) ?? process.argv.join(' ') };
  const name = `${HOLDER_PREFIX}${me.pid}-${randomBytes(6).toString('hex')}`;
  const prepared = await mkdtemp(join(stateDir, '.lock-'));
  try {
    await writeFile(join(prepared, name), `${JSON.stringify(me)}\n`, { mode: 0o600 });
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        await rename(prepared, lock);
        const mine = join(lock, name);
        return async () => {
          await unlink(mine).catch(() => undefined);
          // Another acquirer may already have renamed its own lock over the empty one.
          await rmdir(lock).catch(() => undefined);
        };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOTDIR') {
          await takeOverLegacyLock(lock, scenario);
          continue;
        }
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      }
      const entries = await readdir(lock).catch(() => [] as string[]);
      const holders = entries.filter((f) => f.startsWith(HOLDER_PREFIX));
      if (holders.length === 0 && entries.length > 0) {
        // Not a lock of ours (we only ever put holder files in it): never delete what we did not write.
        throw new LockedError(`The lock ${lock} of scenario "${scenario}" holds files swarm-molecule did not write (${entries.slice(0, 3).join(', ')}).`, {
          hint: `Move it out of the way (e.g. "mv ${lock} ${lock}.bak"), then run the command again.`,
        });
      }
      for (const file of holders) {
        const holder = await readHolder(join(lock, file));
        if (holder === 'gone') continue;
        if (holder && holderRuns(holder)) {
          throw new LockedError(`Scenario "${scenario}" is in use by another swarm-molecule (${describeHolder(holder)}).`, {
            hint: `Wait for it to finish, or stop it ("kill ${holder.pid}") and run the command again; two commands on one scenario would fight over its nodes. The lock is ${lock}.`,
          });
        }
        await lockHooks.beforeTakeOver?.(file);
        // Removes exactly the stale holder's file: a fresh holder that won meanwhile has another name.
        await unlink(join(lock, file)).catch(() => undefined);
      }
    }
    throw new LockedError(`Could not lock scenario "${scenario}" (${lock}): other commands kept taking it.`, { hint: 'Run the command again.' });
  } finally {
    await rm(prepared, { recursive: true, force: true });
  }
}

/** The holder recorded in `file`; undefined when the file is damaged (a holder writes it whole before the lock exists). */
async function readHolder(file: string): Promise<Holder | 'gone' | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return 'gone';
  }
  try {
    return JSON.parse(text) as Holder;
  } catch {
    return undefined;
  }
}

/** A `lock` file written by an older swarm-molecule: its first line is the holder's pid. */
async function takeOverLegacyLock(lock: string, scenario: string): Promise<void> {
  const pid = Number.parseInt(await readFile(lock, 'utf8').catch(() => ''), 10);
  const cmdline = Number.isInteger(pid) ? processCmdline(pid) : undefined;
  if (cmdline !== undefined && /swarm-molecule/.test(cmdline)) {
    throw new LockedError(`Scenario "${scenario}" is in use by another swarm-molecule (pid ${pid}: ${cmdline}).`, {
      hint: `Wait for it to finish, or stop it ("kill ${pid}") and run the command again.`,
    });
  }
  if ((await stat(lock).catch(() => undefined))?.isFile()) await unlink(lock).catch(() => undefined);
}
