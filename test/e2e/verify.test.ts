import { execa } from 'execa';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { repoRoot, swarmMolecule } from './support/cli.js';
import { findLeftovers, leftoversSince, NOTHING_LEFT, type Leftovers } from './support/leaks.js';

const fixture = (name: string) => join(repoRoot, 'fixtures', 'projects', name);

/** Run `commands` in order in `project`, then destroy whatever happened; the results in order. */
async function session(project: string, commands: string[][], use: (results: { exitCode: number | undefined; all: string }[]) => void): Promise<void> {
  const results: { exitCode: number | undefined; all: string }[] = [];
  try {
    for (const args of commands) {
      const result = await swarmMolecule(args, project);
      results.push({ exitCode: result.exitCode, all: result.all });
    }
    use(results);
  } finally {
    const destroy = await swarmMolecule(['destroy'], project);
    expect(destroy.exitCode, destroy.all).toBe(0);
  }
}

/** The seconds a verify step took, from its result line. */
function stepSeconds(output: string, status: string, step: string): number {
  const match = new RegExp(`^\\s+${status}\\s+${step.replace('/', '\\/')}\\s+([\\d.]+)s`, 'm').exec(output);
  if (!match) throw new Error(`No "${status} ${step}" line in:\n${output}`);
  return Number(match[1]);
}

describe('built-in verify steps on real nodes (netns driver)', () => {
  let before: Leftovers;
  beforeEach(() => {
    before = findLeftovers();
  });
  afterEach(() => {
    expect(leftoversSince(before)).toEqual(NOTHING_LEFT);
  });

  it('swarm/node-roles fails naming a worker that converge promoted, with its observed role', async () => {
    await session(fixture('promoted-worker'), [['converge'], ['verify']], ([converge, verify]) => {
      expect(converge?.exitCode, converge?.all).toBe(0);
      expect(converge?.all).toMatch(/changed\s+promo-worker .*role: worker → manager/);
      const output = verify?.all ?? '';
      expect(verify?.exitCode, output).toBe(1);
      expect(output).toMatch(/failed\s+swarm\/node-roles/);
      expect(output).toContain('promo-worker should be a worker but is a manager (Reachable)');
      // Expected and observed, the observed table showing the role it has.
      expect(output).toMatch(/expected:\n\s+promo-manager: Ready, Leader or Reachable, Active\n\s+promo-worker: Ready, worker, Active/);
      expect(output).toMatch(/observed:\n\s+HOSTNAME\s+STATUS\s+AVAILABILITY\s+MANAGER STATUS\n(?:.*\n)*\s+promo-worker\s+Ready\s+Active\s+Reachable/);
    });
  });

  it('swarm/rolling-update fails on an update that never starts, showing the update state and task errors within its timeout; on a terminal its live line follows the update', async () => {
    const project = fixture('broken-update');
    // On a terminal (a pty from script(1)), as a person runs it: the live line is drawn.
    const command = ['node', join(repoRoot, 'bin', 'swarm-molecule.js'), 'test'].map((a) => `'${a}'`).join(' ');
    const result = await execa('script', ['-qefc', command, '/dev/null'], { cwd: project, reject: false, all: true, env: { CI: '', NO_COLOR: '1' } });
    // What the terminal shows once the live line is cleared: each line after its last carriage return.
    const screen = (result.all ?? '').replaceAll('\r\n', '\n');
    const output = screen
      .split('\n')
      .map((line) => (line.split('\r').at(-1) ?? '').replaceAll('\x1b[2K', ''))
      .join('\n');
    // Every state of the live line that was drawn.
    const live = screen.split(/[\r\n]/).map((line) => line.replaceAll('\x1b[2K', ''));
    const following = live.filter((line) => /verify › swarm\/rolling-update › \d\/2 tasks of swarm-molecule\/web:broken running(, \d of swarm-molecule\/web:v1)? · (updating|paused) \(\d+ s of 60 s\)$/.test(line));
    expect(following.length, screen).toBeGreaterThan(0);
    expect(live.some((line) => /verify › swarm\/rolling-update › waiting for the rolling update of sm-rolling-update to swarm-molecule\/web:broken \(\d+ s of 60 s\)$/.test(line)), screen).toBe(true);
    expect(result.exitCode, output).toBe(1);
    expect(output).toMatch(/^ {2}verify\s+failed/m);
    expect(output).toMatch(/^ {2}destroy\s+passed/m);
    expect(output).toContain('The rolling update of sm-rolling-update to swarm-molecule/web:broken did not complete: the update ended paused');
    expect(output).toContain('task errors: task: non-zero exit (1)');
    expect(output).toMatch(/expected:\n\s+UpdateStatus.State completed; 2 tasks Running swarm-molecule\/web:broken/);
    expect(output).toMatch(/observed:\n\s+UpdateStatus: paused \(update paused due to failure or early termination of task \w+\)/);
    expect(output).toMatch(/sm-rolling-update\.\d\s+swarm-molecule\/web:broken\s+broken-worker-\d\s+Shutdown\s+Failed .*task: non-zero exit \(1\)/);
    // Paused is final: the step fails as soon as it is, not at its 60 s timeout.
    expect(stepSeconds(output, 'failed', 'swarm/rolling-update')).toBeLessThan(60);
  });

  it('verify passes twice in a row with the failover steps: they restore what they stop', async () => {
    await session(fixture('failover'), [['converge'], ['verify'], ['verify']], ([converge, first, second]) => {
      expect(converge?.exitCode, converge?.all).toBe(0);
      for (const verify of [first, second]) {
        const output = verify?.all ?? '';
        expect(verify?.exitCode, output).toBe(0);
        expect(output).toMatch(/passed\s+swarm\/failover-workers/);
        expect(output).toMatch(/passed\s+swarm\/failover-leader/);
        expect(output).toMatch(/passed\s+swarm\/node-roles/);
        expect(output).toMatch(/swarm\/failover-workers: reschedule time: \d+\.\d s/);
        expect(output).toMatch(/swarm\/failover-leader: leader election time: \d+\.\d s/);
        expect(output).toMatch(/swarm\/failover-leader: restarted fo-manager-\d: back in the swarm/);
      }
      // The second run stops whichever manager leads now, which may not be the first one.
      expect(second?.all).toMatch(/swarm\/failover-leader: stopped fo-manager-\d \(Leader\); fo-manager-\d is Leader after/);
    });
  });
});
