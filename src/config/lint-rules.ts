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

/**
 * ansible-lint's rule ids (6.x), and the sub-rule ids it reports most, which a
 * scenario may set under `lint.rules` like its own: off drops the findings,
 * warning and error set their severity. A sub-rule (`fqcn[action-core]`) wins over its rule (`fqcn`).
 */
export const ANSIBLE_LINT_RULES = [
  'args', 'avoid-implicit', 'command-instead-of-module', 'command-instead-of-shell', 'deprecated-bare-vars', 'deprecated-command-syntax',
  'deprecated-local-action', 'deprecated-module', 'empty-string-compare', 'fqcn', 'galaxy', 'ignore-errors', 'inline-env-var', 'internal-error',
  'jinja', 'key-order', 'latest', 'literal-compare', 'load-failure', 'loop-var-prefix', 'meta-incorrect', 'meta-no-info', 'meta-no-tags',
  'meta-runtime', 'meta-video-links', 'name', 'no-changed-when', 'no-free-form', 'no-handler', 'no-jinja-when', 'no-log-password', 'no-prompting',
  'no-relative-paths', 'no-same-owner', 'no-tabs', 'only-builtins', 'package-latest', 'parser-error', 'partial-become', 'playbook-extension',
  'risky-file-permissions', 'risky-octal', 'risky-shell-pipe', 'role-name', 'run-once', 'schema', 'syntax-check', 'var-naming', 'warning', 'yaml',
  'args[module]', 'fqcn[action]', 'fqcn[action-core]', 'fqcn[canonical]', 'fqcn[keyword]', 'jinja[invalid]', 'jinja[spacing]', 'key-order[task]',
  'name[casing]', 'name[missing]', 'name[play]', 'name[template]', 'no-free-form[raw]', 'risky-shell-pipe', 'schema[meta]', 'schema[playbook]',
  'schema[tasks]', 'schema[vars]', 'var-naming[no-jinja]', 'var-naming[no-keyword]', 'var-naming[no-reserved]', 'var-naming[non-ascii]',
  'var-naming[pattern]', 'yaml[brackets]', 'yaml[colons]', 'yaml[commas]', 'yaml[comments]', 'yaml[comments-indentation]', 'yaml[document-start]',
  'yaml[empty-lines]', 'yaml[hyphens]', 'yaml[indentation]', 'yaml[key-duplicates]', 'yaml[line-length]', 'yaml[new-line-at-end-of-file]',
  'yaml[octal-values]', 'yaml[trailing-spaces]', 'yaml[truthy]',
] as const;
