import pMap from 'p-map';
import type { Scenario, StepConfig } from '../config/index.js';
import { CheckFailed, HarnessError, InfraError, Interrupted, messageOf } from '../errors.js';
import { secrets, type SshTarget } from '../transport/index.js';
import { playbookStepName, runPlaybookEntry, verifyWithPlaybook } from './ansible/index.js';
import type { ConvergeStepDefinition, EventuallyOptions, Host, Measurement, NodeControl, StepContext, VerifyContext, VerifyStepDefinition } from './api.js';
import { AssertionFailed } from './assert.js';
import { createStepContext, type ContextBase } from './context.js';
import { eventually } from './eventually.js';
import { resolveStep } from './loader.js';

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

export interface ConvergeStepResult {
  /** Display name (the entry's `name:` or the step's own). */
  name: string;
  index: number;
  hosts: HostResult[];
  durationMs: number;
}

export type VerifyStatus = 'passed' | 'failed' | 'skipped';

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

const displayName = (entry: StepConfig, definitionName: string) => entry.name ?? definitionName;

function optionsOf<T>(definition: { options?: { parse(value: unknown): T } }, entry: StepConfig): T {
  return (definition.options ? definition.options.parse(entry.with) : entry.with) as T;
}

function rethrowIfFatal(error: unknown): void {
  if (error instanceof Interrupted) throw error;
}

function throwIfInterrupted(signal: AbortSignal): void {
  if (signal.aborted) throw new Interrupted(String(signal.reason ?? 'signal'));
}

/** A converge step failed: the code under test did not do what it should. */
export class ConvergeFailed extends CheckFailed {}

interface PreparedStep {
  definition: ConvergeStepDefinition<unknown>;
  name: string;
  ctx: StepContext<unknown>;
  hosts: readonly Host[];
}

/** Resolve each converge entry (undefined for playbooks): its definition, context and hosts. */
async function prepareConvergeSteps(input: StepRunInput): Promise<(PreparedStep | undefined)[]> {
  const prepared: (PreparedStep | undefined)[] = [];
  for (const entry of input.scenario.converge) {
    if (entry.playbook !== undefined) {
      prepared.push(undefined);
      continue;
    }
    const definition = (await resolveStep(input.scenario, entry)) as ConvergeStepDefinition<unknown>;
    const name = displayName(entry, definition.name);
    const ctx = createStepContext({ ...input.base, log: (line) => input.events.log?.(line, name) }, optionsOf(definition, entry));
    const hosts: readonly Host[] =
      entry.hosts !== undefined ? ctx.group(entry.hosts) : typeof definition.hosts === 'string' ? ctx.group(definition.hosts) : definition.hosts(ctx);
    prepared.push({ definition, name, ctx, hosts });
  }
  return prepared;
}

/**
 * Run every converge step in order; each host reports ok / changed / failed /
 * skipped. A step with a failed host stops the converge after that step.
 */
export async function runConvergeSteps(input: StepRunInput): Promise<ConvergeStepResult[]> {
  const results: ConvergeStepResult[] = [];
  const prepared = await prepareConvergeSteps(input);
  // Every step's reads at once, before the first step (as Ansible gathers facts).
  // A failed read is not fatal here: the step reads again and fails with context.
  await Promise.all(
    prepared.flatMap((step) => (step?.definition.gather ? [step.definition.gather(step.ctx, step.hosts).catch(() => undefined)] : [])),
  );
  for (const [position, entry] of input.scenario.converge.entries()) {
    throwIfInterrupted(input.base.signal);
    const step = prepared[position];
    if (entry.playbook !== undefined || !step) {
      const name = playbookStepName(entry);
      input.events.stepStart?.('converge', name, entry.index);
      const started = performance.now();
      const hostResults = await runPlaybookEntry(input, entry);
      input.forgetReads?.();
      results.push({ name, index: entry.index, hosts: hostResults, durationMs: performance.now() - started });
      const failed = hostResults.filter((r) => r.status === 'failed');
      if (failed.length > 0) throw convergeFailure(input.scenario.name, name, failed, false);
      continue;
    }
    const { definition, name, ctx, hosts } = step;
    input.events.stepStart?.('converge', name, entry.index);
    const started = performance.now();
    const failures: unknown[] = [];
    const applyOn = async (host: Host): Promise<HostResult> => {
      const hostStarted = performance.now();
      let result: HostResult;
      try {
        const outcome = await definition.apply(ctx, host);
        result = {
          host: host.name,
          status: outcome.status,
          changes: outcome.status === 'changed' ? outcome.changes.map((c) => secrets.mask(c)) : [],
          ...(outcome.status === 'ok' && outcome.message ? { message: outcome.message } : {}),
          ...(outcome.status === 'skipped' ? { message: outcome.reason } : {}),
          durationMs: performance.now() - hostStarted,
        };
      } catch (error) {
        rethrowIfFatal(error);
        throwIfInterrupted(input.base.signal);
        failures.push(error);
        result = { host: host.name, status: 'failed', changes: [], message: secrets.mask(messageOf(error)), durationMs: performance.now() - hostStarted };
      }
      input.events.hostResult?.(name, result);
      return result;
    };
    const hostResults = await pMap(hosts, applyOn, { concurrency: definition.serial ? 1 : Infinity, signal: input.base.signal });
    results.push({ name, index: entry.index, hosts: hostResults, durationMs: performance.now() - started });
    if (failures.length > 0) {
      const failed = hostResults.filter((r) => r.status === 'failed');
      // A node that stopped answering is the machinery's fault, not the code under test.
      throw convergeFailure(input.scenario.name, name, failed, failures.some((e) => e instanceof InfraError));
    }
  }
  return results;
}

