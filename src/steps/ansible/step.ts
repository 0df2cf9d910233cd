import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { stepKindOf, type Scenario, type StepConfig } from '../../config/index.js';
import { InfraError } from '../../errors.js';
import type { VerifyStepDefinition } from '../api.js';
import type { BatchConvergeStep, StepRunInput } from '../types.js';
import { runPlaybookEntry, verifyWithPlaybook } from './playbook.js';

/**
 * A `playbook:` entry as a step: under converge, one ansible-playbook run on
 * all its hosts, each host reported from the run; under verify, a failed task
 * on any host fails the check. Without `run` (the offline checks) it can be
 * checked but not run.
 */
export function playbookStep(scenario: Scenario, entry: StepConfig, run?: StepRunInput): BatchConvergeStep | VerifyStepDefinition<unknown> {
  const playbook = entry.playbook ?? '';
  const input = (): StepRunInput => {
    if (run === undefined) throw new InfraError(`Playbook step "${playbook}" was loaded without the run's nodes, so it cannot run.`);
    return run;
  };
  const common = {
    name: playbook,
    description: `The Ansible playbook ${playbook}.`,
    requirements: () => {
      const path = resolve(scenario.dir, playbook);
      if (existsSync(path)) return [];
      return [{ path: ['playbook'], message: `Playbook ${playbook} does not exist (looked for ${path}).`, hint: 'Fix the path: it is relative to the scenario directory.' }];
    },
  };
  return stepKindOf(entry.section) === 'converge'
    ? { ...common, kind: 'converge', applyAll: () => runPlaybookEntry(input(), entry) }
    : { ...common, kind: 'verify', verify: () => verifyWithPlaybook(input(), entry) };
}
