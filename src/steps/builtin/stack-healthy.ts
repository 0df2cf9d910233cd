import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { Interrupted } from '../../errors.js';
import { defineVerifyStep, type Host, type VerifyContext } from '../api.js';
import { AssertionFailed } from '../assert.js';
import { duration, durationMs, secondsText } from './duration.js';
import { serviceTasks, taskTable, type TaskRow } from './services.js';
import { failingTask, lastErrors, readiness, readinessSummary, restarts, type ServiceReadiness } from './stack-health.js';
import { stackServices } from './stack-specs.js';

const options = z.strictObject({
  /** The stack's name, as deployed by swarm/stack. */
  stack: z.string().min(1),
  /** How long every service may take to reach its replicas Running (and healthy). */
  timeout: duration().default('120s'),
  /** Then how long every task must keep running with no restart. */
  stable: duration().default('10s'),
  /** Log lines shown of a failing task. */
  logLines: z.number().int().min(1).max(500).default(20),
});
type Options = z.output<typeof options>;

interface StackState {
  tasks: Map<string, TaskRow[]>;
  readiness: ServiceReadiness[];
}

async function stackState(manager: Host, specs: ReadonlyMap<string, Record<string, unknown>>): Promise<StackState> {
  const tasks = new Map<string, TaskRow[]>();
  for (const name of specs.keys()) tasks.set(name, await serviceTasks(manager, name));
  return { tasks, readiness: [...specs].map(([name, spec]) => readiness(name, spec, tasks.get(name) ?? [])) };
}

const tables = (state: StackState, only?: readonly string[]): string =>
  [...state.tasks]
    .filter(([name]) => !only || only.includes(name))
    .map(([name, tasks]) => `${name}:\n${taskTable(tasks)}`)
    .join('\n\n');

/** The task table, the last task errors and the last log lines of a failing task of each service that is not ready. */
async function failureReport(ctx: VerifyContext<Options>, manager: Host, state: StackState): Promise<string> {
  const failing = state.readiness.filter((r) => r.problem).map((r) => r.service);
  const parts = [tables(state, failing)];
  for (const service of failing) {
    const tasks = state.tasks.get(service) ?? [];
    const errors = lastErrors(tasks);
    if (errors.length > 0) parts.push(`last task errors of ${service}:\n${errors.map((e) => `  ${e}`).join('\n')}`);
    const task = failingTask(tasks);
    if (!task) continue;
    const logs = await manager.run(['docker', 'service', 'logs', '--raw', '--no-trunc', '--tail', String(ctx.options.logLines), task.id], { readOnly: true, timeoutMs: 15_000 });
    const text = `${logs.stdout}${logs.stderr}`.trimEnd();
    parts.push(`last ${ctx.options.logLines} log lines of ${task.name} (${task.id.slice(0, 12)}) on ${task.node || '(no node)'}:\n${text === '' ? '  (no output)' : text.split('\n').map((l) => `  ${l}`).join('\n')}`);
  }
  return parts.join('\n\n');
}

export default defineVerifyStep<Options>({
  name: 'swarm/stack-healthy',
  description:
    'Check that every service of a stack reaches its desired replicas Running within `timeout` (healthy where it has a healthcheck: Swarm reports a task Running only once it is), then keeps them for `stable` with no task restarted or moved; on failure show the task table, the last task errors and the last log lines of a failing task.',
  options,
  // It only reads the stack's services and tasks.
  concurrent: true,
  async verify(ctx) {
    const o = ctx.options;
    const manager = ctx.leader();
    const specs = await stackServices(manager, o.stack);
    if (specs.size === 0) {
      throw new AssertionFailed(`The stack "${o.stack}" has no services.`, { expected: `services labelled com.docker.stack.namespace=${o.stack}`, observed: '(none)', hint: 'Deploy it in converge with swarm/stack.' });
    }
    const timeoutMs = durationMs(o.timeout);
    const started = performance.now();
    const expected = [...specs.keys()].map((name) => `${name}: every wanted task Running${readiness(name, specs.get(name) ?? {}, []).healthcheck ? ' and healthy' : ''}`).join('\n');
    let last: StackState | undefined;
    try {
      await ctx.eventually(
        async (observe) => {
          last = await stackState(manager, specs);
          observe(tables(last), readinessSummary(last.readiness));
          const notReady = last.readiness.filter((r) => r.problem);
          if (notReady.length > 0) throw new AssertionFailed(notReady.map((r) => `${r.service}: ${r.problem ?? ''}`).join('; '), { expected, observed: tables(last) });
        },
        { timeout: timeoutMs, interval: 1000, description: `every service of stack ${o.stack} to run its tasks` },
      );
    } catch (error) {
      if (!(error instanceof AssertionFailed) || !last) throw error;
      const notReady = last.readiness.filter((r) => r.problem);
      throw new AssertionFailed(`Stack ${o.stack} did not become healthy within ${o.timeout}: ${notReady.map((r) => `${r.service} ${r.problem ?? ''}`).join('; ')}.`, {
        expected,
        observed: await failureReport(ctx, manager, last),
      });
    }
    ctx.measure('stack healthy', Math.round(performance.now() - started));
    const ready = last as StackState;
    ctx.log(`stack ${o.stack}: ${readinessSummary(ready.readiness)} Running after ${secondsText(performance.now() - started)}`);

    // Stable: the same tasks keep running, none restarted or moved.
    const first = new Set([...ready.tasks.values()].flat().filter((t) => t.state === 'Running').map((t) => t.id));
    const stableMs = durationMs(o.stable);
    const stableFrom = performance.now();
    while (performance.now() - stableFrom < stableMs) {
      if (ctx.signal.aborted) throw new Interrupted(String(ctx.signal.reason ?? 'signal'));
      ctx.waiting(`stack ${o.stack} to stay as it is for ${o.stable}`, { timeout: stableMs, observed: readinessSummary(ready.readiness) });
      await sleep(1000, undefined, { signal: ctx.signal }).catch(() => undefined);
      const now = await stackState(manager, specs);
      const moved = restarts(first, [...now.tasks.values()].flat());
      if (moved.length > 0) {
        throw new AssertionFailed(`Stack ${o.stack} did not stay stable for ${o.stable}: ${moved.join('; ')}.`, {
          expected: `the same ${first.size} task(s) Running for ${o.stable}`,
          observed: await failureReport(ctx, manager, { ...now, readiness: now.readiness.map((r) => ({ ...r, problem: r.problem ?? 'restarted' })) }),
        });
      }
    }
    ctx.log(`stack ${o.stack}: no task restarted in ${o.stable}`);
  },
});
