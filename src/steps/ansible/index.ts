/**
 * Ansible playbooks as converge and verify steps: an inventory generated from
 * the platforms and the driver's node records, ansible-playbook run with
 * argument arrays, results read per host and task from a JSON callback, and the
 * offline checks (`--syntax-check`, ansible-lint) for `syntax` and `lint`.
 */
export { PlaybookFailed } from './playbook.js';
export { playbookStep } from './step.js';
export { adjacentVarsOverrides, checkPlaybookSyntax } from './syntax.js';
export { DEPENDENCY_LINT_CODE, lintPlaybooks } from './lint.js';
export { ansibleSanityProblems, playbookEntries, stepEntries, INSTALL } from './tools.js';
export { ADDRESS_VAR, LABELS_VAR, buildInventory } from './inventory.js';
export { IDEMPOTENCE_NOTEST_TAG, NOTEST_TAG } from './playbook.js';
export { installDependencies, installedDependencies } from './dependency.js';
