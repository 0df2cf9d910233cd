import { execa } from 'execa';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, swarmMolecule } from './support/cli.js';
import { findLeftovers, leftoversSince, NOTHING_LEFT, type Leftovers } from './support/leaks.js';

/** A copy of a fixture project in a temporary directory, so its state is this test's own. */
function projectFrom(fixture: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sm-ux-'));
  cpSync(join(repoRoot, 'fixtures', 'projects', fixture), dir, { recursive: true });
  return dir;
}

const json = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as { scenarios: { actions: { action: string; converge?: unknown[]; verify?: unknown[] }[] }[] };

describe('what a person and CI see of custom steps (netns driver)', () => {
  let project: string;
  let before: Leftovers;
  beforeAll(() => {
    before = findLeftovers();
    project = projectFrom('ux-steps');
  });
  afterAll(async () => {
    const destroy = await swarmMolecule(['destroy'], project);
    expect(destroy.exitCode, destroy.all).toBe(0);
    expect(leftoversSince(before)).toEqual(NOTHING_LEFT);
    rmSync(project, { recursive: true, force: true });
  });

  it('refuses idempotence and exec before there is anything to work on (exit 2, "create them first")', async () => {
    const idempotence = await swarmMolecule(['idempotence'], project);
    expect(idempotence.exitCode, idempotence.all).toBe(2);
    const exec = await swarmMolecule(['exec', '-h', 'ux-manager', '--', 'true'], project);
    expect(exec.exitCode, exec.all).toBe(2);
    expect(exec.all).toMatch(/create them first/i);
  });

  it('shows ctx.log() lines of converge steps under the step, in the node logs and in --json', async () => {
    const converge = await swarmMolecule(['converge', '--json', 'converge.json'], project);
    expect(converge.exitCode, converge.all).toBe(0);
    expect(converge.all).toMatch(/^ {3}greet\n(?:.*\n)*? {12}ux-(manager|worker): hello from ux-(manager|worker)$/m);
    expect(readFileSync(join(project, '.swarm-molecule', 'default', 'logs', 'ux-worker.log'), 'utf8')).toMatch(/log greet: hello from ux-worker/);
    const greet = json(join(project, 'converge.json')).scenarios[0]?.actions.find((a) => a.action === 'converge')?.converge?.at(-1);
    expect(greet).toMatchObject({ name: 'greet', log: expect.arrayContaining([{ message: 'hello from ux-worker', host: 'ux-worker' }]) as unknown });
    // RECAP per action, hosts in scenario order.
    expect(converge.all).toMatch(/RECAP converge\n {2}ux-manager .*\n {2}ux-worker /);
  });

  it('reports a step that throws as a step error: its stack, a code frame of the step file, a hint at the file, not login', async () => {
    const verify = await swarmMolecule(['verify', '--json', 'verify.json', '--junit', 'verify.xml'], project);
    const output = verify.all;
    expect(verify.exitCode, output).toBe(1);
    expect(output).toMatch(/^ {3}error {4}crash /m);
    expect(output).toContain("TypeError: Cannot read properties of undefined (reading 'name')");
    expect(output).toMatch(/❯ scenarios\/default\/steps\/crash\.ts:13:\d+/);
    expect(output).toMatch(/> 13 \| {5}ctx\.log\(service\.spec!\.name\);\n {19}\| {26}\^/);
    expect(output).toMatch(/at .*scenarios\/default\/steps\/crash\.ts:13:\d+/);
    // The stack is the step's, not the harness's.
    expect(output).not.toMatch(/at .*dist\/steps\/run\.js/);
    // A command of one action has one summary row.
    expect(output).toMatch(/SUMMARY\n {2}verify +failed +[\d.]+s {2}\(exit 1\)\n*$/);
    expect(output).toMatch(/→ Fix step "crash" in scenarios\/default\/steps\/crash\.ts:13:\d+: its code threw TypeError\./);
    expect(output).not.toMatch(/login/);
    expect(output).not.toMatch(/--destroy passing/);
    // The other steps still ran, with their log lines.
    expect(output).toMatch(/passed\s+swarm\/node-roles/);
    expect(output).toMatch(/note: leader is ux-manager/);
    expect(output).toMatch(/crash: about to look at the service/);

    const checks = json(join(project, 'verify.json')).scenarios[0]?.actions[0]?.verify as Record<string, unknown>[];
    expect(checks[0]).toMatchObject({ name: 'crash', status: 'failed', error: { name: 'TypeError', file: 'scenarios/default/steps/crash.ts', line: 13 } });
    expect(checks[2]).toMatchObject({ name: 'note', log: [{ message: 'leader is ux-manager' }] });

    const xml = readFileSync(join(project, 'verify.xml'), 'utf8');
    expect(xml).toMatch(/<testsuite name="default" timestamp="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d" hostname="[^"]+" tests="4" failures="0" errors="1" skipped="0"/);
    expect(xml).toMatch(/<error message="TypeError: [^"]*" type="TypeError">scenarios\/default\/steps\/crash\.ts:13:\d+/);
  });
});

describe('messages and CI output without nodes', () => {
  const project = projectFrom('ux-steps');
  mkdirSync(join(project, 'scenarios', 'dup'), { recursive: true });
  writeFileSync(
    join(project, 'scenarios', 'dup', 'scenario.yml'),
    'driver:\n  name: netns\nplatforms:\n  - name: d-manager\n    groups: [swarm-leader, swarm-manager]\n    groups: [swarm-manager]\nconverge:\n  - step: swarm/init\n',
  );
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('lint --format github writes workflow annotations at file, line and column (exit 1)', async () => {
    const lint = await swarmMolecule(['lint', '-s', 'dup', '--format', 'github'], project);
    expect(lint.exitCode, lint.all).toBe(1);
    expect(lint.stdout).toMatch(/^::error file=scenarios\/dup\/scenario\.yml,line=6,col=5,title=yaml-duplicate-keys::Duplicate key "groups"/m);
    const sarif = await swarmMolecule(['lint', '-s', 'dup', '--format', 'sarif'], project);
    expect(JSON.parse(sarif.stdout)).toMatchObject({ version: '2.1.0', runs: [{ results: [{ ruleId: 'yaml-duplicate-keys', locations: [{ physicalLocation: { region: { startLine: 6, startColumn: 5 } } }] }] }] });
  });

  it('honours FORCE_COLOR=1 without a terminal', async () => {
    const bin = join(repoRoot, 'bin', 'swarm-molecule.js');
    const lint = await execa('node', [bin, 'lint', '-s', 'dup'], { cwd: project, reject: false, env: { FORCE_COLOR: '1', CI: 'true', NO_COLOR: '' } });
    expect(lint.stdout).toContain('\u001b[');
  });

  it('verify --step with no match is a usage error naming the steps there are (exit 2)', async () => {
    const verify = await swarmMolecule(['verify', '--step', 'nothing-like-this'], project);
    expect(verify.exitCode, verify.all).toBe(2);
    expect(verify.all).toContain('No verify step of scenario "default" matches --step "nothing-like-this".');
    expect(verify.all).toContain('./steps/crash.ts');
  });
});
