import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { DEFAULT_SEQUENCES, listScenarios, loadScenario } from './index.js';

let project: string;

async function scenario(name: string, text: string): Promise<void> {
  await mkdir(join(project, 'scenarios', name), { recursive: true });
  await writeFile(join(project, 'scenarios', name, 'scenario.yml'), text);
}

async function problems(name: string): Promise<ConfigError> {
  const error = await loadScenario(project, name).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
  return error;
}

const short = (error: ConfigError) => error.diagnostics.map((d) => `${d.line}:${d.col} ${d.code} ${d.message}`);

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'swarm-molecule-load-'));
  await scenario(
    'full',
    `driver:
  name: existing
  options: { timeout: 30 }
platforms:
  - name: manager-01
    groups: [swarm-leader]
    labels: { zone: a }
    address: 10.0.0.1
    port: 2222
    user: root
  - name: worker-01
converge:
  - step: swarm/init
    with:
  - playbook: site.yml
    extraVars: { a: 1 }
    tags: [x]
    limit: all
verify:
  - step: swarm/node-roles
    name: roles
    hosts: swarm-leader
sequences:
  test: [create, converge, verify]
lint:
  rules: { yaml-truthy: "off", yaml-tabs: error }
`,
  );
  await scenario('minimal', 'platforms:\n  - name: node-01\n');
  await mkdir(join(project, 'scenarios', 'not-a-scenario'), { recursive: true });
});

afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

