import { resolve } from 'node:path';
import type { StepConfig, StepSection } from '../config/index.js';
import { CheckFailed, HarnessError, InfraError, Interrupted, messageOf, StepCrashed } from '../errors.js';
import { secrets } from '../transport/index.js';
import type { ConvergeStepDefinition, EventuallyOptions, Host, Measurement, StepContext, VerifyContext, VerifyStepDefinition } from './api.js';
import { AssertionFailed } from './assert.js';
import { createStepContext } from './context.js';
import { ConvergeFailed } from './errors.js';
import { eventually } from './eventually.js';
import { planWalk, walk } from './graph.js';
import { InOrder } from './in-order.js';
import { isModuleReference, resolveStep } from './loader.js';
import { crashPosition, describeCrash, isStepCrash, type StepCrash } from './step-error.js';
import type { BatchConvergeStep, ConvergeStepResult, HostResult, LogLine, StepRunInput, StepSpan, VerifyStepResult } from './types.js';

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

function contextFor<Options>(input: StepRunInput, name: string, options: Options, lines: LogLine[]): StepContext<Options> {
  return createStepContext(
    {
      ...input.base,
      log: (line) => {
        const message = secrets.mask(line);
        lines.push({ message });
        input.events.log?.(message, name);
      },
    },
    options,
  );
}

/** The same context, its log lines tied to the host being applied to (they go to that node's log too). */
function forHost<Options>(ctx: StepContext<Options>, input: StepRunInput, name: string, host: Host, lines: LogLine[]): StepContext<Options> {
  return {
    ...ctx,
    log: (line) => {
      const message = secrets.mask(line);
      lines.push({ message, host: host.name });
      input.events.log?.(message, name, host.name);
    },
  };
}

/** The file of a custom step module, for the code frame of its crash. */
function stepFile(input: StepRunInput, entry: StepConfig): string | undefined {
  return entry.step !== undefined && isModuleReference(entry.step) ? resolve(input.scenario.dir, entry.step) : undefined;
}

/** Where to look next when a step crashed: its own file, or (a built-in) a bug to report. */
function crashHint(crash: StepCrash, name: string, entry: StepConfig): string {
  const at = crashPosition(crash);
  if (entry.step !== undefined && isModuleReference(entry.step)) return `Fix step "${name}" in ${at ?? entry.step}: its code threw ${crash.name}.`;
  return `Built-in step "${name}" threw ${crash.name}${at ? ` at ${at}` : ''}: a bug in swarm-molecule. Run again with --debug and report it with the stack.`;
}

interface PreparedStep {
  entry: StepConfig;
  definition: ConvergeStepDefinition<unknown> | BatchConvergeStep;
  name: string;
  ctx: StepContext<unknown>;
  log: LogLine[];
  /** The hosts a per-host step applies to; a batch step picks its own. */
  hosts: readonly Host[];
  /** The step's own input: its events come out in the list's order (see InOrder). */
  input: StepRunInput;
}

/** Resolve each entry of a list of converge-kind steps: its definition, context and hosts. */
async function prepareConvergeSteps(input: StepRunInput, entries: readonly StepConfig[], order: InOrder): Promise<PreparedStep[]> {
  const prepared: PreparedStep[] = [];
  for (const [i, entry] of entries.entries()) {
    const stepInput: StepRunInput = { ...input, events: order.eventsOf(i) };
    const definition = (await resolveStep(input.scenario, entry, stepInput)) as PreparedStep['definition'];
    const name = displayName(entry, definition.name);
    order.name(i, name, entry.index);
    const log: LogLine[] = [];
    const ctx = contextFor(stepInput, name, optionsOf(definition, entry), log);
    const hosts: readonly Host[] =
      'applyAll' in definition ? [] : entry.hosts !== undefined ? ctx.group(entry.hosts) : typeof definition.hosts === 'string' ? ctx.group(definition.hosts) : definition.hosts(ctx);
    prepared.push({ entry, definition, name, ctx, log, hosts, input: stepInput });
  }
  return prepared;
}

