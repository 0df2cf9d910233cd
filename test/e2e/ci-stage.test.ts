import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { repoRoot, swarmMolecule } from './support/cli.js';
import { findLeftovers, leftoversSince, NOTHING_LEFT, type Leftovers } from './support/leaks.js';

describe('swarm-molecule as a CI stage', () => {
  let before: Leftovers;
  beforeEach(() => {
    before = findLeftovers();
  });
  afterEach(() => {
    expect(leftoversSince(before)).toEqual(NOTHING_LEFT);
  });

  it('runs two scenarios in parallel, each on its own subnet, in blocks, with one JUnit report', async () => {
    const project = join(repoRoot, 'fixtures', 'projects', 'parallel');
    const report = join(project, '.swarm-molecule', 'report.xml');
    const json = join(project, '.swarm-molecule', 'report.json');
    const result = await swarmMolecule(['test', '--all', '--parallel', '2', '--junit', report, '--json', json], project);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toContain('2 scenarios: alpha passed, beta passed');
    // Output does not interleave: each scenario's block is contiguous.
    const headers = [...result.all.matchAll(/swarm-molecule test {2}scenario (\w+)/g)].map((m) => m[1]);
    expect(headers.sort()).toEqual(['alpha', 'beta']);
    for (const name of ['alpha', 'beta']) {
      const block = result.all.slice(result.all.indexOf(`scenario ${name}`));
      const end = block.indexOf('(exit 0)');
      expect(block.slice(0, end)).not.toMatch(new RegExp(`${name === 'alpha' ? 'beta' : 'alpha'}-manager`));
    }
    // Two different subnets were used at once.
    const subnets = new Set([...result.all.matchAll(/up at (\d+\.\d+\.\d+)\.\d+/g)].map((m) => m[1]));
    expect(subnets.size).toBe(2);
    const xml = readFileSync(report, 'utf8');
    // Per scenario: the actions, each converge and idempotence step per host, and each verify check.
    expect(xml).toMatch(/<testsuites name="swarm-molecule" tests="26" failures="0" errors="0" skipped="0"/);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toMatchObject({ passed: true, scenarios: [{ status: 'passed' }, { status: 'passed' }] });
  });

  it('scaffolds a scenario that passes syntax and lint, and lists the actions of a command', async () => {
    const project = mkdtempSync(join(tmpdir(), 'sm-init-'));
    try {
      const init = await swarmMolecule(['init', 'scenario', 'demo'], project);
      expect(init.exitCode, init.all).toBe(0);
      expect((await swarmMolecule(['syntax', '-s', 'demo'], project)).all).toContain('syntax: no problems found');
      expect((await swarmMolecule(['lint', '-s', 'demo'], project)).exitCode).toBe(0);
      const matrix = await swarmMolecule(['matrix', 'converge', '-s', 'demo'], project);
      expect(matrix.all).toBe('demo:\n  - create\n  - converge');
      expect((await swarmMolecule(['test', '--shard', '3/2'], project)).exitCode).toBe(2);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
