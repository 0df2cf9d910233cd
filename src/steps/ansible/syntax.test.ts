import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadScenario } from '../../config/index.js';
import { adjacentVarsOverrides, checkPlaybookSyntax, parseSyntaxError } from './syntax.js';
import { which } from './tools.js';

// Ansible 2.14's own words, recorded from `ansible-playbook --syntax-check`.
const YAML_ERROR = `ERROR! We were unable to read either as JSON nor YAML, these are the errors we got from each:
JSON: Expecting value: line 1 column 1 (char 0)

Syntax Error while loading YAML.
  mapping values are not allowed in this context

The error appears to be in '/tmp/ans/b.yml': line 6, column 11, but may
be elsewhere in the file depending on the exact syntax problem.

The offending line appears to be:

      ansible.builtin.command: echo
       foo: bar
          ^ here
`;

const MISSING_ROLE = `[WARNING]: Could not match supplied host pattern, ignoring: swarm-worker
ERROR! the role 'nosuchrole' was not found in /tmp/ans/roles:/root/.ansible/roles:/usr/share/ansible/roles:/etc/ansible/roles:/tmp/ans

The error appears to be in '/tmp/ans/d.yml': line 4, column 7, but may
be elsewhere in the file depending on the exact syntax problem.
`;

describe('parseSyntaxError', () => {
  it('gives the YAML parser\'s message and the position', () => {
    expect(parseSyntaxError(YAML_ERROR)).toEqual({
      message: 'Syntax Error while loading YAML. mapping values are not allowed in this context',
      file: '/tmp/ans/b.yml',
      line: 6,
      col: 11,
    });
  });

  it('skips warnings before the error', () => {
    expect(parseSyntaxError(MISSING_ROLE)).toMatchObject({ message: expect.stringMatching(/^the role 'nosuchrole' was not found in /) as unknown, line: 4, col: 7 });
  });

  it('keeps an error without a position', () => {
    expect(parseSyntaxError('ERROR! the playbook: missing.yml could not be found\n')).toEqual({ message: 'the playbook: missing.yml could not be found' });
  });
});

const PLATFORMS = `platforms:
  - name: manager-01
    groups: [swarm-leader, swarm-manager]
  - name: worker-01
    groups: [swarm-worker]
`;

describe.skipIf(which('ansible-playbook') === undefined)('checkPlaybookSyntax (with ansible-playbook)', () => {
  it('passes a good playbook and points at the file and line of a bad one', { timeout: 60_000 }, async () => {
    const project = await mkdtemp(join(tmpdir(), 'swarm-molecule-ansible-syntax-'));
    onTestFinished(() => rm(project, { recursive: true, force: true }));
    const dir = join(project, 'scenarios', 'default');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'scenario.yml'),
      `${PLATFORMS}converge:\n  - playbook: good.yml\n    extraVars: { who: world }\n  - playbook: bad.yml\n  - playbook: missing.yml\n`,
    );
    await writeFile(join(dir, 'good.yml'), '- name: Good\n  hosts: swarm-worker\n  tasks:\n    - name: Hello\n      ansible.builtin.debug:\n        msg: "hello {{ who }}"\n');
    await writeFile(join(dir, 'bad.yml'), '- name: Bad\n  hosts: all\n  tasks:\n    - name: Broken\n      ansible.builtin.command: echo\n       foo: bar\n');
    const scenario = await loadScenario(project, 'default');
    const diagnostics = await checkPlaybookSyntax(scenario, scenario.converge);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ severity: 'error', code: 'syntax', line: 6, col: 11 });
    expect(diagnostics[0]?.file).toMatch(/scenarios\/default\/bad\.yml$/);
    expect(diagnostics[0]?.message).toBe('Syntax Error while loading YAML. mapping values are not allowed in this context');
    expect(diagnostics[0]?.frame).toContain('foo: bar');
  });
});

describe('adjacentVarsOverrides', () => {
  it('warns at the key when group_vars or host_vars beside a playbook set a connection variable of the generated inventory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sm-adjacent-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const scenario = join(dir, 'scenarios', 'default');
    await mkdir(join(scenario, 'group_vars'), { recursive: true });
    await mkdir(join(scenario, 'host_vars'), { recursive: true });
    await writeFile(join(scenario, 'scenario.yml'), 'platforms:\n  - name: a\nconverge:\n  - playbook: converge.yml\n');
    await writeFile(join(scenario, 'converge.yml'), '- hosts: all\n  tasks: []\n');
    await writeFile(join(scenario, 'group_vars', 'all.yml'), '---\napp_port: 80\nansible_python_interpreter: /usr/bin/python\n');
    await writeFile(join(scenario, 'host_vars', 'a'), 'ansible_user: deploy\n');
    const loaded = await loadScenario(dir, 'default');
    const found = await adjacentVarsOverrides(loaded, loaded.converge);
    expect(found.map((d) => `${d.file.replace(/^.*scenarios\/default\//, '')}:${d.line}:${d.col} ${d.severity} ${d.message.split(' ')[0] ?? ''}`)).toEqual([
      'group_vars/all.yml:3:1 warning ansible_python_interpreter',
      'host_vars/a:1:1 warning ansible_user',
    ]);
    expect(found[0]?.hint).toContain('ansible.groupVars');
  });
});