/** Apply a per-host step to one host; a host that throws is a failed host (an interrupt stops everything). */
async function applyOnHost(definition: ConvergeStepDefinition<unknown>, step: PreparedStep, host: Host): Promise<{ result: HostResult; infra: boolean }> {
  const { name, ctx, input } = step;
  const hostStarted = performance.now();
  let result: HostResult;
  let infra = false;
  try {
    const outcome = await definition.apply(forHost(ctx, input, name, host, step.log), host);
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
    // A node that stopped answering is the machinery's fault, not the code under test.
    infra = error instanceof InfraError;
    const crash = isStepCrash(error) ? describeCrash(error, stepFile(input, step.entry), input.scenario.dir) : undefined;
    result = {
      host: host.name,
      status: 'failed',
      changes: [],
      message: crash ? `${crash.name}: ${crash.message}` : secrets.mask(messageOf(error)),
      ...(crash ? { error: crash } : {}),
      durationMs: performance.now() - hostStarted,
    };
  }
  input.events.hostResult?.(name, result);
  return { result, infra };
}

/** The leader's name, when the scenario has exactly one (the `swarm` need waits for it). */
function leaderName(prepared: readonly PreparedStep[]): string | undefined {
  try {
    return prepared[0]?.ctx.leader().name;
  } catch {
    return undefined;
  }
}

/** The scenario's `images:` on every node, as the step "images"; a node that could not load them fails the converge before any step. */
async function loadScenarioImages(input: StepRunInput): Promise<ConvergeStepResult> {
  // Loaded only for a scenario that lists images: the local engine's client comes with it.
  const { convergeImages, IMAGES_STEP } = await import('./images/scenario.js');
  input.phase?.(IMAGES_STEP);
  const images = await convergeImages(input);
  const failed = images.hosts.filter((r) => r.status === 'failed');
  if (failed.length > 0) {
    const message = `Converge step "${IMAGES_STEP}" failed on ${failed.map((r) => r.host).join(', ')} (scenario "${input.scenario.name}"): ${failureSummary(failed)}`;
    throw Object.assign(new ConvergeFailed(message, { hint: `Run "swarm-molecule login -s ${input.scenario.name} -h ${failed[0]?.host ?? ''}" to inspect.` }), { converge: [images] });
  }
  return images;
}

/** What one step did so far in the walk. */
interface StepRun {
  hosts: HostResult[];
  startedAt: number;
  endedAt: number;
  infra: boolean;
}

/**
 * Run the converge steps (or those of another list that changes the nodes:
 * prepare, side_effect, cleanup) as a graph: a step entry runs on a host as
 * soon as what it depends on holds for that host (see graph.ts); steps that do
 * not declare their place are barriers, as before. Each host reports ok /
 * changed / failed / skipped; a step with a failed host fails the list.
 */
