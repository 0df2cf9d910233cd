import type { StepDefinition } from '../api.js';
import drainManagers from './drain-managers.js';
import init from './init.js';
import joinManagers from './join-managers.js';
import joinWorkers from './join-workers.js';
import labels from './labels.js';
import nodeRoles from './node-roles.js';

/** Every built-in step by the name scenarios use. */
export const builtinSteps: Record<string, StepDefinition> = Object.fromEntries(
  [init, joinManagers, joinWorkers, drainManagers, labels, nodeRoles].map((step) => [step.name, step]),
);
