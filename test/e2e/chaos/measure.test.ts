import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { swarmMolecule } from '../support/cli.js';
import { leftoversOfRuns, machineLeftovers, NOTHING_LEFT } from '../support/leaks.js';

const root = mkdtempSync(join(tmpdir(), 'sm-measure-'));
const LEASES = '/run/swarm-molecule/subnets';

/** Run ids whose lease names a state directory under `project`: each size's run, seen while it lives. */
function runIdsUnder(project: string): string[] {
  const ids: string[] = [];
  for (const lease of existsSync(LEASES) ? readdirSync(LEASES) : []) {
    try {
      // A lease is a file holding its owner record (older versions: a directory with an `owner` file).
      const path = join(LEASES, lease);
      const owner = JSON.parse(readFileSync(statSync(path).isDirectory() ? join(path, 'owner') : path, 'utf8')) as { stateDir?: string; runId?: string };
      if (owner.runId && owner.stateDir?.startsWith(project)) ids.push(owner.runId);
    } catch {
      // released while we looked
    }
  }
  return ids;
}

interface Figures {
  repeat: number;
  sizes: { managers: number; electionMs: number[]; firstWriteMs: number[]; election: { n: number; median: number }; settings: { electionTick: number } }[];
}

describe('measure election (real nodes)', () => {
  it('--managers 3,5 makes, measures and destroys each size; prints one table with Swarm\'s settings; writes an SVG and the same figures as JSON', async () => {
    const project = join(root, 'project');
    mkdirSync(join(project, 'scenarios', 'election'), { recursive: true });
    // No workers: the sizes are managers only (the scenario's workers would be added to each).
    writeFileSync(
      join(project, 'scenarios', 'election', 'scenario.yml'),
      'driver:\n  name: netns\nplatforms:\n  - name: manager-01\n    groups: [swarm-leader, swarm-manager]\nconverge:\n  - step: swarm/init\n  - step: swarm/join-managers\n',
    );
    const runIds = new Set<string>();
    const run = swarmMolecule(['measure', 'election', '-s', 'election', '--managers', '3,5', '--repeat', '1', '--json', 'figures.json', '--svg', 'election.svg'], project);
    const watch = setInterval(() => runIdsUnder(project).forEach((id) => runIds.add(id)), 500);
    const result = await run.finally(() => clearInterval(watch));
    expect(result.exitCode, result.all).toBe(0);

    // Both sizes were made (their runs seen) and measured.
    expect(runIds.size, result.all).toBe(2);
    expect(result.all).toMatch(/scenario election-managers-3 /);
    expect(result.all).toMatch(/scenario election-managers-5 /);
    expect(result.all).toMatch(/round 1: stopped manager-01; manager-0\d Leader after [\d.]+ s, first write accepted after [\d.]+ s/);
    const table = result.all.slice(result.all.indexOf('Election time'));
    expect(table).toMatch(/^managers +n +election min +median +p95 +max +first write min +median +p95 +max$/m);
    expect(table).toMatch(/^3 +1 +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+/m);
    expect(table).toMatch(/^5 +1 +[\d.]+/m);
    expect(table).toMatch(/Swarm's settings \(docker info\): raft ElectionTick \d+, HeartbeatTick \d+; dispatcher HeartbeatPeriod [\d.]+ s/);

    const figures = JSON.parse(readFileSync(join(project, 'figures.json'), 'utf8')) as Figures;
    expect(figures.repeat).toBe(1);
    expect(figures.sizes.map((s) => s.managers)).toEqual([3, 5]);
    for (const size of figures.sizes) {
      expect(size.electionMs).toHaveLength(1);
      expect(size.electionMs[0]).toBeGreaterThan(0);
      expect(size.firstWriteMs[0]).toBeGreaterThanOrEqual(size.electionMs[0] ?? 0);
      expect(size.election).toMatchObject({ n: 1, median: size.electionMs[0] });
      expect(size.settings.electionTick).toBeGreaterThan(0);
    }
    // The same figure in the table as in the JSON (seconds, one decimal).
    expect(table).toContain(((figures.sizes[0]?.electionMs[0] ?? 0) / 1000).toFixed(1));

    // The chart parses as SVG, with one dot per figure (2 sizes × 2 series) plus the legend's two.
    const svg = readFileSync(join(project, 'election.svg'), 'utf8');
    const parsed = execFileSync('python3', ['-c', 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); print(r.tag, len(r.findall(".//{http://www.w3.org/2000/svg}circle")))', join(project, 'election.svg')], { encoding: 'utf8' });
    expect(parsed.trim()).toBe('{http://www.w3.org/2000/svg}svg 6');
    expect(svg).toContain('3 managers, new Leader 1:');

    expect(leftoversOfRuns(machineLeftovers(), [...runIds])).toEqual(NOTHING_LEFT);
    expect(runIdsUnder(project)).toEqual([]); // every lease released
  });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));
