/**
 * The API for custom steps: `import { defineConvergeStep, changed, ok } from 'swarm-molecule'`.
 */
export {
  changed,
  defineConvergeStep,
  defineVerifyStep,
  ok,
  skipped,
  type ConvergeStepDefinition,
  type EventuallyOptions,
  type Host,
  type HostOutcome,
  type Measurement,
  type NodeControl,
  type StepContext,
  type StepFact,
  type StepGraph,
  type StepNeed,
  type VerifyContext,
  type VerifyStepDefinition,
} from './steps/api.js';
export { AssertionFailed, expectThat } from './steps/assert.js';
export type { CommandResult, RunOptions } from './transport/index.js';
