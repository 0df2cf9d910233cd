import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { swarmMolecule } from './support/cli.js';
import { findLeftovers, leftoversSince, NOTHING_LEFT, type Leftovers } from './support/leaks.js';

/** A project of scenarios that cannot load (or fail syntax) beside one that runs on real nodes. */
const SCENARIOS: Record<string, string> = {
  // The one that runs: a single-node swarm.
  good: 'driver:\n  name: netns\nplatforms:\n  - name: rep-leader\n    groups: [swarm-leader, swarm-manager]\nconverge:\n  - step: swarm/init\nverify:\n  - step: swarm/node-roles\n',
  // An unclosed quote: the YAML does not parse.
  'bad-yaml': 'driver:\n  name: netns\nplatforms:\n  - name: "rep-yaml\n    groups: [swarm-leader]\n',
  // A key the schema does not know, and a step that does not exist: both in one round.
  'bad-schema': 'driver:\n  name: netns\nplatforms:\n  - name: rep-schema\n    groups: [swarm-leader]\n    gropus: [swarm-manager]\nconverge:\n  - step: swarm/inti\n',
  // Loads (the last key wins) but fails syntax.
  dup: 'driver:\n  name: netns\nplatforms:\n  - name: rep-dup\n    groups: [swarm-manager]\n    groups: [swarm-leader, swarm-manager]\nconverge:\n  - step: swarm/init\n',
};

interface JsonReport {
  passed: boolean;
  scenarios: { info: { scenario: string }; status: string; exitCode: number; actions: { action: string; status: string; message?: string; diagnostics?: { file: string; line: number; col: number; code: string }[] }[] }[];
}

const suiteOf = (xml: string, name: string) => new RegExp(`<testsuite name="${name}"[^>]*>[\\s\\S]*?</testsuite>`).exec(xml)?.[0] ?? '';

describe('reports are written when a scenario cannot load (netns driver)', () => {
  let project: string;
  let before: Leftovers;
  beforeAll(() => {
    before = findLeftovers();
    project = mkdtempSync(join(tmpdir(), 'sm-reports-'));
    for (const [name, text] of Object.entries(SCENARIOS)) {
      mkdirSync(join(project, 'scenarios', name), { recursive: true });
      writeFileSync(join(project, 'scenarios', name, 'scenario.yml'), text);
    }
  });
  afterAll(async () => {
    const destroy = await swarmMolecule(['destroy', '-s', 'good'], project);
    expect(destroy.exitCode, destroy.all).toBe(0);
    expect(leftoversSince(before)).toEqual(NOTHING_LEFT);
    rmSync(project, { recursive: true, force: true });
  });

  it('test --all --parallel 2: the broken scenarios are failed testsuites with file:line:col, the good one still runs, exit 2', async () => {
    const run = await swarmMolecule(['test', '--all', '--parallel', '2', '--junit', 'out/report.xml', '--json', 'out/report.json'], project);
    expect(run.exitCode, run.all).toBe(2);
    expect(run.all).toMatch(/4 scenarios: bad-schema failed, bad-yaml failed, dup failed, good passed/);

    const report = JSON.parse(readFileSync(join(project, 'out', 'report.json'), 'utf8')) as JsonReport;
    expect(report.passed).toBe(false);
    const byName = new Map(report.scenarios.map((s) => [s.info.scenario, s]));
    expect([...byName.keys()].sort()).toEqual(['bad-schema', 'bad-yaml', 'dup', 'good']);
    expect(byName.get('good')).toMatchObject({ status: 'passed', exitCode: 0 });
    // Converge and verify really ran on the node.
    expect(byName.get('good')?.actions.map((a) => `${a.action} ${a.status}`)).toEqual(['destroy passed', 'syntax passed', 'create passed', 'converge passed', 'idempotence passed', 'lint passed', 'verify passed', 'destroy passed']);
    const where = (name: string) => byName.get(name)?.actions[0]?.diagnostics?.map((d) => `${d.file}:${d.line}:${d.col} ${d.code}`);
    expect(byName.get('bad-yaml')).toMatchObject({ status: 'failed', exitCode: 2, actions: [{ action: 'syntax', status: 'failed', message: 'Scenario "bad-yaml" is not valid (1 problem).' }] });
    expect(where('bad-yaml')).toEqual(['scenarios/bad-yaml/scenario.yml:4:11 yaml']);
    expect(where('bad-schema')).toEqual(['scenarios/bad-schema/scenario.yml:6:5 schema', 'scenarios/bad-schema/scenario.yml:8:11 syntax']);
    expect(byName.get('dup')?.actions[0]?.message).toBe('Scenario "dup" fails the syntax check (1 error): nothing was touched.');
    expect(where('dup')).toEqual(['scenarios/dup/scenario.yml:6:5 yaml']);

    const xml = readFileSync(join(project, 'out', 'report.xml'), 'utf8');
    expect(suiteOf(xml, 'good')).toMatch(/failures="0" errors="0"/);
    for (const [name, position] of [['bad-yaml', '4:11'], ['bad-schema', '6:5'], ['dup', '6:5']] as const) {
      const suite = suiteOf(xml, name);
      expect(suite, name).toMatch(/tests="1" failures="1" errors="0"/);
      expect(suite, name).toContain(`<failure message="Scenario &quot;${name}&quot;`);
      expect(suite, name).toContain(`scenarios/${name}/scenario.yml:${position}: error`);
    }
  });

  it('a single named scenario that cannot load still gets its reports (exit 2)', async () => {
    const run = await swarmMolecule(['test', '-s', 'bad-schema', '--junit', 'single.xml', '--json', 'single.json'], project);
    expect(run.exitCode, run.all).toBe(2);
    expect(run.all).toContain('scenarios/bad-schema/scenario.yml:6:5');
    // Every problem at once: the unknown step beside the unknown key.
    expect(run.all).toContain('scenarios/bad-schema/scenario.yml:8:11 error syntax Unknown built-in step "swarm/inti".');
    expect(suiteOf(readFileSync(join(project, 'single.xml'), 'utf8'), 'bad-schema')).toMatch(/failures="1"/);
    expect(JSON.parse(readFileSync(join(project, 'single.json'), 'utf8'))).toMatchObject({ passed: false, scenarios: [{ status: 'failed', exitCode: 2 }] });
  });

  it('syntax refuses a duplicate key at its position, before any node exists (exit 2)', async () => {
    const syntax = await swarmMolecule(['syntax', '-s', 'dup'], project);
    expect(syntax.exitCode, syntax.all).toBe(2);
    expect(syntax.all).toContain('scenarios/dup/scenario.yml:6:5');
    expect(syntax.all).toContain('Duplicate key "groups": this value replaces the one at line 5.');
  });
});
