import { lstat } from 'node:fs/promises';
import { UsageError } from '../errors.js';

/**
 * A usage error when a directory sits where swarm-molecule keeps a file of its
 * own (the state file, the lock): it is not ours to delete with everything in it.
 */
export async function refuseDirectory(path: string, what: string): Promise<void> {
  const stat = await lstat(path).catch(() => undefined);
  if (stat?.isDirectory()) {
    throw new UsageError(`The ${what} ${path} is a directory, not a file swarm-molecule wrote.`, {
      hint: 'Move it away (swarm-molecule does not delete what it did not make), then run the command again.',
    });
  }
}
