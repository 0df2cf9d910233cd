import { execa } from 'execa';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, swarmMolecule, swarmMoleculeOnePipe } from './support/cli.js';
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

  it('login without a terminal (</dev/null) says so at once instead of waiting forever (exit 2)', async () => {
    const login = await execa('node', [join(repoRoot, 'bin', 'swarm-molecule.js'), 'login', '-h', 'ux-manager'], {
      cwd: project,
      reject: false,
      all: true,
      inputFile: '/dev/null',
      env: { CI: 'true', NO_COLOR: '1' },
      // A hang fails the test here instead of stalling the suite.
      timeout: 60_000,
    });
    expect(login.timedOut, login.all).toBe(false);
    expect(login.exitCode, login.all).toBe(2);
    expect(login.all).toContain('"login" needs a terminal, but its input is not one (node "ux-manager", scenario "default").');
    expect(login.all).toContain('swarm-molecule exec -s default -h ux-manager -- CMD ARGS...');
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
    // The action's row with where its time went, then the whole command under its own label.
    // (A phase under 5 ms is left out on screen: the crash itself may be; swarm/node-roles takes longer.)
    expect(output).toMatch(/SUMMARY\n {2}verify +failed +[\d.]+s\n {6}start [\d.]+s · .*swarm\/node-roles [\d.]+s.*\n {2}total +failed +[\d.]+s {2}\(exit 1\)\n*$/);
    expect(output).toMatch(/→ Fix step "crash" in scenarios\/default\/steps\/crash\.ts:13:\d+: its code threw TypeError\./);
    expect(output).not.toMatch(/login/);
    expect(output).not.toMatch(/--destroy passing/);
    // The other steps still ran, with their log lines.
    expect(output).toMatch(/passed\s+swarm\/node-roles/);
    expect(output).toMatch(/note: leader is ux-manager/);
    expect(output).toMatch(/crash: about to look at the service/);

    const action = json(join(project, 'verify.json')).scenarios[0]?.actions[0] as unknown as { durationMs: number; phases: { name: string; durationMs: number }[] };
    // Every millisecond of the action is attributed: its phases add up to it.
    const attributed = action.phases.reduce((sum, p) => sum + p.durationMs, 0);
    expect(Math.abs(attributed - action.durationMs), JSON.stringify(action)).toBeLessThanOrEqual(action.durationMs * 0.05);
    // The nodes are checked and connected in one round trip before the first step: one phase.
    expect(action.phases.map((p) => p.name)).toEqual(expect.arrayContaining(['start', 'crash', 'note']));
    expect(action.phases.map((p) => p.name)).not.toContain('check nodes');
    const checks = json(join(project, 'verify.json')).scenarios[0]?.actions[0]?.verify as Record<string, unknown>[];
    expect(checks[0]).toMatchObject({ name: 'crash', status: 'failed', error: { name: 'TypeError', file: 'scenarios/default/steps/crash.ts', line: 13 } });
    expect(checks[2]).toMatchObject({ name: 'note', log: [{ message: 'leader is ux-manager' }] });

    const xml = readFileSync(join(project, 'verify.xml'), 'utf8');
    expect(xml).toMatch(/<testsuite name="default" timestamp="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d" hostname="[^"]+" tests="4" failures="0" errors="1" skipped="0"/);
    expect(xml).toMatch(/<error message="TypeError: [^"]*" type="TypeError">scenarios\/default\/steps\/crash\.ts:13:\d+/);
    expect(xml).toMatch(/<system-out>time: start [\d.]+ s, /);
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

  it('login --all and exec --all are refused, not taken for the default scenario (exit 2)', async () => {
    for (const args of [['login', '--all', '-h', 'ux-manager'], ['exec', '--all', '-h', 'ux-manager', '--', 'true']]) {
      const run = await swarmMolecule(args, project);
      expect(run.exitCode, run.all).toBe(2);
      expect(run.all).toContain(`"${args[0] ?? ''}" works on one node of one scenario; --all is not for ${args[0] ?? ''}.`);
      expect(run.all).toContain(`swarm-molecule ${args[0] ?? ''} -s NAME -h NODE`);
    }
  });

  it('verify --step with no match is a usage error naming the steps there are (exit 2)', async () => {
    const verify = await swarmMolecule(['verify', '--step', 'nothing-like-this'], project);
    expect(verify.exitCode, verify.all).toBe(2);
    expect(verify.all).toContain('No verify step of scenario "default" matches --step "nothing-like-this".');
    expect(verify.all).toContain('./steps/crash.ts');
  });
});

