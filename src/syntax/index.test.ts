import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { loadScenario, ScenarioInvalid } from '../config/index.js';
import { defineConvergeStep, defineVerifyStep, ok } from '../steps/api.js';
import { checkStepsOfInvalid, checkSyntax } from './index.js';

// The real built-ins, plus two with options and requirements to exercise those checks.
vi.mock('../steps/builtin/index.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../steps/builtin/index.js')>();
  const withOptions = defineVerifyStep({
    name: 'test/with-options',
    description: 'Options and requirements.',
    options: z.strictObject({ replicas: z.number().int().min(1).default(3), parallelism: z.number().int().default(1) }),
    requirements: (scenario, options) =>
      options.replicas > scenario.platforms.length ? [{ message: `replicas (${options.replicas}) above the number of nodes.`, path: ['with', 'replicas'] }] : [],
    verify: () => Promise.resolve(),
  });
  const needsWorkers = defineConvergeStep({
    name: 'test/needs-workers',
    description: 'A requirement on the whole entry.',
    hosts: 'all',
    requirements: (scenario) => (scenario.platforms.some((p) => p.groups.includes('swarm-worker')) ? [] : [{ message: 'No workers.' }]),
    apply: () => Promise.resolve(ok()),
  });
  const registered = (step: typeof withOptions | typeof needsWorkers) => ({ name: step.name, kind: step.kind, load: () => Promise.resolve(step) });
  return { ...original, builtinSteps: { ...original.builtinSteps, [withOptions.name]: registered(withOptions), [needsWorkers.name]: registered(needsWorkers) } };
});

const project = await mkdtemp(join(tmpdir(), 'swarm-molecule-syntax-'));
let count = 0;

