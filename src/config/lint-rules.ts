/** A lint rule as a scenario file knows it: its id under `lint.rules`, its default severity, and why it exists. */
export interface LintRuleInfo {
  /** Kebab-case id, used in `lint.rules` and disable comments. */
  id: string;
  /** Severity unless the scenario's `lint.rules` says otherwise. */
  severity: 'error' | 'warning';
  /** One line: why the rule exists (shown in the README and the JSON schema). */
  reason: string;
}

// Plain data, so the scenario schema lists the rules without importing the lint
// layer above it; each id's check is in src/lint/rules/ (the registry there
// does not compile without one per id). In the order the docs list them.
export const LINT_RULES = [
  { id: 'yaml-tabs', severity: 'warning', reason: 'Tabs are not indentation in YAML and line up differently in every editor.' },
  { id: 'yaml-trailing-spaces', severity: 'warning', reason: 'Trailing whitespace is invisible noise in diffs.' },
  { id: 'yaml-duplicate-keys', severity: 'error', reason: 'With a key given twice only the last value counts; the first is silently ignored.' },
  { id: 'yaml-indentation', severity: 'warning', reason: 'Mixed indentation widths make the nesting hard to see and easy to break.' },
  { id: 'yaml-truthy', severity: 'warning', reason: 'yes/no/on/off are booleans to YAML 1.1 tools (Ansible) but strings here: say true/false, or quote.' },
  { id: 'swarm-even-managers', severity: 'warning', reason: 'An even number of managers tolerates no more failures than one manager fewer.' },
  { id: 'swarm-too-many-managers', severity: 'warning', reason: 'Docker recommends at most 7 managers: more slow Raft down without useful fault tolerance.' },
  { id: 'swarm-all-nodes-drained', severity: 'warning', reason: 'Draining every node (the managers of a swarm without workers) leaves none to run a service.' },
  { id: 'swarm-no-schedulable-node', severity: 'error', reason: 'A service step whose constraints match too few schedulable nodes waits for tasks that never start.' },
  { id: 'swarm-rolling-update-parallelism', severity: 'error', reason: 'With replicas not above parallelism every task updates at once: nothing rolls.' },
  { id: 'verify-disruptive-without-restore', severity: 'error', reason: 'A step that stops nodes with restore: false leaves the next verify steps a broken cluster.' },
  { id: 'swarm-unknown-label', severity: 'error', reason: 'A placement constraint on a label no platform has matches no node.' },
  { id: 'swarm-unknown-group', severity: 'warning', reason: 'A "swarm-" group other than swarm-leader/manager/worker is most likely a typo: the node joins nothing.' },
  { id: 'swarm-conflicting-roles', severity: 'error', reason: 'A node is a manager or a worker, not both: swarm/join-workers would try to join a manager as a worker.' },
] as const satisfies readonly LintRuleInfo[];

export type LintRuleId = (typeof LINT_RULES)[number]['id'];
