import { execa, type ResultPromise } from 'execa';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const bin = fileURLToPath(new URL('../../../bin/swarm-molecule.js', import.meta.url));

/** The built CLI, run as a user would (in `cwd`, plain output as in CI), with `env` added to this process's. */
export function swarmMolecule(args: string[], cwd: string = repoRoot, env: Record<string, string> = {}): ResultPromise<{ reject: false; all: true; env: Record<string, string> }> {
  // A SIGTERM a test sends is the harness's to handle: execa must not follow it with its own SIGKILL.
  return execa('node', [bin, ...args], { cwd, reject: false, all: true, forceKillAfterDelay: false, env: { CI: 'true', NO_COLOR: '1', ...env } });
}

/**
 * The CLI with its stderr and stdout on one pipe, so the output reads in the
 * order the harness wrote it, as a terminal shows it (`all` of two pipes
 * interleaves by arrival, which a loaded machine reorders). Same pid as the CLI.
 */
export function swarmMoleculeOnePipe(args: string[], cwd: string = repoRoot): ResultPromise<{ reject: false; all: true; env: Record<string, string> }> {
  return execa('sh', ['-c', 'exec node "$0" "$@" 2>&1', bin, ...args], { cwd, reject: false, all: true, forceKillAfterDelay: false, env: { CI: 'true', NO_COLOR: '1' } });
}

/** The test hooks that hold a run once its partition is in place (until it is interrupted or killed). */
export const PAUSE_AT_PARTITIONED = { SWARM_MOLECULE_TEST_HOOKS: '1', SWARM_MOLECULE_TEST_PAUSE_AT: 'partitioned' };

/**
 * Start the CLI and wait until its output says `marker`: `said` is false when
 * the run ended first, `seen` its output so far. How a test acts once the run
 * is there, instead of after a fixed sleep.
 */
export async function startUntilSaid(args: string[], cwd: string, marker: string, env: Record<string, string> = {}) {
  const run = swarmMolecule(args, cwd, env);
  let seen = '';
  const said = await new Promise<boolean>((resolve) => {
    run.all?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(marker)) resolve(true);
    });
    void run.then(() => resolve(false));
  });
  return { run, said, seen: () => seen };
}

/**
 * Start the CLI with the partition pause hook and wait until it says it holds
 * there: `paused` is false when the run ended first, `seen` its output so far.
 */
export async function startPausedAtPartition(args: string[], cwd: string = repoRoot, env: Record<string, string> = {}) {
  const { run, said, seen } = await startUntilSaid(args, cwd, 'swarm-molecule test hook: paused at partitioned', { ...env, ...PAUSE_AT_PARTITIONED });
  return { run, paused: said, seen };
}
