import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { STEP_SECTIONS, type Scenario, type StepConfig, type StepSection } from '../../config/index.js';
import type { SanityProblem } from '../../drivers/types.js';

// Names the lifecycle uses without loading Ansible's code (execa, the playbook runner).
/** Molecule's tags: tasks never run under test, and tasks not run again by the idempotence check. */
export const NOTEST_TAG = 'molecule-notest';
export const IDEMPOTENCE_NOTEST_TAG = 'molecule-idempotence-notest';
/** ansible-lint findings in what `dependency` installed: third-party code, listed apart. */
export const DEPENDENCY_LINT_CODE = 'ansible-lint-dependency';

/** How to get the commands on Debian 12 (ansible-core 2.14, ansible-lint 6.13). */
export const INSTALL = {
  'ansible-playbook': 'apt-get install -y ansible-core',
  'ansible-lint': 'apt-get install -y ansible-lint',
} as const;

export type AnsibleCommand = keyof typeof INSTALL;

/** The full path of `command` on PATH, or undefined: no process is started. */
export function which(command: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Every entry of every step list (prepare, converge, side_effect, verify, cleanup). */
export function stepEntries(scenario: Pick<Scenario, StepSection>): StepConfig[] {
  return STEP_SECTIONS.flatMap((section) => scenario[section]);
}

/** Every entry of every step list that runs a playbook. */
export function playbookEntries(scenario: Pick<Scenario, StepSection>): StepConfig[] {
  return stepEntries(scenario).filter((entry) => entry.playbook !== undefined);
}

/** What this machine lacks for the scenario's playbook steps (nothing when it has none). */
export function ansibleSanityProblems(scenario: Pick<Scenario, 'name' | StepSection>): SanityProblem[] {
  if (playbookEntries(scenario).length === 0 || which('ansible-playbook') !== undefined) return [];
  return [
    {
      problem: `ansible-playbook is not installed, and scenario "${scenario.name}" has playbook steps.`,
      fix: INSTALL['ansible-playbook'],
    },
  ];
}