export async function runConvergeSteps(input: StepRunInput, section: Exclude<StepSection, 'verify'> = 'converge'): Promise<ConvergeStepResult[]> {
  const entries = input.scenario[section];
  const order = new InOrder(input.events, section, entries.length);
  let prepared: PreparedStep[] = [];
  // One round trip before the first step: the steps load while the nodes are checked and
  // connected, and every step's reads go to each node as soon as it answers (as Ansible gathers facts).
  // A failed read is not fatal here: the step reads again and fails with context.
  input.phase?.('start');
  const firstReads = async () => {
    prepared = await prepareConvergeSteps(input, entries, order);
    await Promise.all(
      prepared.flatMap((step) => ('gather' in step.definition && step.definition.gather ? [step.definition.gather(step.ctx, step.hosts).catch(() => undefined)] : [])),
    );
  };
  await (input.start ? input.start(firstReads) : firstReads());
  throwIfInterrupted(input.base.signal);

  // The scenario's images: first, so that the steps after find them on every node.
  const images = section === 'converge' && (input.scenario.images?.length ?? 0) > 0 ? await loadScenarioImages(input) : undefined;

  input.phase?.('steps');
  const walkStarted = performance.now();
  const runs = new Map<number, StepRun>();
  const tasks = planWalk(
    prepared.map((step) => ({
      hosts: 'applyAll' in step.definition ? undefined : step.hosts.map((h) => h.name),
      graph: 'applyAll' in step.definition ? undefined : step.definition.graph,
      serial: !('applyAll' in step.definition) && step.definition.serial === true,
    })),
    leaderName(prepared),
  );
  const record = (index: number, hosts: readonly HostResult[], infra: boolean) => {
    const run = runs.get(index);
    if (!run) return;
    run.hosts.push(...hosts);
    run.endedAt = performance.now();
    run.infra ||= infra;
  };
  await walk(tasks, {
    run: async (task) => {
      throwIfInterrupted(input.base.signal);
      const step = prepared[task.step];
      if (!step) throw new RangeError(`No step ${task.step}.`);
      if (!runs.has(task.step)) runs.set(task.step, { hosts: [], startedAt: performance.now(), endedAt: performance.now(), infra: false });
      order.started(task.step);
      const { definition } = step;
      if ('applyAll' in definition) {
        const results = await definition.applyAll(step.ctx);
        // A playbook may have changed the swarm behind the reads gathered so far.
        input.forgetReads?.();
        record(task.step, results, false);
        return results.some((r) => r.status === 'failed') ? 'failed' : 'ok';
      }
      const host = step.hosts.find((h) => h.name === task.host);
      // A step with no hosts: nothing to do, but it ran.
      if (!host) {
        record(task.step, [], false);
        return 'ok';
      }
      const { result, infra } = await applyOnHost(definition, step, host);
      record(task.step, [result], infra);
      return result.status === 'failed' ? 'failed' : 'ok';
    },
    settled: (step) => order.settled(step),
  }).finally(() => order.finish());

  const results: ConvergeStepResult[] = images ? [images] : [];
  const spans: StepSpan[] = [];
  for (const [index, step] of prepared.entries()) {
    const run = runs.get(index);
    if (!run) continue;
    results.push({ name: step.name, index: step.entry.index, hosts: run.hosts, log: step.log, durationMs: run.endedAt - run.startedAt });
    spans.push({ name: step.name, startMs: run.startedAt - walkStarted, durationMs: run.endedAt - run.startedAt });
  }
  input.spans?.(spans);
  // The first step with a failed host, in the list's order, fails the list (the same message as when steps ran one after another).
  for (const [index, step] of prepared.entries()) {
    const run = runs.get(index);
    const failed = run?.hosts.filter((r) => r.status === 'failed') ?? [];
    if (!run || failed.length === 0) continue;
    const error = convergeFailure(input.scenario.name, step, failed, run.infra, section);
    // A node that stopped answering: the machinery's error, without the steps' results.
    throw run.infra ? error : Object.assign(error, { converge: results });
  }
  return results;
}

/** Hosts that failed the same way are named together, the text once (a multi-line error on 5 hosts is not printed 5 times). */
export function failureSummary(failed: readonly Pick<HostResult, 'host' | 'message'>[]): string {
  const byMessage = new Map<string, string[]>();
  for (const r of failed) {
    const message = r.message ?? '';
    byMessage.set(message, [...(byMessage.get(message) ?? []), r.host]);
  }
  return [...byMessage].map(([message, hosts]) => `${hosts.join(', ')}: ${message}`).join('; ');
}

const SECTION_TITLE: Record<StepSection, string> = { prepare: 'Prepare', converge: 'Converge', side_effect: 'Side effect', verify: 'Verify', cleanup: 'Cleanup' };

