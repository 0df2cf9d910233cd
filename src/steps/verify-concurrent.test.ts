import { describe, expect, it, vi } from 'vitest';
import type { Scenario, StepConfig } from '../config/index.js';
import { InfraError, Interrupted } from '../errors.js';
import { defineVerifyStep, type VerifyStepDefinition } from './api.js';
import { AssertionFailed } from './assert.js';
import { runVerifySteps } from './run.js';
import type { StepSpan, VerifyStepResult } from './types.js';

/** The steps of these tests, by the name an entry's `step` gives. */
const steps = new Map<string, VerifyStepDefinition<unknown>>();
vi.mock(import('./loader.js'), async (original) => ({
  ...(await original()),
  resolveStep: async (_scenario: Scenario, entry: StepConfig) => {
    const step = steps.get(entry.step ?? '');
    if (!step) throw new Error(`no test step ${entry.step ?? ''}`);
    return step;
  },
}));

/** A latch: `open()` lets every `wait()` through; a wait that is never let through fails after 2 s (it would hang if steps ran one by one). */
function latch() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const wait = () => Promise.race([opened, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('never let through: the steps did not overlap')), 2000))]);
  return { open, wait };
}

function run(names: string[]) {
  const events: string[] = [];
  const phases: string[] = [];
  const spans: StepSpan[][] = [];
  const verify = names.map((step, index) => ({ section: 'verify' as const, index, with: {}, step }));
  const scenario = { name: 'unit', dir: '/nonexistent', platforms: [], converge: [], verify } as unknown as Scenario;
  const results = runVerifySteps({
    scenario,
    base: { scenario: { name: 'unit', dir: '/unit', platforms: [], converge: [] }, hosts: [], signal: new AbortController().signal },
    events: {
      stepStart: (_section, name) => events.push(`start ${name}`),
      log: (line, step) => events.push(`${step}: ${line}`),
      verifyResult: (result: VerifyStepResult) => events.push(`${result.status} ${result.name}`),
    },
    nodes: { stop: async () => undefined, start: async () => undefined, partition: async () => undefined, isolate: async () => undefined, heal: async () => undefined },
    phase: (name) => phases.push(name),
    spans: (s) => spans.push(s),
  });
  return { results, events, phases, spans };
}

describe('verify steps that declare concurrent', () => {
  it('run at once with their concurrent neighbours, their output in the list order; a step without it is a barrier', async () => {
    const gate = latch();
    const order: string[] = [];
    steps.set('a', defineVerifyStep({ description: 'a test step', name: 'a', concurrent: true, verify: async (ctx) => {
      order.push('a begins');
      // Let through only by b: a and b overlap, or this fails.
      await gate.wait();
      ctx.log('a saw b');
      order.push('a ends');
    } }));
    steps.set('b', defineVerifyStep({ description: 'a test step', name: 'b', concurrent: true, verify: async (ctx) => {
      order.push('b begins');
      ctx.log('b opens');
      gate.open();
      order.push('b ends');
    } }));
    steps.set('barrier', defineVerifyStep({ description: 'a test step', name: 'barrier', verify: async () => void order.push('barrier') }));
    steps.set('c', defineVerifyStep({ description: 'a test step', name: 'c', concurrent: true, verify: async () => void order.push('c') }));
    const { results, events, phases, spans } = run(['a', 'b', 'barrier', 'c']);
    expect((await results).map((r) => [r.name, r.status])).toEqual([['a', 'passed'], ['b', 'passed'], ['barrier', 'passed'], ['c', 'passed']]);
    // b ran while a waited; the barrier and c only after both.
    expect(order).toEqual(['a begins', 'b begins', 'b ends', 'a ends', 'barrier', 'c']);
    // a's block, then b's, though b logged first.
    expect(events).toEqual(['start a', 'a: a saw b', 'passed a', 'start b', 'b: b opens', 'passed b', 'start barrier', 'passed barrier', 'start c', 'passed c']);
    expect(phases.filter((p) => p !== 'load steps')).toEqual(['start', 'concurrent steps', 'barrier', 'c']);
    expect(spans).toHaveLength(1);
    expect(spans[0]?.map((s) => s.name)).toEqual(['a', 'b']);
  });

  it('a disruptive step never runs beside another, even if it says concurrent', async () => {
    const running = new Set<string>();
    const seen: string[][] = [];
    const step = (name: string, extra: Partial<VerifyStepDefinition<unknown>>) =>
      defineVerifyStep({ description: 'a test step', name, ...extra, verify: async () => {
        running.add(name);
        seen.push([...running].sort());
        await new Promise((r) => setTimeout(r, 20));
        running.delete(name);
      } });
    steps.set('reads', step('reads', { concurrent: true }));
    steps.set('stops', step('stops', { concurrent: true, disruptive: true }));
    await run(['reads', 'stops', 'reads']).results;
    expect(seen).toEqual([['reads'], ['stops'], ['reads']]);
  });

  it('report every result of the group, failed ones included, then end the action with a harness error after the others ended', async () => {
    let slowEnded = false;
    steps.set('fails', defineVerifyStep({ description: 'a test step', name: 'fails', concurrent: true, verify: async () => {
      throw new AssertionFailed('not so', { expected: 'x', observed: 'y' });
    } }));
    steps.set('infra', defineVerifyStep({ description: 'a test step', name: 'infra', concurrent: true, verify: async () => {
      throw new InfraError('node gone');
    } }));
    steps.set('slow', defineVerifyStep({ description: 'a test step', name: 'slow', concurrent: true, verify: async () => {
      await new Promise((r) => setTimeout(r, 50));
      slowEnded = true;
    } }));
    const { results, events, spans } = run(['fails', 'infra', 'slow']);
    await expect(results).rejects.toThrow('node gone');
    expect(slowEnded).toBe(true);
    expect(events).toEqual(['start fails', 'failed fails', 'start infra', 'failed infra', 'start slow', 'passed slow']);
    // Each step's span, the failed ones' too.
    expect(spans[0]?.map((s) => s.name)).toEqual(['fails', 'infra', 'slow']);
  });

  it('an interrupted step of a group ends the action as interrupted, and still has its span beside the others', async () => {
    steps.set('interrupted', defineVerifyStep({ description: 'a test step', name: 'interrupted', concurrent: true, verify: async () => {
      throw new Interrupted('SIGINT');
    } }));
    steps.set('reads', defineVerifyStep({ description: 'a test step', name: 'reads', concurrent: true, verify: async () => undefined }));
    const { results, spans } = run(['interrupted', 'reads']);
    await expect(results).rejects.toBeInstanceOf(Interrupted);
    expect(spans[0]?.map((s) => s.name)).toEqual(['interrupted', 'reads']);
  });
});
