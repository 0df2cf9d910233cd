import { constants } from 'node:fs';
import { lstat, open, realpath } from 'node:fs/promises';
import { relative, isAbsolute } from 'node:path';
import { ConfigError, messageOf } from '../errors.js';
import { displayPath } from './display-path.js';

/** Largest scenario file read: far above any real one, far below what could exhaust memory. */
export const SCENARIO_FILE_LIMIT = 1024 * 1024;

/** Largest step module loaded. */
export const STEP_MODULE_LIMIT = 1024 * 1024;

function kindOf(stats: { isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean; isDirectory(): boolean }): string {
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isDirectory()) return 'a directory';
  return 'not a regular file';
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function kib(bytes: number): string {
  return `${Math.round(bytes / 1024)} KiB`;
}

/**
 * Open `file` without blocking (a FIFO would hang a plain open) and check the
 * opened file itself: a regular file no larger than `limit`. Returns the open
 * handle, for the caller to read from and close; throws a ConfigError (exit 2)
 * naming the file, the limit and what to do.
 */
async function openRegular(file: string, what: string, limit: number) {
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new ConfigError(`Cannot read ${what} ${displayPath(file)}: ${messageOf(error)}`, [], { hint: 'Check that it exists and its permissions.' });
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      throw new ConfigError(`${capital(what)} ${displayPath(file)} is ${kindOf(stats)}, not a regular file.`, [], {
        hint: `Make ${displayPath(file)} a regular file.`,
      });
    }
    if (stats.size > limit) {
      throw new ConfigError(`${capital(what)} ${displayPath(file)} is ${kib(stats.size)}, over the limit of ${kib(limit)}.`, [], {
        hint: `Shorten ${displayPath(file)} (or split it); a file this large is not something swarm-molecule reads.`,
      });
    }
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Read a regular file of at most `limit` bytes as UTF-8, reading no more than that even if it grows. */
export async function readBoundedFile(file: string, what: string, limit: number): Promise<string> {
  const handle = await openRegular(file, what, limit);
  try {
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
      if (length > limit) {
        throw new ConfigError(`${capital(what)} ${displayPath(file)} grew over the limit of ${kib(limit)} while being read.`, [], {
          hint: `Shorten ${displayPath(file)}.`,
        });
      }
    }
    return Buffer.concat(chunks, length).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** Check, without reading it, that `file` is a regular file no larger than `limit` (a step module, loaded by others). */
export async function checkRegularFile(file: string, what: string, limit: number): Promise<void> {
  const handle = await openRegular(file, what, limit);
  await handle.close();
}

/**
 * Refuse `file` when it is, or lies under, a symlink that leads outside
 * `root`: its lines would be shown in code frames (a link to /etc/shadow).
 */
export async function checkInside(file: string, root: string, what: string): Promise<void> {
  let real: string;
  let realRoot: string;
  try {
    [real, realRoot] = await Promise.all([realpath(file), realpath(root)]);
  } catch {
    return; // Missing: the reader says so.
  }
  const rel = relative(realRoot, real);
  if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) return;
  const link = (await lstat(file).catch(() => undefined))?.isSymbolicLink() ? 'is a symlink' : 'leads through a symlink';
  throw new ConfigError(`${capital(what)} ${displayPath(file)} ${link} to a file outside the project (${displayPath(root)}).`, [], {
    hint: 'Copy the file into the project, or link to one inside it: swarm-molecule shows the lines of the files it reads.',
  });
}