describe('syntax type-checks TypeScript steps with the project\'s own TypeScript', () => {
  const root = mkdtempSync(join(tmpdir(), 'sm-types-'));
  /** A project with a scenario of TypeScript steps; `typescript` installed in it or not. */
  function project(name: string, withTypeScript: boolean, files: Record<string, string>): string {
    const dir = join(root, name);
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    // As `npm i -D swarm-molecule` (and `typescript`) would leave them.
    symlinkSync(repoRoot, join(dir, 'node_modules', 'swarm-molecule'));
    if (withTypeScript) symlinkSync(join(repoRoot, 'node_modules', 'typescript'), join(dir, 'node_modules', 'typescript'));
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(join(dir, file, '..'), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
    return dir;
  }
  const SCENARIO =
    'driver:\n  name: netns\nplatforms:\n  - name: t-manager\n    groups: [swarm-leader, swarm-manager]\nconverge:\n  - step: swarm/init\n  - step: ./steps/tag.ts\nverify:\n  - step: ./steps/wait.ts\n';
  const STEPS = {
    'scenarios/default/scenario.yml': SCENARIO,
    // A converge step without its required "hosts".
    'scenarios/default/steps/tag.ts': "import { defineConvergeStep, ok } from 'swarm-molecule';\n\nexport default defineConvergeStep({\n  name: 'tag',\n  description: 'Tag the nodes.',\n  async apply() {\n    return ok();\n  },\n});\n",
    // A string for a number, and what it imports misspells "length".
    'scenarios/default/steps/wait.ts':
      "import { defineVerifyStep } from 'swarm-molecule';\nimport { count } from './count.js';\n\nexport default defineVerifyStep({\n  name: 'wait',\n  description: 'Wait for the nodes.',\n  async verify(ctx) {\n    await ctx.eventually(async () => count(ctx.hosts.map((h) => h.name)), { timeout: '30s' });\n  },\n});\n",
    'scenarios/default/steps/count.ts': 'export function count(names: string[]): number {\n  return names.lenght;\n}\n',
  };
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reports each type error at file:line:col with a code frame (exit 2), in the step and in what it imports', async () => {
    const dir = project('typed', true, STEPS);
    const syntax = await swarmMolecule(['syntax'], dir);
    expect(syntax.exitCode, syntax.all).toBe(2);
    expect(syntax.all).toMatch(/scenarios\/default\/steps\/count\.ts:2:16 +error +typescript +TS2551: Property 'lenght' does not exist on type 'string\[\]'\. Did you mean 'length'\?/);
    expect(syntax.all).toMatch(/> 2 \| {3}return names\.lenght;\n +\| +\^/);
    expect(syntax.all).toMatch(/scenarios\/default\/steps\/tag\.ts:3:\d+ +error +typescript +TS2345: .*Property 'hosts' is missing/);
    expect(syntax.all).toMatch(/scenarios\/default\/steps\/wait\.ts:8:\d+ +error +typescript +TS2322: Type 'string' is not assignable to type 'number'\./);
    expect(syntax.all).toMatch(/type-checked 2 TypeScript step modules with TypeScript \d+\.\d+\.\d+ .*strict NodeNext defaults/);
    // Before anything is made: test refuses at the same positions, touching nothing.
    const test = await swarmMolecule(['test'], dir);
    expect(test.exitCode, test.all).toBe(2);
    expect(test.all).toContain('fails the syntax check (3 errors): nothing was touched.');
    expect(existsSync(join(dir, '.swarm-molecule', 'default', 'state.json'))).toBe(false);
  });

  it('uses the project\'s tsconfig.json', async () => {
    const dir = project('tsconfig', true, {
      ...STEPS,
      'scenarios/default/steps/count.ts': 'export function count(names: string[]): number {\n  const unused = 1;\n  return names.length;\n}\n',
      'scenarios/default/steps/tag.ts': "import { defineConvergeStep, ok } from 'swarm-molecule';\n\nexport default defineConvergeStep({ name: 'tag', description: 'Tag.', hosts: 'all', apply: async () => ok() });\n",
      'scenarios/default/steps/wait.ts': "import { defineVerifyStep } from 'swarm-molecule';\nimport { count } from './count.js';\n\nexport default defineVerifyStep({ name: 'wait', description: 'Wait.', verify: async (ctx) => void count([ctx.leader().name]) });\n",
      'tsconfig.json': '{ "compilerOptions": { "strict": true, "module": "NodeNext", "moduleResolution": "NodeNext", "noUnusedLocals": true, "skipLibCheck": true } }\n',
    });
    const syntax = await swarmMolecule(['syntax'], dir);
    expect(syntax.exitCode, syntax.all).toBe(2);
    expect(syntax.all).toMatch(/scenarios\/default\/steps\/count\.ts:2:9 +error +typescript +TS6133: 'unused' is declared but its value is never read\./);
    expect(syntax.all).toMatch(/type-checked 2 TypeScript step modules .*\(tsconfig\.json\)/);
  });

  it('says it skipped type-checking, and why, when the project has no TypeScript (exit 0)', async () => {
    const dir = project('untyped', false, STEPS);
    const syntax = await swarmMolecule(['syntax'], dir);
    expect(syntax.exitCode, syntax.all).toBe(0);
    expect(syntax.stdout).toContain('syntax: no problems found');
    expect(syntax.stdout).toContain('syntax: default: type-checking of 2 TypeScript step modules skipped: TypeScript is not installed in this project (npm i -D typescript');
  });
});