function convergeFailure(scenario: string, step: PreparedStep, failed: readonly HostResult[], infra: boolean, section: StepSection): HarnessError {
  const { name, entry } = step;
  const title = SECTION_TITLE[section];
  const summary = failureSummary(failed);
  const crash = failed.find((r) => r.error)?.error;
  if (crash && !infra) {
    return new StepCrashed(`${title} step "${name}" threw an error on ${failed.map((r) => r.host).join(', ')} (scenario "${scenario}"): ${summary}`, {
      hint: crashHint(crash, name, entry),
    });
  }
  const message = `${title} step "${name}" failed on ${failed.map((r) => r.host).join(', ')} (scenario "${scenario}"): ${summary}`;
  const hint = `Run "swarm-molecule login -s ${scenario} -h ${failed[0]?.host ?? ''}" to inspect.`;
  return infra ? new InfraError(message, { hint }) : new ConvergeFailed(message, { hint });
}

/** The verify action's error when steps crashed: where to fix them. */
export function verifyCrashHint(results: readonly VerifyStepResult[], scenario: StepRunInput['scenario']): string | undefined {
  const crashed = results.find((r) => r.error);
  if (!crashed?.error) return undefined;
  const entry = scenario.verify.find((e) => e.index === crashed.index);
  return entry ? crashHint(crashed.error, crashed.name, entry) : undefined;
}

function verifyContext(input: StepRunInput, name: string, options: unknown, measurements: Measurement[], lines: LogLine[]): VerifyContext<unknown> {
  const base = contextFor(input, name, options, lines);
  return {
    ...base,
    eventually: <T>(check: (observe: (value: unknown, summary?: string) => void) => Promise<T>, options?: EventuallyOptions) => {
      const description = options?.description;
      const timeoutMs = options?.timeout ?? 60_000;
      if (description) input.events.waiting?.(name, description, { timeoutMs });
      // The live line shows what the check last saw, not only what it waits for.
      const watched: typeof check = description
        ? (observe) =>
            check((value, summary) => {
              observe(value, summary);
              input.events.waiting?.(name, description, { timeoutMs, observed: secrets.mask(summary ?? (typeof value === 'string' ? value : JSON.stringify(value))) });
            })
        : check;
      return eventually(watched, { ...options, signal: input.base.signal });
    },
    waiting: (description, progress) =>
      input.events.waiting?.(name, description, {
        ...(progress?.timeout !== undefined ? { timeoutMs: progress.timeout } : {}),
        ...(progress?.observed !== undefined ? { observed: secrets.mask(progress.observed) } : {}),
      }),
    measure: (measurement, value, unit = 'ms') => {
      measurements.push({ name: measurement, value, unit });
      base.log(`${measurement}: ${unit === 'ms' ? `${(value / 1000).toFixed(1)} s` : unit === 's' ? `${value} s` : String(value)}`);
    },
    nodes: input.nodes,
  };
}

/** Whether a verify step may run beside its neighbours that may too (see VerifyStepDefinition.concurrent). */
const runsConcurrently = (definition: VerifyStepDefinition<unknown>) => definition.concurrent === true && definition.disruptive !== true;

/**
 * Run every verify step, all of them even after a failure, so one run shows
 * every check that does not hold. Steps run one after another, except that
 * neighbours which all declare `concurrent` run at once, as one group; their
 * output still comes in the list's order (see InOrder).
 */
export async function runVerifySteps(input: StepRunInput): Promise<VerifyStepResult[]> {
  const results: VerifyStepResult[] = [];
  input.phase?.('start');
  await input.start?.(async () => undefined);
  const entries = input.scenario.verify;
  // Each entry's definition, resolved once, when its turn comes.
  const definitions: VerifyStepDefinition<unknown>[] = [];
  const definitionOf = async (i: number, entry: StepConfig) => (definitions[i] ??= (await resolveStep(input.scenario, entry, input)) as VerifyStepDefinition<unknown>);
  for (let next = 0; next < entries.length; ) {
    throwIfInterrupted(input.base.signal);
    input.phase?.('load steps');
    // The group: this entry and, while it is concurrent, each next entry that is concurrent too.
    const group: { entry: StepConfig; definition: VerifyStepDefinition<unknown> }[] = [];
    for (const [offset, entry] of entries.slice(next).entries()) {
      const definition = await definitionOf(next + offset, entry);
      if (group.length > 0 && !runsConcurrently(definition)) break;
      group.push({ entry, definition });
      if (!runsConcurrently(definition)) break;
    }
    next += group.length;
    const [only] = group;
    if (group.length === 1 && only) {
      const name = displayName(only.entry, only.definition.name);
      input.phase?.(name);
      input.events.stepStart?.('verify', name, only.entry.index);
      const outcome = await runVerifyStep(input, only.entry, only.definition, name);
      input.events.verifyResult?.(outcome.result);
      results.push(outcome.result);
      if (outcome.fatal) throw outcome.fatal;
      continue;
    }
    results.push(...(await runVerifyGroup(input, group)));
  }
  return results;
}