describe('loadScenario', () => {
  it('reads every field', async () => {
    const s = await loadScenario(project, 'full');
    expect(s.name).toBe('full');
    expect(s.dir).toBe(join(project, 'scenarios', 'full'));
    expect(s.file).toBe(join(project, 'scenarios', 'full', 'scenario.yml'));
    expect(s.driver).toEqual({ name: 'existing', options: { timeout: 30 } });
    expect(s.platforms).toEqual([
      { name: 'manager-01', groups: ['swarm-leader'], labels: { zone: 'a' }, address: '10.0.0.1', port: 2222, user: 'root' },
      { name: 'worker-01', groups: [], labels: {} },
    ]);
    expect(s.converge).toEqual([
      { section: 'converge', index: 0, step: 'swarm/init', with: {} },
      { section: 'converge', index: 1, playbook: 'site.yml', with: {}, extraVars: { a: 1 }, tags: ['x'], limit: 'all' },
    ]);
    expect(s.verify).toEqual([{ section: 'verify', index: 0, step: 'swarm/node-roles', name: 'roles', hosts: 'swarm-leader', with: {} }]);
    expect(s.sequences.test).toEqual(['create', 'converge', 'verify']);
    expect(s.sequences.converge).toEqual(['create', 'converge']);
    expect(s.lint.rules).toEqual({ 'yaml-truthy': 'off', 'yaml-tabs': 'error' });
    expect(s.source.positionOf(['platforms', 1, 'name'])).toEqual({ line: 11, col: 11 });
  });

  it('fills in defaults', async () => {
    const s = await loadScenario(project, 'minimal');
    expect(s.driver).toEqual({ name: 'netns', options: {} });
    expect(s.converge).toEqual([]);
    expect(s.verify).toEqual([]);
    // Molecule's order, with lint before verify; its own actions only where the scenario has
    // something for them (this one has no requirements file and no prepare, side_effect or cleanup).
    expect(DEFAULT_SEQUENCES.test).toEqual(['dependency', 'cleanup', 'destroy', 'syntax', 'create', 'prepare', 'converge', 'idempotence', 'side_effect', 'lint', 'verify', 'cleanup', 'destroy']);
    expect(s.sequences).toEqual({
      test: ['destroy', 'syntax', 'create', 'converge', 'idempotence', 'lint', 'verify', 'destroy'],
      create: ['create'],
      converge: ['create', 'converge'],
      destroy: ['destroy'],
      verify: ['verify'],
    });
    expect(s.lint).toEqual({ rules: {}, dependencies: 'warning' });
    expect(s.prepare).toEqual([]);
    expect(s.side_effect).toEqual([]);
    expect(s.cleanup).toEqual([]);
    expect(s.dependency).toEqual({});
    expect(s.ansible).toEqual({ skipTags: [], args: [], env: {}, extraVars: {}, hostVars: {}, groupVars: {} });
    // Each scenario gets its own copy of the defaults.
    s.sequences.test.push('lint');
    expect(DEFAULT_SEQUENCES.test).toHaveLength(13);
  });

  it("puts Molecule's own actions in a default sequence only where the scenario has something for them", async () => {
    await scenario('molecule', `platforms:\n  - name: n1\n    groups: [swarm-leader]\nprepare:\n  - playbook: prepare.yml\ncleanup:\n  - playbook: cleanup.yml\n`);
    await writeFile(join(project, 'scenarios', 'molecule', 'requirements.yml'), 'collections: []\n');
    const s = await loadScenario(project, 'molecule');
    expect(s.sequences.test).toEqual(['dependency', 'cleanup', 'destroy', 'syntax', 'create', 'prepare', 'converge', 'idempotence', 'lint', 'verify', 'cleanup', 'destroy']);
    expect(s.sequences.create).toEqual(['dependency', 'create', 'prepare']);
    expect(s.sequences.destroy).toEqual(['cleanup', 'destroy']);
    // A sequence the scenario lists is run as written, empty actions included.
    await scenario('written', `platforms:\n  - name: n1\n    groups: [swarm-leader]\nsequences:\n  test: [dependency, create, side_effect, destroy]\n`);
    expect((await loadScenario(project, 'written')).sequences.test).toEqual(['dependency', 'create', 'side_effect', 'destroy']);
  });

  it('names the missing scenario and lists those that exist', async () => {
    const error = await problems('defualt');
    expect(error.message).toBe(`Scenario "defualt" not found: ${join(project, 'scenarios', 'defualt', 'scenario.yml')} does not exist.`);
    expect(error.hint).toContain('full, minimal');
    expect(error.exitCode).toBe(2);
  });

  it('says so when there are no scenarios at all', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'swarm-molecule-empty-'));
    const error = await loadScenario(empty, 'default').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).hint).toContain('There are no scenarios');
    await rm(empty, { recursive: true });
  });

  it('refuses a name that is not a directory name', async () => {
    expect((await problems('../etc')).message).toBe('"../etc" is not a scenario name.');
  });

  it('collects every schema problem, sorted by position', async () => {
    await scenario(
      'broken',
      `driver:
  name: netnss
platforms:
  - name: Manager_01
    grups: [swarm-leader]
    port: "22"
  - groups: [swarm-worker]
verify:
  - step: swarm/node-roles
    playbook: x.yml
sequences:
  test: [convrge]
`,
    );
    const error = await problems('broken');
    expect(error.message).toBe('Scenario "broken" is not valid (7 problems).');
    expect(short(error)).toEqual([
      '2:9 schema driver.name is the string "netnss", not one of netns, docker, vagrant, existing. Did you mean "netns"?',
      '4:11 schema platforms[0].name must be a valid hostname: 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen (got the string "Manager_01").',
      '5:5 schema Unknown key "grups" in platforms[0]. Did you mean "groups"?',
      '6:11 schema platforms[0].port must be a number, got the string "22".',
      '7:5 schema Missing required key "name" in platforms[1].',
      '10:5 schema An entry has "step" or "playbook", not both.',
      '12:10 schema sequences.test[0] is the string "convrge", not one of dependency, destroy, syntax, create, prepare, converge, idempotence, side_effect, lint, verify, cleanup. Did you mean "converge"?',
    ]);
    expect(error.diagnostics[0]).toMatchObject({ severity: 'error', hint: 'Write "netns".' });
    expect(error.diagnostics[1]?.hint).toBe('Try "manager-01".');
    expect(error.diagnostics[2]?.frame).toContain('>');
  });

  it('stops at YAML errors', async () => {
    await scenario('bad-yaml', 'platforms:\n  - name: "a\n    groups: [x]\n');
    const error = await problems('bad-yaml');
    expect(error.diagnostics.map((d) => d.code)).toEqual(['yaml']);
    expect(error.diagnostics[0]).toMatchObject({ line: 2, col: 11, message: 'This quoted value is never closed.' });
    expect(error.message).toBe('Scenario "bad-yaml" is not valid (1 problem).');
  });

  it('reports an alias without its anchor at the alias', async () => {
    await scenario('alias', 'platforms:\n  - name: a\n    labels: *zones\n');
    expect(short(await problems('alias'))).toEqual(['3:13 yaml Unresolved alias *zones: no anchor &zones before it.']);
  });

  it('loads duplicate keys, the last one winning', async () => {
    await scenario('dup', 'platforms:\n  - name: a\n    name: b\n');
    expect((await loadScenario(project, 'dup')).platforms[0]?.name).toBe('b');
  });

  it('reports a duplicate key with the schema problems, in one round', async () => {
    await scenario('dup-and-schema', 'platforms:\n  - name: a\n    name: b\n    cpus: many\n');
    expect(short(await problems('dup-and-schema'))).toEqual([
      '3:5 yaml Duplicate key "name": this value replaces the one at line 2.',
      expect.stringMatching(/^4:11 schema /) as unknown as string,
    ]);
  });

  it('reads an empty list or mapping as its default', async () => {
    await scenario('empty-values', 'platforms:\n  - name: a\n    groups:\n    labels:\nconverge:\nverify:\n  - step: x\n    with:\n');
    const s = await loadScenario(project, 'empty-values');
    expect(s.platforms[0]).toEqual({ name: 'a', groups: [], labels: {} });
    expect(s.converge).toEqual([]);
    expect(s.verify[0]?.with).toEqual({});
  });

  it('explains an empty file', async () => {
    await scenario('empty', '# nothing yet\n');
    expect(short(await problems('empty'))).toEqual(['1:1 schema The scenario file is empty.']);
  });

  it('explains a file that is not a mapping', async () => {
    await scenario('list', '- name: a\n');
    expect(short(await problems('list'))).toEqual(['1:1 schema The scenario file must be a mapping of keys (platforms:, converge:, ...), got a list.']);
  });

  it('rejects duplicate platform names and empty platform lists', async () => {
    await scenario('twice', 'platforms:\n  - name: a\n  - name: a\n');
    expect(short(await problems('twice'))).toEqual(['3:11 schema Platform name "a" is used twice (first by platforms[0]).']);
    await scenario('none', 'platforms: []\n');
    expect(short(await problems('none'))).toEqual(['1:12 schema platforms needs at least 1 item, got 0.']);
  });

  it('rejects unknown lint rules and settings', async () => {
    await scenario('rules', 'platforms:\n  - name: a\nlint:\n  rules:\n    yaml-truty: off\n    yaml-tabs: warn\n');
    expect(short(await problems('rules'))).toEqual([
      '5:5 schema Unknown key "yaml-truty" in lint.rules. Did you mean "yaml-truthy"?',
      '6:16 schema lint.rules.yaml-tabs is the string "warn", not one of off, warning, error. Did you mean "warning"?',
    ]);
  });

  it('keeps playbook options off steps and step options off playbooks', async () => {
    await scenario('mixed', 'platforms:\n  - name: a\nconverge:\n  - step: swarm/init\n    tags: [x]\n  - playbook: p.yml\n    with: { a: 1 }\n  - name: nothing\n');
    expect(short(await problems('mixed'))).toEqual([
      '5:5 schema "tags" is for playbook entries; this entry is a step.',
      '7:5 schema A playbook entry takes no "with" options.',
      '8:5 schema This entry has neither "step" nor "playbook".',
    ]);
  });
  it('reads Molecule\'s step lists, dependency and ansible settings', async () => {
    await scenario(
      'molecule',
      [
        'platforms:',
        '  - name: a',
        'dependency:',
        '  requirements: deps.yml',
        'prepare:',
        '  - playbook: prepare.yml',
        'side_effect:',
        '  - playbook: side.yml',
        'cleanup:',
        '  - playbook: cleanup.yml',
        'ansible:',
        '  skipTags: [slow]',
        '  args: [--forks, "2"]',
        '  env: { MY_VAR: "1" }',
        '  extraVars: { x: 1 }',
        '  hostVars: { a: { y: 2 } }',
        '  groupVars: { all: { z: 3 } }',
        '',
      ].join('\n'),
    );
    const s = await loadScenario(project, 'molecule');
    expect(s.prepare).toEqual([{ section: 'prepare', index: 0, playbook: 'prepare.yml', with: {} }]);
    expect(s.side_effect).toEqual([{ section: 'side_effect', index: 0, playbook: 'side.yml', with: {} }]);
    expect(s.cleanup).toEqual([{ section: 'cleanup', index: 0, playbook: 'cleanup.yml', with: {} }]);
    expect(s.dependency).toEqual({ requirements: 'deps.yml' });
    expect(s.ansible).toEqual({ skipTags: ['slow'], args: ['--forks', '2'], env: { MY_VAR: '1' }, extraVars: { x: 1 }, hostVars: { a: { y: 2 } }, groupVars: { all: { z: 3 } } });
  });

  it('refuses bad Molecule settings at their position', async () => {
    await scenario('bad-molecule', 'platforms:\n  - name: a\nansible:\n  env: { 1BAD: x }\n  skip_tags: [x]\nprepare:\n  - name: nothing\n');
    expect(short(await problems('bad-molecule'))).toEqual([
      '4:10 schema "1BAD" is not an environment variable name.',
      '5:3 schema Unknown key "skip_tags" in ansible. Did you mean "skipTags"?',
      '7:5 schema This entry has neither "step" nor "playbook".',
    ]);
  });

  it('reads ansible.initialisesSwarm, and refuses what is not a boolean at its position', async () => {
    await scenario('declares-swarm', 'platforms:\n  - name: a\nansible:\n  initialisesSwarm: true\n');
    expect((await loadScenario(project, 'declares-swarm')).ansible.initialisesSwarm).toBe(true);
    await scenario('bad-declares-swarm', 'platforms:\n  - name: a\nansible:\n  initialisesSwarm: "yes"\n');
    const error = await problems('bad-declares-swarm');
    expect(error.exitCode).toBe(2);
    expect(short(error)).toEqual([expect.stringMatching(/^4:21 schema .*ansible\.initialisesSwarm/)]);
  });
});

describe('listScenarios', () => {
  it('lists directories with a scenario.yml, sorted', async () => {
    const names = await listScenarios(project);
    expect(names).toContain('full');
    expect(names).not.toContain('not-a-scenario');
    expect(names).toEqual([...names].sort());
  });

  it('is empty without a scenarios directory', async () => {
    expect(await listScenarios(join(project, 'nowhere'))).toEqual([]);
  });
});