async function check(text: string, files: Record<string, string> = {}): Promise<string[]> {
  const name = `s${count++}`;
  const dir = join(project, 'scenarios', name);
  await mkdir(join(dir, 'steps'), { recursive: true });
  await writeFile(join(dir, 'scenario.yml'), text);
  for (const [file, content] of Object.entries(files)) await writeFile(join(dir, file), content);
  const diagnostics = await checkSyntax(await loadScenario(project, name));
  for (const d of diagnostics) {
    expect(['syntax', 'yaml']).toContain(d.code);
    expect(d.severity).toBe('error');
    expect(d.hint).toBeTruthy();
    expect(d.frame).toContain('^');
  }
  return diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`);
}

/** The diagnostics themselves (hints included) of a scenario. */
async function checkFull(text: string, files: Record<string, string> = {}) {
  const name = `s${count++}`;
  const dir = join(project, 'scenarios', name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'scenario.yml'), text);
  for (const [file, content] of Object.entries(files)) await writeFile(join(dir, file), content);
  return checkSyntax(await loadScenario(project, name));
}

const PLATFORMS = `platforms:
  - name: manager-01
    groups: [swarm-leader]
  - name: worker-01
    groups: [swarm-worker]
`;

describe('checkSyntax', () => {
  it('refuses a key given twice at the second one (the first would be dropped silently)', async () => {
    const twice = `${PLATFORMS}converge:\n  - step: swarm/init\n    hosts: swarm-leader\n    hosts: all\n`;
    expect(await check(twice)).toEqual(['9:5 Duplicate key "hosts": this value replaces the one at line 8.']);
    // Turned off as a lint rule, it is let through as the user asked.
    expect(await check(`${twice}lint:\n  rules:\n    yaml-duplicate-keys: off\n`)).toEqual([]);
  });

  it('passes a scenario of built-in steps', async () => {
    expect(await check(`${PLATFORMS}converge:\n  - step: swarm/init\n  - step: swarm/join-workers\nverify:\n  - step: swarm/node-roles\n`)).toEqual([]);
  });

  it('reports an unknown built-in at its name', async () => {
    const [problem] = await check(`${PLATFORMS}converge:\n  - step: swarm/inti\n`);
    expect(problem).toBe('7:11 Unknown built-in step "swarm/inti".');
  });

  it('reports a step listed in the wrong section', async () => {
    expect(await check(`${PLATFORMS}verify:\n  - step: swarm/init\n`)).toEqual(['7:11 "swarm/init" is a converge step, listed under verify.']);
  });

  it('reports options given to a built-in that takes none, at the key', async () => {
    expect(await check(`${PLATFORMS}converge:\n  - step: swarm/init\n    with: { force: true }\n`)).toEqual([
      '8:13 swarm/init takes no options, but "with" sets "force".',
    ]);
  });

  it('validates options against the step\'s schema', async () => {
    const text = `${PLATFORMS}verify:\n  - step: test/with-options\n    with:\n      replicas: "2"\n      paralelism: 1\n`;
    expect(await check(text)).toEqual([
      '9:17 verify[0].with.replicas must be a number, got the string "2".',
      '10:7 Unknown key "paralelism" in verify[0].with. Did you mean "parallelism"?',
    ]);
  });

  it('checks requirements with the parsed options, at the path they give', async () => {
    expect(await check(`${PLATFORMS}verify:\n  - step: test/with-options\n    with: { replicas: 5 }\n`)).toEqual([
      '8:23 replicas (5) above the number of nodes.',
    ]);
    // The default replicas (3) is above 2 nodes too: the problem points at the entry.
    expect(await check(`${PLATFORMS}verify:\n  - step: test/with-options\n`)).toEqual(['7:5 replicas (3) above the number of nodes.']);
    expect(await check(`platforms:\n  - name: a\n    groups: [swarm-leader]\nconverge:\n  - step: test/needs-workers\n`)).toEqual(['5:5 No workers.']);
  });

  it('refuses a partition step on a driver that cannot partition, and on too few managers, each with its reason', async () => {
    const managers = (n: number) => Array.from({ length: n }, (_, i) => `  - name: m${i + 1}\n    groups: [${i === 0 ? 'swarm-leader' : 'swarm-manager'}]\n`).join('');
    const scenario = (driver: string, n: number, step: string) => `driver:\n  name: ${driver}\nplatforms:\n${managers(n)}  - name: w1\n    groups: [swarm-worker]\n  - name: w2\n    groups: [swarm-worker]\nverify:\n  - step: ${step}\n`;
    expect(await check(scenario('netns', 3, 'swarm/partition-minority'))).toEqual([]);
    expect(await check(scenario('netns', 5, 'swarm/partition-worker'))).toEqual([]);
    expect(await check(scenario('docker', 3, 'swarm/partition-minority'))).toEqual([]);
    const [onExisting] = await check(scenario('existing', 3, 'swarm/partition-minority'));
    expect(onExisting).toMatch(/^\d+:\d+ swarm\/partition-minority needs a driver that can partition the node network; the existing driver cannot unless its options say how\.$/);
    // The user's hosts, partitioned when the scenario says how.
    const existingWith = (partition: string) => scenario('existing', 3, 'swarm/partition-minority').replace(/name: existing\n/, `name: existing\n  options:\n    partition: ${partition}\n`);
    expect(await check(existingWith('iptables'))).toEqual([]);
    expect(await check(existingWith('{ apply: [/usr/local/bin/cut-off], heal: [/usr/local/bin/heal] }'))).toEqual([]);
    const [two] = await check(scenario('netns', 2, 'swarm/partition-minority'));
    expect(two).toMatch(/swarm\/partition-minority needs at least 3 managers .* this scenario has 2 \(m1, m2\)/);
    expect(await check(`${scenario('netns', 5, 'swarm/partition-minority')}    with: { cut: 3 }\n`)).toEqual([
      expect.stringMatching(/^\d+:\d+ swarm\/partition-minority cannot cut 3 of 5 managers: the rest \(2\) would not be a majority/),
    ]);
    // quorum-loss stops nodes rather than cutting them: any driver, but 3 managers and a worker.
    expect(await check(scenario('docker', 3, 'swarm/quorum-loss'))).toEqual([]);
    expect((await check(scenario('netns', 1, 'swarm/quorum-loss')))[0]).toMatch(/swarm\/quorum-loss needs at least 3 managers/);
  });

  it('skips requirements when the options are invalid', async () => {
    expect(await check(`${PLATFORMS}verify:\n  - step: test/with-options\n    with: { replicas: 0 }\n`)).toEqual([
      '8:23 verify[0].with.replicas must be at least 1, got the integer 0.',
    ]);
  });

  it('checks the groups swarm/node-roles is told to expect', async () => {
    // Told its managers, it needs no swarm-leader group.
    expect(await check('platforms:\n  - name: a\n    groups: [managers]\nverify:\n  - step: swarm/node-roles\n    with: { managers: managers, drained: [b] }\n')).toEqual([
      '6:42 No group or platform is named "b".',
    ]);
  });

  it('needs exactly one swarm-leader', async () => {
    expect(await check('platforms:\n  - name: a\n    groups: [swarm-manager]\nverify:\n  - step: swarm/node-roles\n')).toEqual(['1:1 No platform is in group swarm-leader.']);
    // A playbook that builds the swarm itself (Molecule's converge.yml) needs no built-in group.
    expect(await check('platforms:\n  - name: a\n    groups: [swarm-manager]\nconverge:\n  - playbook: missing.yml\n')).not.toContain('1:1 No platform is in group swarm-leader.');
    // Plain hosts, with no swarm group and no step to run on them: nothing needs a leader.
    expect(await check('platforms:\n  - name: a\n')).toEqual([]);
    expect(await check('platforms:\n  - name: a\n    groups: [swarm-leader]\n  - name: b\n    groups: [swarm-manager, swarm-leader]\n  - name: c\n    groups: [swarm-leader]\n')).toEqual([
      '5:29 b is a second swarm-leader (the first is a).',
      '7:14 c is a second swarm-leader (the first is a).',
    ]);
  });

  it('takes ansible.initialisesSwarm as the scenario\'s word on who initialises the swarm', async () => {
    const noLeader = 'platforms:\n  - name: a\n    groups: [managers]\n';
    // Declared: a playbook and a step that reads the swarm, with no swarm-leader.
    expect(await check(`${noLeader}ansible:\n  initialisesSwarm: true\nconverge:\n  - playbook: converge.yml\nverify:\n  - step: swarm/node-roles\n`, { 'converge.yml': '- hosts: all\n  tasks: []\n' })).toEqual([]);
    // Without the key, the step's need of a leader wins, and the hint names the key.
    const inferred = await checkFull(`${noLeader}converge:\n  - playbook: converge.yml\nverify:\n  - step: swarm/node-roles\n`, { 'converge.yml': '- hosts: all\n  tasks: []\n' });
    expect(inferred.map((d) => `${d.line}:${d.col} ${d.message}`)).toEqual(['1:1 No platform is in group swarm-leader.']);
    expect(inferred[0]?.hint).toContain('set "ansible: { initialisesSwarm: true }"');
    // Declared false: a playbook-only scenario must have its swarm-leader.
    expect(await check(`${noLeader}ansible:\n  initialisesSwarm: false\nconverge:\n  - playbook: converge.yml\n`, { 'converge.yml': '- hosts: all\n  tasks: []\n' })).toEqual([
      '5:3 No platform is in group swarm-leader, and ansible.initialisesSwarm is false.',
    ]);
    // Declared true with no playbook to do it: refused at the key's value.
    expect(await check(`${noLeader}ansible:\n  initialisesSwarm: true\nverify:\n  - step: swarm/node-roles\n`)).toEqual([
      '5:21 ansible.initialisesSwarm says the playbooks initialise the swarm, but no prepare or converge entry is a playbook.',
    ]);
  });

  it('names every image of images: that cannot be found, at its entry, with where it looked', async () => {
    const name = `s${count}`;
    const problems = await check(`${PLATFORMS}images:\n  - ok.tar\n  - missing.tar\n`, { 'ok.tar': 'not a tar' });
    const dir = join(project, 'scenarios', name);
    expect(problems).toEqual([
      `7:5 The image archive ok.tar cannot be read: ${join(dir, 'ok.tar')} is not a "docker save" archive: it has no manifest.json.`,
      `8:5 The image archive missing.tar does not exist (looked for ${join(dir, 'missing.tar')}).`,
    ]);
  });

  it('refuses an images: entry that is neither a reference nor a .tar, in the schema, at the entry', async () => {
    const name = `s${count++}`;
    await mkdir(join(project, 'scenarios', name), { recursive: true });
    await writeFile(join(project, 'scenarios', name, 'scenario.yml'), `${PLATFORMS}images:\n  - myorg/app:1.4\n  - My App\n`);
    const error = await loadScenario(project, name).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ScenarioInvalid);
    expect((error as ScenarioInvalid).diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`)).toEqual(['8:5 "My App" is neither an image reference nor a .tar archive.']);
  });

  it('takes swarm/http from inside the cluster (url, network) or from the harness (published), one of them', async () => {
    expect(await check(`${PLATFORMS}verify:\n  - step: swarm/http\n    with: { published: { service: app_web, port: 18091 } }\n`)).toEqual([]);
    expect(await check(`${PLATFORMS}verify:\n  - step: swarm/http\n    with: { url: "http://web:8080/", network: apps }\n`)).toEqual([]);
    expect(await check(`${PLATFORMS}verify:\n  - step: swarm/http\n    with: { network: apps, published: { service: app_web, port: 18091 } }\n`)).toEqual([
      '8:39 swarm/http asks either from inside the cluster (url and network) or from the harness (published), not both.',
    ]);
    expect(await check(`${PLATFORMS}verify:\n  - step: swarm/http\n    with: { network: apps }\n`)).toEqual(['8:11 swarm/http needs url (from inside the cluster), or published (from the harness).']);
  });

  it('checks that hosts names a group or platform', async () => {
    const entry = (hosts: string) => `${PLATFORMS}converge:\n  - step: swarm/init\n    hosts: ${hosts}\n`;
    expect(await check(entry('swarm-workers'))).toEqual(['8:12 No group or platform is named "swarm-workers". Did you mean "swarm-worker"?']);
    expect(await check(entry('swarm-worker'))).toEqual([]);
    expect(await check(entry('worker-01'))).toEqual([]);
    expect(await check(entry('all'))).toEqual([]);
  });

  it('checks that playbooks exist', async () => {
    const text = `${PLATFORMS}converge:\n  - playbook: converge.yml\n  - playbook: missing.yml\n`;
    const [problem, ...rest] = await check(text, { 'converge.yml': '- hosts: all\n' });
    expect(rest).toEqual([]);
    expect(problem).toMatch(/^8:15 Playbook missing\.yml does not exist \(looked for .*missing\.yml\)\.$/);
  });

  it('loads module steps and passes their options through when they have no schema', async () => {
    const module = `import { defineConvergeStep, ok } from 'swarm-molecule';
export default defineConvergeStep({ name: 'motd', description: 'x', hosts: 'all', apply: async () => ok() });
`;
    expect(await check(`${PLATFORMS}converge:\n  - step: ./steps/motd.ts\n    with: { text: hi }\n`, { 'steps/motd.ts': module })).toEqual([]);
  });

  it('reports module steps that are missing, broken or not steps', async () => {
    const text = `${PLATFORMS}converge:\n  - step: ./steps/missing.ts\n  - step: ./steps/broken.ts\n  - step: ./steps/other.ts\n`;
    const problems = await check(text, {
      'steps/broken.ts': 'export default {\n  name: "x",,\n};\n',
      'steps/other.ts': 'export default { hello: "world" };\n',
    });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^7:11 Step module \.\/steps\/missing\.ts does not exist/);
    expect(problems[1]).toMatch(/^8:11 Step module \.\/steps\/broken\.ts failed to load: /);
    expect(problems[2]).toBe('9:11 Step module ./steps/other.ts does not export a step as its default export.');
  });

  // Speed is measured by `npm run bench`, never asserted here: the machine is shared and noisy.
  it('checks 40 module entries', async () => {
    const entries = Array.from({ length: 40 }, () => '  - step: test/with-options\n    with: { replicas: 1 }\n').join('');
    expect(await check(`${PLATFORMS}verify:\n${entries}`)).toEqual([]);
  });
});

