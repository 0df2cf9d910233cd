import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { repoRoot, swarmMolecule } from './support/cli.js';
import { findLeftovers, leftoversSince, NOTHING_LEFT, type Leftovers } from './support/leaks.js';

const fixture = (name: string) => join(repoRoot, 'fixtures', 'projects', name);
const stateOf = (projectDir: string) =>
  JSON.parse(readFileSync(join(projectDir, '.swarm-molecule', 'default', 'state.json'), 'utf8')) as Record<string, unknown>;

describe('swarm-molecule test on real nodes (netns driver)', () => {
  let before: Leftovers;
  beforeEach(() => {
    before = findLeftovers();
  });
  afterEach(() => {
    // Whatever happened in the test, nothing it made may remain on the machine.
    expect(leftoversSince(before)).toEqual(NOTHING_LEFT);
  });

  it('passes the default scenario: 3 managers and 3 workers through the whole lifecycle', async () => {
    const result = await swarmMolecule(['test']);
    const output = result.all;
    expect(result.exitCode, output).toBe(0);
    // The whole default sequence ran, in order, each action passed.
    for (const action of ['destroy', 'syntax', 'create', 'converge', 'idempotence', 'lint', 'verify']) {
      expect(output).toMatch(new RegExp(`^ {2}${action}\\s+passed`, 'm'));
    }
    // Converge changed each node once, with before → after.
    expect(output).toMatch(/changed\s+manager-01 .*swarm: inactive → manager \(leader/);
    expect(output).toMatch(/changed\s+manager-03 .*swarm: inactive → manager/);
    expect(output).toMatch(/changed\s+worker-02 .*swarm: inactive → worker/);
    expect(output).toMatch(/changed\s+manager-02 .*availability: active → drain/);
    expect(output).toMatch(/changed\s+worker-03 .*label zone: \(none\) → b/);
    expect(output).toMatch(/changed\s+manager-01 .*network apps: absent → overlay/);
    // Every built-in verify step ran for real and passed, with its measured figures.
    for (const step of ['node-roles', 'rolling-update', 'published-port', 'failover-workers', 'failover-leader']) {
      expect(output).toMatch(new RegExp(`passed\\s+swarm/${step}`));
    }
    expect(output).toMatch(/swarm\/failover-leader: .*election.*: \d+\.\d s/i);
    expect(output).toMatch(/ingress mesh: skipped, no IPVS/);
    // A recap per host: on the idempotence rerun every step was ok.
    expect(output).toMatch(/^ {2}worker-01\s+ok=\d+\s+changed=2\s+failed=0/m);
    // Join tokens never appear.
    expect(output).not.toMatch(/SWMTKN/);
    const state = stateOf(repoRoot);
    expect(state).toMatchObject({ created: false, converged: false, lastAction: 'destroy' });
    expect(JSON.stringify(state)).not.toMatch(/SWMTKN/);
  });

  it('fails idempotence naming the step, the host and what changed, and still destroys', async () => {
    const project = fixture('non-idempotent');
    const report = join(project, '.swarm-molecule', 'report.xml');
    const result = await swarmMolecule(['test', '--junit', report], project);
    const output = result.all;
    expect(result.exitCode, output).toBe(1);
    expect(output).toMatch(/^ {2}idempotence\s+failed/m);
    expect(output).toContain('step "bump-counter" on nonidem-worker: counter: 1 → 2');
    // Only that host and step changed on the rerun.
    expect(output).not.toMatch(/step "swarm\/init" on/);
    expect(output).toMatch(/^ {2}verify\s+skipped/m);
    expect(output).toMatch(/^ {2}destroy\s+passed/m);
    expect(stateOf(project)).toMatchObject({ created: false, lastAction: 'destroy' });
    const xml = readFileSync(report, 'utf8');
    // The failure is counted once, on the step and host that changed, with what changed.
    expect(xml).toMatch(/<testcase classname="default.idempotence" name="bump-counter on nonidem-worker" time="[\d.]+">\s*<failure message="changed on the second converge: counter: 1 → 2"/);
    // Not on the action too: its case holds only where its time went.
    expect(xml).toMatch(/<testcase classname="default.action" name="idempotence" time="[\d.]+">\s*<system-out>time: [^<]*<\/system-out>\s*<\/testcase>/);
    expect(xml).toMatch(/<testsuite name="default" timestamp="[^"]+" hostname="[^"]+" tests="14" failures="1" errors="0" skipped="2"/);
  });

  it('cleans up after an interrupt during converge and leaves a state file the next command trusts', async () => {
    const project = fixture('small');
    const report = join(project, '.swarm-molecule', 'report.xml');
    const run = swarmMolecule(['test', '--junit', report], project);
    let seen = '';
    await new Promise<void>((resolve) => {
      run.all?.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('── converge')) resolve();
      });
    });
    run.kill('SIGINT');
    const result = await run;
    expect(result.exitCode, result.all).toBe(130);
    expect(result.all).toMatch(/^ {2}destroy\s+passed/m);
    expect(stateOf(project)).toMatchObject({ created: false });
    expect(readFileSync(report, 'utf8')).toMatch(/<error message="Interrupted by SIGINT\."/);
    const list = await swarmMolecule(['list'], project);
    expect(list.exitCode, list.all).toBe(0);
    expect(list.all).toMatch(/default\s+-\s+-\s+not created/);
  });
});
