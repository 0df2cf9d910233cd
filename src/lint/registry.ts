import { swarmAllNodesDrained } from './rules/swarm-all-nodes-drained.js';
import { swarmConflictingRoles } from './rules/swarm-conflicting-roles.js';
import { swarmEvenManagers } from './rules/swarm-even-managers.js';
import { swarmFailoverQuorum } from './rules/swarm-failover-quorum.js';
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
import type { LintRule } from './types.js';

/** Every lint rule by id, in the order the docs list them. */
export const lintRules: Readonly<Record<string, LintRule>> = Object.fromEntries(
  [
    yamlTabs,
    yamlTrailingSpaces,
    yamlDuplicateKeys,
    yamlIndentation,
    yamlTruthy,
    swarmEvenManagers,
    swarmTooManyManagers,
    swarmFailoverQuorum,
    swarmAllNodesDrained,
    swarmNoSchedulableNode,
    swarmRollingUpdateParallelism,
    verifyDisruptiveWithoutRestore,
    swarmUnknownLabel,
    swarmUnknownGroup,
    swarmConflictingRoles,
  ].map((rule) => [rule.id, rule]),
);
