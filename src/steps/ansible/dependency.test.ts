import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scenario } from '../../config/index.js';
import { UsageError } from '../../errors.js';
import { dependencyKey, installDependencies, installedDependencies, parseRequirements, requirementsFileOf } from './dependency.js';
import { ansibleEnvironment } from './environment.js';

describe('parseRequirements', () => {
  it('reads the old format (a list of roles) and the roles/collections mapping', () => {
    expect(parseRequirements('- src: geerlingguy.docker\n- name: ./roles/local\n- plain.role\n')).toEqual([
      { kind: 'role', source: 'geerlingguy.docker' },
      { kind: 'role', source: './roles/local' },
      { kind: 'role', source: 'plain.role' },
    ]);
    expect(parseRequirements('roles:\n  - name: r1\ncollections:\n  - name: files/ns-c-1.0.0.tar.gz\n    type: file\n  - community.docker\n')).toEqual([
      { kind: 'role', source: 'r1' },
      { kind: 'collection', source: 'files/ns-c-1.0.0.tar.gz' },
      { kind: 'collection', source: 'community.docker' },
    ]);
    expect(parseRequirements('')).toEqual([]);
  });
});

/** A project with one scenario whose requirements name a collection tarball built here. */
function projectWith(requirements: string | undefined): Pick<Scenario, 'name' | 'dir' | 'dependency' | 'ansible' | 'driver'> {
  const project = mkdtempSync(join(tmpdir(), 'sm-dependency-'));
  const dir = join(project, 'scenarios', 'default');
  mkdirSync(join(dir, 'files'), { recursive: true });
  if (requirements !== undefined) writeFileSync(join(dir, 'requirements.yml'), requirements);
  return { name: 'default', dir, dependency: {}, ansible: { skipTags: [], args: [], env: {}, extraVars: {}, hostVars: {}, groupVars: {} }, driver: { name: 'netns', options: {} } };
}

describe('installDependencies (real ansible-galaxy, offline)', () => {
  let source: string;
  beforeAll(async () => {
    source = mkdtempSync(join(tmpdir(), 'sm-collection-'));
    await execa('ansible-galaxy', ['collection', 'init', 'unit_fixtures.tools', '--init-path', source]);
  });
  afterAll(() => rmSync(source, { recursive: true, force: true }));

  it('installs a collection from a local tarball into the project cache once, then finds it there', async () => {
    const scenario = projectWith('collections:\n  - name: files/unit_fixtures-tools-1.0.0.tar.gz\n    type: file\n');
    await execa('ansible-galaxy', ['collection', 'build', join(source, 'unit_fixtures', 'tools'), '--output-path', join(scenario.dir, 'files')]);
    expect(installedDependencies(scenario)).toBeUndefined();
    const first = await installDependencies(scenario);
    expect(first.message).toBe('installed 1 collection from requirements.yml');
    expect(existsSync(join(first.paths?.collections ?? '', 'ansible_collections', 'unit_fixtures', 'tools', 'galaxy.yml'))).toBe(false);
    expect(existsSync(join(first.paths?.collections ?? '', 'ansible_collections', 'unit_fixtures', 'tools', 'MANIFEST.json'))).toBe(true);
    const second = await installDependencies(scenario);
    expect(second.message).toMatch(/^cached \(\.swarm-molecule\/\.dependencies\/[0-9a-f]{16}\)$/);
    expect(second.paths).toEqual(first.paths);
    // No half-made install directory is left beside the cache.
    expect(readdirSync(join(scenario.dir, '..', '..', '.swarm-molecule', '.dependencies'))).toHaveLength(1);
    // Every Ansible command searches it first.
    const env = ansibleEnvironment({ scenario });
    expect(env.ANSIBLE_COLLECTIONS_PATH?.split(':')[0]).toBe(first.paths?.collections);
    expect(env.ANSIBLE_ROLES_PATH?.split(':')[0]).toBe(first.paths?.roles);
    rmSync(join(scenario.dir, '..', '..'), { recursive: true, force: true });
  });

  it('keys the cache on the tarball\'s content, not only the requirements text', async () => {
    const scenario = projectWith('collections:\n  - name: files/c.tar.gz\n    type: file\n');
    const file = requirementsFileOf(scenario) ?? '';
    writeFileSync(join(scenario.dir, 'files', 'c.tar.gz'), 'one');
    const one = dependencyKey(scenario, file);
    writeFileSync(join(scenario.dir, 'files', 'c.tar.gz'), 'two');
    expect(dependencyKey(scenario, file)).not.toBe(one);
    rmSync(join(scenario.dir, '..', '..'), { recursive: true, force: true });
  });

  it('says what ansible-galaxy refused, as a usage error, and caches nothing', async () => {
    const scenario = projectWith('collections:\n  - name: files/missing-1.0.0.tar.gz\n    type: file\n');
    const error = await installDependencies(scenario).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/^Dependency: "ansible-galaxy collection install" failed for requirements\.yml \(scenario "default"\): /);
    expect(installedDependencies(scenario)).toBeUndefined();
    expect(readdirSync(join(scenario.dir, '..', '..', '.swarm-molecule', '.dependencies'))).toEqual([]);
    rmSync(join(scenario.dir, '..', '..'), { recursive: true, force: true });
  });

  it('has nothing to do without a requirements file, and refuses a named one that is missing', async () => {
    const none = projectWith(undefined);
    expect((await installDependencies(none)).message).toBe('no requirements.yml: nothing to install');
    const named = { ...none, dependency: { requirements: 'deps.yml' } };
    await expect(installDependencies(named)).rejects.toThrow(/names the requirements file .*deps\.yml, which does not exist/);
    rmSync(join(none.dir, '..', '..'), { recursive: true, force: true });
  });
});

describe('ansibleEnvironment', () => {
  it('gives Molecule\'s variables, the project\'s roles and its parent, and the scenario\'s env last', () => {
    const scenario = projectWith(undefined);
    const project = join(scenario.dir, '..', '..');
    writeFileSync(join(project, 'ansible.cfg'), '[defaults]\n');
    const env = ansibleEnvironment({ scenario: { ...scenario, ansible: { ...scenario.ansible, env: { MOLECULE_SCENARIO_NAME: 'mine', EXTRA: '1' } } }, stateDir: '/s', inventoryFile: '/s/inv' });
    expect(env).toMatchObject({
      MOLECULE_PROJECT_DIRECTORY: expect.stringMatching(/sm-dependency-/) as unknown,
      MOLECULE_SCENARIO_DIRECTORY: scenario.dir,
      MOLECULE_SCENARIO_NAME: 'mine',
      MOLECULE_EPHEMERAL_DIRECTORY: '/s',
      MOLECULE_INVENTORY_FILE: '/s/inv',
      MOLECULE_DRIVER_NAME: 'netns',
      EXTRA: '1',
    });
    // The project's ansible.cfg for every command (lint runs elsewhere than syntax and converge).
    expect(env.ANSIBLE_CONFIG).toMatch(/sm-dependency-[^/]+\/ansible\.cfg$/);
    const roles = env.ANSIBLE_ROLES_PATH?.split(':') ?? [];
    expect(roles[0]).toMatch(/sm-dependency-[^/]+\/roles$/);
    expect(roles[1]).toBe(tmpdir());
    // The scenario's own ansible.cfg wins over the project's.
    writeFileSync(join(scenario.dir, 'ansible.cfg'), '[defaults]\n');
    expect(ansibleEnvironment({ scenario }).ANSIBLE_CONFIG).toBe(join(scenario.dir, 'ansible.cfg'));
    rmSync(project, { recursive: true, force: true });
  });
});
