import { lstat, mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { HarnessError, ExitCode } from '../errors.js';

export class LockedError extends HarnessError {
  readonly exitCode = ExitCode.usage;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * One command at a time per scenario: a second `swarm-molecule` on the same
 * scenario refuses instead of fighting over its nodes. A lock left by a process
 * that no longer runs is taken over.
 */
export async function acquireLock(stateDir: string, scenario: string): Promise<() => Promise<void>> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const file = join(stateDir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        await rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if ((await lstat(file).catch(() => undefined))?.isFile() === false) {
        throw new LockedError(`The lock ${file} of scenario "${scenario}" is not a file (a directory?), which swarm-molecule did not make.`, {
          hint: `Move it out of the way (e.g. "mv ${file} ${file}.bak"), then run again.`,
        });
      }
      const holder = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(holder) && holder !== process.pid && isRunning(holder)) {
        throw new LockedError(`Scenario "${scenario}" is in use by another swarm-molecule (pid ${holder}).`, {
          hint: 'Wait for it to finish, or stop it; two commands on one scenario would fight over its nodes.',
        });
      }
      await rm(file, { force: true });
    }
  }
  throw new LockedError(`Could not lock scenario "${scenario}" (${file}).`);
}
