import type { Scenario } from '../config/index.js';
import type { SshTarget } from '../transport/index.js';
import type { ConvergeStepDefinition, Measurement, NodeControl, StepContext, StepDefinition } from './api.js';
import type { ContextBase } from './context.js';

export type HostStatus = 'ok' | 'changed' | 'failed' | 'skipped';

/** What one converge step did on one host. */
export interface HostResult {
  host: string;
  status: HostStatus;
  /** `what: before → after` for each change. */
  changes: string[];
  message?: string;
  durationMs: number;
}

/** What one converge step did, host by host. */
export interface ConvergeStepResult {
  /** Display name (the entry's `name:` or the step's own). */
  name: string;
  index: number;
  hosts: HostResult[];
  durationMs: number;
}

export type VerifyStatus = 'passed' | 'failed' | 'skipped';

/** How one verify step ended, with what it measured. */
export interface VerifyStepResult {
  name: string;
  index: number;
  status: VerifyStatus;
  /** Why it failed or was skipped. */
  message?: string;
  expected?: string;
  observed?: string;
  measurements: Measurement[];
  durationMs: number;
}

/** Hooks the runners call as they go, for live output. */
export interface StepEvents {
  stepStart?(section: 'converge' | 'verify', name: string, index: number): void;
  hostResult?(step: string, result: HostResult): void;
  verifyResult?(result: VerifyStepResult): void;
  log?(line: string, step: string): void;
  /** A step is waiting for something to hold (e.g. "a new leader"). */
  waiting?(step: string, description: string): void;
}

/** What the step runners get from the lifecycle for one action. */
export interface StepRunInput {
  scenario: Scenario;
  base: Omit<ContextBase, 'log'>;
  events: StepEvents;
  nodes: NodeControl;
  /** The nodes as the driver recorded them now (address, port, user, key, host key): for playbook steps. */
  targets?: () => readonly SshTarget[];
  /** `.swarm-molecule/<scenario>/`: playbook steps keep their inventory there and append to its logs. */
  stateDir?: string;
  /** Forget the reads gathered so far: a playbook entry may have changed the swarm. */
  forgetReads?: () => void;
}

/**
 * A converge step applied to all its hosts in one call, which reports each
 * host itself: a playbook, where Ansible picks the hosts and their order.
 */
export interface BatchConvergeStep extends Omit<ConvergeStepDefinition<unknown>, 'hosts' | 'apply' | 'gather' | 'serial'> {
  applyAll(ctx: StepContext<unknown>): Promise<HostResult[]>;
}

/** What an entry of converge or verify loads as: a step definition, or a playbook run on all its hosts. */
export type LoadedStep = StepDefinition | BatchConvergeStep;
