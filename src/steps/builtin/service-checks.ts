import { setTimeout as sleep } from 'node:timers/promises';
import { Interrupted, messageOf } from '../../errors.js';
import type { Host, VerifyContext } from '../api.js';
import { AssertionFailed } from '../assert.js';
import { secondsText } from './duration.js';
import { fromAnyManager } from './managers.js';
import { removeService, runningSummary, serviceTasks, taskProblem, taskTable, updateStatus, updateStatusText, type TaskExpectation, type TaskRow, type TaskSample, type UpdateStatus } from './services.js';

/** Wait until the service runs exactly `replicas` tasks of `image` (none on `avoid`); returns them. */
export async function waitForTasks(ctx: VerifyContext<unknown>, manager: Host, service: string, want: TaskExpectation): Promise<TaskRow[]> {
  const expected = `${want.replicas} task(s) of ${service} Running ${want.image}${want.avoid?.length ? `, none on ${want.avoid.join(', ')}` : ''}`;
  return ctx.eventually(
    async (observe) => {
      const tasks = await serviceTasks(manager, service);
      observe(taskTable(tasks), runningSummary(tasks, want));
      const problem = taskProblem(tasks, want);
      if (problem) throw new AssertionFailed(`${service}: ${problem}.`, { expected, observed: taskTable(tasks) });
      return tasks.filter((t) => t.desiredState === 'Running' && t.state === 'Running');
    },
    { timeout: want.timeoutMs, interval: 500, description: want.description ?? expected },
  );
}

const FINAL_STATES = new Set(['completed', 'paused', 'rollback_completed', 'rollback_paused']);

export interface FollowedUpdate {
  status: UpdateStatus;
  samples: TaskSample[];
  /** From the start of following to the final state, as the harness saw it. */
  elapsedMs: number;
  /** The tasks of the last sample. */
  tasks: TaskRow[];
}

/**
 * Sample the service's tasks and update status every `intervalMs` until the
 * update started after `previous` reaches a final state (completed, paused,
 * rollback_completed, rollback_paused). A stale status (of the previous update)
 * is never taken for this one's.
 */
export async function followUpdate(
  ctx: VerifyContext<unknown>,
  manager: Host,
  service: string,
  options: { previous: UpdateStatus | null; timeoutMs: number; intervalMs?: number; what: string; expected: string; want?: { replicas: number; image: string } },
): Promise<FollowedUpdate> {
  const started = performance.now();
  ctx.waiting(options.what, { timeout: options.timeoutMs });
  const samples: TaskSample[] = [];
  let status: UpdateStatus | null = null;
  let lastError: unknown;
  for (;;) {
    if (ctx.signal.aborted) throw new Interrupted(String(ctx.signal.reason ?? 'signal'));
    try {
      const [current, tasks] = await Promise.all([updateStatus(manager, service), serviceTasks(manager, service)]);
      samples.push({ atMs: performance.now() - started, tasks });
      if (current?.State && current.StartedAt !== options.previous?.StartedAt) status = current;
      // The live line follows the update: what runs now and the update's state.
      ctx.waiting(options.what, { timeout: options.timeoutMs, observed: `${runningSummary(tasks, options.want)} · ${status?.State ?? 'update not started'}` });
      if (status?.State && FINAL_STATES.has(status.State)) return { status, samples, elapsedMs: performance.now() - started, tasks };
      lastError = undefined;
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      // One failed sample says nothing about the service; keep sampling.
      lastError = error;
    }
    if (performance.now() - started > options.timeoutMs) {
      const last = samples.at(-1);
      throw new AssertionFailed(
        `Timed out after ${secondsText(options.timeoutMs)} waiting for ${options.what}: the update is ${updateStatusText(status)}${lastError ? `; last sample failed: ${messageOf(lastError)}` : ''}.`,
        { expected: options.expected, observed: `UpdateStatus: ${updateStatusText(status)}\n\n${taskTable(last?.tasks ?? [])}` },
      );
    }
    await sleep(options.intervalMs ?? 250, undefined, { signal: ctx.signal }).catch(() => undefined);
  }
}

/**
 * Run `body`, then remove the service whatever happened. When `body` failed,
 * a failed removal is only logged, so the report shows the first failure.
 */
export async function removingService<T>(ctx: VerifyContext<unknown>, managers: readonly Host[], service: string, body: () => Promise<T>): Promise<T> {
  // Removed after a first Ctrl-C too: only a second one gives up on it.
  const remove = () => fromAnyManager(managers, (manager) => removeService(manager, service, ctx.cleanupSignal));
  let result: T;
  try {
    result = await body();
  } catch (error) {
    await remove().catch((removeError: unknown) => ctx.log(`could not remove service ${service}: ${messageOf(removeError)}`));
    throw error;
  }
  await remove();
  return result;
}