function convergeFailure(scenario: string, name: string, failed: readonly HostResult[], infra: boolean): HarnessError {
  const summary = failed.map((r) => `${r.host}: ${r.message ?? ''}`).join('; ');
  const message = `Converge step "${name}" failed on ${failed.map((r) => r.host).join(', ')} (scenario "${scenario}"): ${summary}`;
  const hint = `Run "swarm-molecule login -s ${scenario} -h ${failed[0]?.host ?? ''}" to inspect.`;
  return infra ? new InfraError(message, { hint }) : new ConvergeFailed(message, { hint });
}

/** A verify entry that is a playbook: a failed task on any host fails it. */
async function verifyPlaybookEntry(input: StepRunInput, entry: StepConfig): Promise<VerifyStepResult> {
  const name = playbookStepName(entry);
  input.events.stepStart?.('verify', name, entry.index);
  const started = performance.now();
  try {
    await verifyWithPlaybook(input, entry);
    const result: VerifyStepResult = { name, index: entry.index, status: 'passed', measurements: [], durationMs: performance.now() - started };
    input.events.verifyResult?.(result);
    return result;
  } catch (error) {
    rethrowIfFatal(error);
    const result: VerifyStepResult = { name, index: entry.index, status: 'failed', message: secrets.mask(messageOf(error)), measurements: [], durationMs: performance.now() - started };
    input.events.verifyResult?.(result);
    if (!(error instanceof CheckFailed)) throw error;
    return result;
  }
}

/**
 * Run every verify step, all of them even after a failure, so one run shows
 * every check that does not hold.
 */
export async function runVerifySteps(input: StepRunInput): Promise<VerifyStepResult[]> {
  const results: VerifyStepResult[] = [];
  for (const entry of input.scenario.verify) {
    throwIfInterrupted(input.base.signal);
    if (entry.playbook !== undefined) {
      results.push(await verifyPlaybookEntry(input, entry));
      continue;
    }
    const definition = (await resolveStep(input.scenario, entry)) as VerifyStepDefinition<unknown>;
    const name = displayName(entry, definition.name);
    input.events.stepStart?.('verify', name, entry.index);
    const measurements: Measurement[] = [];
    const base = createStepContext({ ...input.base, log: (line) => input.events.log?.(line, name) }, optionsOf(definition, entry));
    const ctx: VerifyContext<unknown> = {
      ...base,
      eventually: <T>(check: (observe: (value: unknown) => void) => Promise<T>, options?: EventuallyOptions) => {
        if (options?.description) input.events.waiting?.(name, options.description);
        return eventually(check, { ...options, signal: input.base.signal });
      },
      measure: (measurement, value, unit = 'ms') => {
        measurements.push({ name: measurement, value, unit });
        base.log(`${measurement}: ${unit === 'ms' ? `${(value / 1000).toFixed(1)} s` : unit === 's' ? `${value} s` : String(value)}`);
      },
      nodes: input.nodes,
    };
    const started = performance.now();
    let result: VerifyStepResult;
    try {
      const outcome = await definition.verify(ctx);
      result =
        outcome && 'skipped' in outcome
          ? { name, index: entry.index, status: 'skipped', message: outcome.skipped, measurements, durationMs: performance.now() - started }
          : { name, index: entry.index, status: 'passed', measurements, durationMs: performance.now() - started };
    } catch (error) {
      rethrowIfFatal(error);
      throwIfInterrupted(input.base.signal);
      result = {
        name,
        index: entry.index,
        status: 'failed',
        message: secrets.mask(messageOf(error)),
        ...(error instanceof AssertionFailed ? { expected: secrets.mask(error.expected), observed: secrets.mask(error.observed) } : {}),
        measurements,
        durationMs: performance.now() - started,
      };
      if (error instanceof HarnessError && !(error instanceof CheckFailed)) {
        input.events.verifyResult?.(result);
        results.push(result);
        throw error;
      }
    }
    input.events.verifyResult?.(result);
    results.push(result);
  }
  return results;
}
