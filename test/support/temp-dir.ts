import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Unit tests make temporary projects, keys and state files with `mkdtemp(tmpdir())`.
 * Each run gets one directory of its own as TMPDIR (the test workers and the programs
 * they start inherit it), and the whole directory is removed when the run ends, so a
 * test that forgets its own clean-up leaves nothing in the machine's /tmp.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'sm-unit-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true });
  };
}