describe('checkStepsOfInvalid', () => {
  /** The schema problems and the step problems of a file that fails the schema, as one round reports them. */
  async function oneRound(text: string): Promise<string[]> {
    const name = `s${count++}`;
    const dir = join(project, 'scenarios', name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'scenario.yml'), text);
    const error = await loadScenario(project, name).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ScenarioInvalid);
    const invalid = error as ScenarioInvalid;
    const all = invalid.with(await checkStepsOfInvalid(invalid));
    expect(all.message).toMatch(new RegExp(`^Scenario "${name}" is not valid \\(${all.diagnostics.length} problems?\\)\\.$`));
    return all.diagnostics.map((d) => `${d.line}:${d.col} ${d.code} ${d.message.split('.')[0] ?? ''}`);
  }

  it('reports unknown steps and bad options beside the schema problems', async () => {
    const text = `platforms:\n  - name: m1\n    groups: [swarm-leader]\n    grups: [x]\nconverge:\n  - step: swarm/init\n  - step: swarm/inti\nverify:\n  - step: test/with-options\n    with: { replicas: 0 }\n`;
    expect(await oneRound(text)).toEqual([
      '4:5 schema Unknown key "grups" in platforms[0]',
      '7:11 syntax Unknown built-in step "swarm/inti"',
      expect.stringMatching(/^10:23 syntax verify\[0\]/) as unknown as string,
    ]);
  });

  it('leaves out entries that are not well formed themselves: their schema problem says it', async () => {
    const text = `platforms:\n  - name: m1\n    groups: [swarm-leader]\nconverge:\n  - step: swarm/inti\n    hosts: 3\n  - playbook: site.yml\n`;
    expect(await oneRound(text)).toEqual([expect.stringMatching(/^6:12 schema /) as unknown as string]);
  });
});

