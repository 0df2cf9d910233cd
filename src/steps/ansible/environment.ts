import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Scenario } from '../../config/index.js';
import { installedDependencies, projectDirOf } from './dependency.js';

const DEFAULT_ROLES_PATH = ['~/.ansible/roles', '/usr/share/ansible/roles', '/etc/ansible/roles'];
const DEFAULT_COLLECTIONS_PATH = ['~/.ansible/collections', '/usr/share/ansible/collections'];

/**
 * The ansible.cfg every Ansible run of a scenario uses (syntax, lint, converge,
 * dependency alike): the scenario directory's, else the project's, else
 * Ansible's own search (ANSIBLE_CONFIG, ~/.ansible.cfg, /etc/ansible).
 */
export function ansibleConfigOf(scenario: Pick<Scenario, 'dir'>): string | undefined {
  for (const dir of [scenario.dir, projectDirOf(scenario)]) {
    const file = join(dir, 'ansible.cfg');
    if (existsSync(file)) return file;
  }
  return undefined;
}

export interface AnsibleEnvironmentInput {
  scenario: Pick<Scenario, 'name' | 'dir' | 'dependency' | 'ansible' | 'driver'>;
  /** `.swarm-molecule/<scenario>/` (Molecule's ephemeral directory), when there is a run. */
  stateDir?: string;
  /** The generated inventory, when there is one. */
  inventoryFile?: string;
}

/**
 * The environment of every Ansible command of a scenario: the roles and
 * collections `dependency` installed searched first, then the project's
 * `roles/` and the directory above the project (so Molecule's
 * `include_role: name: "{{ lookup('env', 'MOLECULE_PROJECT_DIRECTORY') | basename }}"`
 * finds the role under test), then Ansible's defaults; Molecule's MOLECULE_*
 * variables; the same ansible.cfg whichever command runs; and last the
 * scenario's own `ansible.env`.
 */
export function ansibleEnvironment(input: AnsibleEnvironmentInput): Record<string, string> {
  const { scenario } = input;
  const project = projectDirOf(scenario);
  const installed = installedDependencies(scenario);
  const config = ansibleConfigOf(scenario);
  const env: Record<string, string> = {
    ANSIBLE_ROLES_PATH: [...(installed ? [installed.roles] : []), join(project, 'roles'), dirname(project), ...DEFAULT_ROLES_PATH].join(':'),
    ANSIBLE_COLLECTIONS_PATH: [...(installed ? [installed.collections] : []), ...DEFAULT_COLLECTIONS_PATH].join(':'),
    ...(config !== undefined ? { ANSIBLE_CONFIG: config } : {}),
    MOLECULE_PROJECT_DIRECTORY: project,
    MOLECULE_SCENARIO_DIRECTORY: scenario.dir,
    MOLECULE_SCENARIO_NAME: scenario.name,
    MOLECULE_DRIVER_NAME: scenario.driver.name,
    ...(input.stateDir !== undefined ? { MOLECULE_EPHEMERAL_DIRECTORY: input.stateDir } : {}),
    ...(input.inventoryFile !== undefined ? { MOLECULE_INVENTORY_FILE: input.inventoryFile } : {}),
  };
  return { ...env, ...scenario.ansible.env };
}
