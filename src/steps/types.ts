import type { Scenario, StepSection } from '../config/index.js';
import type { SshTarget } from '../transport/index.js';
import type { ConvergeStepDefinition, Measurement, NodeControl, StepContext, StepDefinition } from './api.js';
import type { ContextBase } from './context.js';
import type { StepCrash } from './step-error.js';

export type { StepCrash } from './step-error.js';

export type HostStatus = 'ok' | 'changed' | 'failed' | 'skipped';

/** What one converge step did on one host. */
export interface HostResult {
  host: string;
  status: HostStatus;
  /** `what: before → after` for each change. */
  changes: string[];
  message?: string;
  /** The step's code threw on this host (a bug in the step, not the host's state). */
  error?: StepCrash;
  /** A playbook step: Ansible's own counts for this host, as its PLAY RECAP gives them. */
  ansible?: AnsibleRecap;
  durationMs: number;
}

/** One host's line of Ansible's PLAY RECAP. */
export interface AnsibleRecap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
  /** False when the run stopped before Ansible's recap: then counted from the task results it reported. */
  fromRecap: boolean;
}

/** What one converge step did, host by host. */
export interface ConvergeStepResult {
  /** Display name (the entry's `name:` or the step's own). */
  name: string;
  index: number;
  hosts: HostResult[];
  /** The step's `ctx.log()` lines, each with the host it was logged for when there was one. */
  log: LogLine[];
  durationMs: number;
}

/** When a step ran within a phase that holds several (the converge walk): its steps overlap. */
export interface StepSpan {
  name: string;
  /** From the start of the phase. */
  startMs: number;
  durationMs: number;
}

/** One `ctx.log()` line of a step. */
export interface LogLine {
  message: string;
  host?: string;
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
  /** The step's code threw: a step error (its stack and code frame), not a check that did not hold. */
  error?: StepCrash;
  /** The step's `ctx.log()` lines. */
  log: LogLine[];
  measurements: Measurement[];
  durationMs: number;
}

/** Hooks the runners call as they go, for live output. */
export interface StepEvents {
  stepStart?(section: StepSection, name: string, index: number): void;
  hostResult?(step: string, result: HostResult): void;
  verifyResult?(result: VerifyStepResult): void;
  /** A step's `ctx.log()` line; `host` when the step logged it while applying to that host. */
  log?(line: string, step: string, host?: string): void;
  /** A playbook step's task starts (Ansible's TASK line), as it happens. */
  taskStart?(step: string, task: string): void;
  /** A playbook step's task ended on a host, as it happens (the host's summary comes with hostResult at the end). */
  taskResult?(step: string, result: TaskLine): void;
  /** A step is waiting for something to hold (e.g. "a new leader"); again with each value it observes. */
  waiting?(step: string, description: string, progress?: WaitProgress): void;
}

/** One task's result on one host, live. */
export interface TaskLine {
  host: string;
  task: string;
  status: 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';
  /** A failure of a task with ignore_errors. */
  ignored: boolean;
  /** Why it failed. */
  message?: string;
}

/** How a wait is going: its timeout, and the last value the check observed (one line, for the live line). */
export interface WaitProgress {
  timeoutMs?: number;
  observed?: string;
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
  /** The action enters phase `name` (`start`, `steps`, a verify step): where its time goes. */
  phase?: (name: string) => void;
  /** When each step ran inside the current phase (the converge walk, where steps overlap). */
  spans?: (spans: StepSpan[]) => void;
  /**
   * The one round trip before the first step: check that every node runs,
   * connect to every node and run `firstReads` (the steps' reads, each going to
   * its node as soon as that node's connection is up), all at once.
   */
  start?: (firstReads: () => Promise<void>) => Promise<void>;
  /** For this action's playbook runs: tags to skip besides the scenario's, and arguments from the command line's "--". */
  playbook?: PlaybookRunOptions;
}

export interface PlaybookRunOptions {
  /** E.g. molecule-idempotence-notest during the idempotence check. */
  skipTags?: readonly string[];
  /** What followed "--" on the command line: given to every ansible-playbook run. */
  args?: readonly string[];
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
