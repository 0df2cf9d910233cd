import { execa, type ResultPromise } from 'execa';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const bin = fileURLToPath(new URL('../../../bin/swarm-molecule.js', import.meta.url));

/** The built CLI, run as a user would (in `cwd`, plain output as in CI), with `env` added to this process's. */
export function swarmMolecule(args: string[], cwd: string = repoRoot, env: Record<string, string> = {}): ResultPromise<{ reject: false; all: true; env: Record<string, string> }> {
  // A SIGTERM a test sends is the harness's to handle: execa must not follow it with its own SIGKILL.
  return execa('node', [bin, ...args], { cwd, reject: false, all: true, forceKillAfterDelay: false, env: { CI: 'true', NO_COLOR: '1', ...env } });
}