/** Neighbouring concurrent verify steps, at once; events in the list's order; the first fatal error (in that order) after all ended. */
async function runVerifyGroup(input: StepRunInput, group: readonly { entry: StepConfig; definition: VerifyStepDefinition<unknown> }[]): Promise<VerifyStepResult[]> {
  const order = new InOrder(input.events, 'verify', group.length);
  input.phase?.('concurrent steps');
  const began = performance.now();
  const spans: StepSpan[] = [];
  const outcomes = await Promise.allSettled(
    group.map(async ({ entry, definition }, i) => {
      const name = displayName(entry, definition.name);
      order.name(i, name, entry.index);
      order.started(i);
      const stepInput: StepRunInput = { ...input, events: order.eventsOf(i) };
      const started = performance.now();
      try {
        const outcome = await runVerifyStep(stepInput, entry, definition, name);
        stepInput.events.verifyResult?.(outcome.result);
        return outcome;
      } finally {
        // Every step of the group gets its span, one that ended with an error too.
        spans[i] = { name, startMs: started - began, durationMs: performance.now() - started };
        order.settled(i);
      }
    }),
  ).finally(() => order.finish());
  input.spans?.(spans.filter(Boolean));
  const results: VerifyStepResult[] = [];
  let fatal: Error | undefined;
  for (const outcome of outcomes) {
    if (outcome.status === 'rejected') fatal ??= outcome.reason instanceof Error ? outcome.reason : new Error(String(outcome.reason));
    else {
      results.push(outcome.value.result);
      if (outcome.value.fatal) fatal ??= outcome.value.fatal;
    }
  }
  if (fatal) throw fatal;
  return results;
}

/** One verify step: its result, and the harness error (not a failed check) that must end the action after it is reported. */
async function runVerifyStep(
  input: StepRunInput,
  entry: StepConfig,
  definition: VerifyStepDefinition<unknown>,
  name: string,
): Promise<{ result: VerifyStepResult; fatal?: HarnessError }> {
  const measurements: Measurement[] = [];
  const log: LogLine[] = [];
  const ctx = verifyContext(input, name, optionsOf(definition, entry), measurements, log);
  const started = performance.now();
  try {
    const outcome = await definition.verify(ctx);
    return {
      result:
        outcome && 'skipped' in outcome
          ? { name, index: entry.index, status: 'skipped', message: outcome.skipped, log, measurements, durationMs: performance.now() - started }
          : { name, index: entry.index, status: 'passed', log, measurements, durationMs: performance.now() - started },
    };
  } catch (error) {
    rethrowIfFatal(error);
    throwIfInterrupted(input.base.signal);
    const crash = isStepCrash(error) ? describeCrash(error, stepFile(input, entry), input.scenario.dir) : undefined;
    const result: VerifyStepResult = {
      name,
      index: entry.index,
      status: 'failed',
      message: crash ? `${crash.name}: ${crash.message}` : secrets.mask(messageOf(error)),
      ...(error instanceof AssertionFailed ? { expected: secrets.mask(error.expected), observed: secrets.mask(error.observed) } : {}),
      ...(crash ? { error: crash } : {}),
      log,
      measurements,
      durationMs: performance.now() - started,
    };
    return error instanceof HarnessError && !(error instanceof CheckFailed) ? { result, fatal: error } : { result };
  }
}