describe('a second Ctrl-C lists what is left (netns driver)', () => {
  const root = mkdtempSync(join(tmpdir(), 'sm-twice-'));
  let before: Leftovers;
  beforeAll(() => {
    before = findLeftovers();
    mkdirSync(join(root, 'scenarios', 'default', 'steps'), { recursive: true });
    writeFileSync(
      join(root, 'scenarios', 'default', 'scenario.yml'),
      'driver:\n  name: netns\nplatforms:\n  - name: twice-leader\n    groups: [swarm-leader, swarm-manager]\nconverge:\n  - step: swarm/init\nverify:\n  - step: ./steps/hold.ts\n',
    );
    // Holds until the first Ctrl-C, then cleans up until the second: the second one lands in a cleanup, always.
    writeFileSync(
      join(root, 'scenarios', 'default', 'steps', 'hold.ts'),
      [
        "import { setTimeout as sleep } from 'node:timers/promises';",
        "import { defineVerifyStep } from 'swarm-molecule';",
        '',
        'export default defineVerifyStep({',
        "  name: 'hold',",
        "  description: 'Wait for a Ctrl-C, then clean up until a second one.',",
        '  async verify(ctx) {',
        "    ctx.log('holding');",
        '    await sleep(300_000, undefined, { signal: ctx.signal }).catch(() => undefined);',
        "    ctx.log('cleaning up');",
        "    await sleep(300_000, undefined, { signal: ctx.cleanupSignal }).catch(() => ctx.log('cleanup abandoned'));",
        '  },',
        '});',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    const destroy = await swarmMolecule(['destroy'], root);
    expect(destroy.exitCode, destroy.all).toBe(0);
    expect(leftoversSince(before)).toEqual(NOTHING_LEFT);
    rmSync(root, { recursive: true, force: true });
  });

  it('says which nodes are left and how to remove them, after the message that promised it', async () => {
    // One pipe: the promise (stderr) and the step's and summary's lines (stdout) in the order written.
    const run = swarmMoleculeOnePipe(['test'], root);
    let seen = '';
    const sent: string[] = [];
    run.all.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      // The first Ctrl-C once the step holds; the second once it is cleaning up.
      if (sent.length === 0 && seen.includes('hold: holding')) {
        sent.push('first');
        run.kill('SIGINT');
      } else if (sent.length === 1 && seen.includes('hold: cleaning up')) {
        sent.push('second');
        run.kill('SIGINT');
      }
    });
    const result = await run;
    const output = result.all;
    expect(sent, output).toEqual(['first', 'second']);
    expect(result.exitCode, output).toBe(130);
    // The fault happened where it was meant to: the second Ctrl-C cut the step's cleanup short.
    const promised = output.indexOf('SIGINT again: abandoning the cleanup; the end of the run says what is left.');
    expect(promised, output).toBeGreaterThan(output.indexOf('hold: cleaning up'));
    expect(output.indexOf('hold: cleanup abandoned'), output).toBeGreaterThan(promised);
    expect(output).toMatch(/── destroy \(interrupted twice: cleanup abandoned\)/);
    // And what is left is listed, after the promise.
    const listed = output.indexOf('The nodes of scenario "default" still exist (twice-leader). Remove them with "swarm-molecule destroy -s default".');
    expect(listed, output).toBeGreaterThan(promised);
    const list = await swarmMolecule(['list'], root);
    expect(list.all).toMatch(/twice-leader/);
  });
});
