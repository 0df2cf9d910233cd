import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../../config/index.js';
import { findingSeverity, lintPlaybooks, parseLintReport } from './lint.js';
import { which } from './tools.js';

const testdata = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8');

describe('parseLintReport', () => {
  it('reads ansible-lint\'s codeclimate report', () => {
    const issues = parseLintReport(testdata('ansible-lint.codeclimate.json'));
    expect(issues?.map((i) => `${i.location.path}:${JSON.stringify(i.location.lines?.begin)} ${i.level ?? ''} ${i.check_name}`)).toEqual([
      'scenarios/default/converge.yml:1 error name[casing]',
      'scenarios/default/converge.yml:4 error name[casing]',
      'scenarios/default/converge.yml:4 error risky-file-permissions',
      'scenarios/default/converge.yml:6 warning jinja[spacing]',
    ]);
  });

  it('is undefined for anything else', () => {
    expect(parseLintReport('')).toBeUndefined();
    expect(parseLintReport('Traceback (most recent call last):')).toBeUndefined();
    expect(parseLintReport('[]')).toEqual([]);
  });
});

const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function project(scenarioText: string, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'swarm-molecule-ansible-lint-'));
  made.push(dir);
  const scenario = join(dir, 'scenarios', 'default');
  await mkdir(scenario, { recursive: true });
  await writeFile(join(scenario, 'scenario.yml'), scenarioText);
  for (const [file, text] of Object.entries(files)) await writeFile(join(scenario, file), text);
  return dir;
}

const SCENARIO = 'platforms:\n  - name: manager-01\n    groups: [swarm-leader]\nconverge:\n  - playbook: converge.yml\n';

describe.skipIf(which('ansible-lint') === undefined)('lintPlaybooks (with ansible-lint)', () => {
  it('reports each finding at its line, an error where ansible-lint says error', { timeout: 60_000 }, async () => {
    const dir = await project(SCENARIO, { 'converge.yml': testdata('ansible-lint.converge.yml') });
    const diagnostics = await lintPlaybooks(await loadScenario(dir, 'default'));
    expect(diagnostics.map((d) => `${d.line}:${d.col} ${d.severity} ${d.code} ${d.message.split(':')[0] ?? ''}`)).toEqual([
      '1:1 error ansible-lint name[casing]',
      '4:1 error ansible-lint name[casing]',
      '4:1 error ansible-lint risky-file-permissions',
      '6:1 warning ansible-lint jinja[spacing]',
    ]);
    expect(diagnostics[0]?.file).toMatch(/scenarios\/default\/converge\.yml$/);
    expect(diagnostics[3]?.frame).toContain('content: "{{motd}}"');
    expect(diagnostics[3]?.hint).toContain('# noqa: jinja[spacing]');
  });

  it('finds nothing in a clean playbook', { timeout: 60_000 }, async () => {
    const clean = '- name: Clean\n  hosts: all\n  gather_facts: false\n  tasks:\n    - name: Say hello\n      ansible.builtin.debug:\n        msg: hello\n';
    const dir = await project(SCENARIO, { 'converge.yml': clean });
    expect(await lintPlaybooks(await loadScenario(dir, 'default'))).toEqual([]);
  });
});

describe('lintPlaybooks', () => {
  it('has nothing to say about a scenario without playbooks', async () => {
    const dir = await project('platforms:\n  - name: m\n    groups: [swarm-leader]\nconverge:\n  - step: swarm/init\n', {});
    expect(await lintPlaybooks(await loadScenario(dir, 'default'))).toEqual([]);
  });

  it('says the playbooks were not linted when ansible-lint is missing', async () => {
    const dir = await project(SCENARIO, { 'converge.yml': '- name: X\n  hosts: all\n' });
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const [note, ...rest] = await lintPlaybooks(await loadScenario(dir, 'default'));
      expect(rest).toEqual([]);
      expect(note).toMatchObject({ severity: 'warning', code: 'ansible-lint', line: 5, col: 15 });
      expect(note?.message).toBe('ansible-lint is not installed: the playbooks were not linted.');
      expect(note?.hint).toContain('apt-get install -y ansible-lint');
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('findingSeverity', () => {
  const lint = (rules: Record<string, 'off' | 'warning' | 'error'>, dependencies?: 'off' | 'warning' | 'error') => ({ rules, ...(dependencies ? { dependencies } : {}) });
  it('takes lint.rules for ansible-lint ids: the sub-rule first, then its rule, else ansible-lint\'s own level', () => {
    expect(findingSeverity('fqcn[action-core]', 'error', false, lint({ fqcn: 'warning' }))).toBe('warning');
    expect(findingSeverity('fqcn[action-core]', 'error', false, lint({ fqcn: 'warning', 'fqcn[action-core]': 'off' }))).toBeUndefined();
    expect(findingSeverity('no-changed-when', 'warning', false, lint({ 'no-changed-when': 'error' }))).toBe('error');
    expect(findingSeverity('yaml[truthy]', 'error', false, lint({}))).toBe('error');
  });

  it('makes findings in dependencies warnings unless lint.dependencies says otherwise', () => {
    expect(findingSeverity('name[missing]', 'error', true, lint({}))).toBe('warning');
    expect(findingSeverity('name[missing]', 'error', true, lint({}, 'error'))).toBe('error');
    expect(findingSeverity('name[missing]', 'error', true, lint({}, 'off'))).toBeUndefined();
    // A rule turned off is off everywhere.
    expect(findingSeverity('name[missing]', 'warning', true, lint({ name: 'off' }))).toBeUndefined();
  });
});
