import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * The last `lines` lines of a daemon's log on this machine (read from its last
 * 8 KB, so a large log costs nothing), for an error that names the log: a test
 * or a cleanup may remove the file before anyone reads it. `(no log)` when the
 * file is missing or empty.
 */
export function logTail(file: string, lines = 8): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const length = Math.min(size, 8192);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const text = buffer.toString('utf8').trim();
    return text === '' ? '(no log)' : text.split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
