import { swarmAllNodesDrained } from './rules/swarm-all-nodes-drained.js';
import { swarmConflictingRoles } from './rules/swarm-conflicting-roles.js';
import { swarmEvenManagers } from './rules/swarm-even-managers.js';
import { swarmNoSchedulableNode } from './rules/swarm-no-schedulable-node.js';
import { swarmRollingUpdateParallelism } from './rules/swarm-rolling-update-parallelism.js';
import { swarmTooManyManagers } from './rules/swarm-too-many-managers.js';
import { swarmUnknownGroup } from './rules/swarm-unknown-group.js';
import { swarmUnknownLabel } from './rules/swarm-unknown-label.js';
import { verifyDisruptiveWithoutRestore } from './rules/verify-disruptive-without-restore.js';
import { yamlDuplicateKeys } from './rules/yaml-duplicate-keys.js';
import { yamlIndentation } from './rules/yaml-indentation.js';
import { yamlTabs } from './rules/yaml-tabs.js';
import { yamlTrailingSpaces } from './rules/yaml-trailing-spaces.js';
import { yamlTruthy } from './rules/yaml-truthy.js';
import { LINT_RULES, type LintRuleId } from '../config/lint-rules.js';
import type { LintCheck, LintRule } from './types.js';

const checks: Record<LintRuleId, LintCheck> = {
  'yaml-tabs': yamlTabs,
  'yaml-trailing-spaces': yamlTrailingSpaces,
  'yaml-duplicate-keys': yamlDuplicateKeys,
  'yaml-indentation': yamlIndentation,
  'yaml-truthy': yamlTruthy,
  'swarm-even-managers': swarmEvenManagers,
  'swarm-too-many-managers': swarmTooManyManagers,
  'swarm-all-nodes-drained': swarmAllNodesDrained,
  'swarm-no-schedulable-node': swarmNoSchedulableNode,
  'swarm-rolling-update-parallelism': swarmRollingUpdateParallelism,
  'verify-disruptive-without-restore': verifyDisruptiveWithoutRestore,
  'swarm-unknown-label': swarmUnknownLabel,
  'swarm-unknown-group': swarmUnknownGroup,
  'swarm-conflicting-roles': swarmConflictingRoles,
};

/** Every lint rule by id, in the order the docs list them. */
export const lintRules: Readonly<Record<string, LintRule>> = Object.fromEntries(LINT_RULES.map((info) => [info.id, { ...info, ...checks[info.id] }]));
