import { z } from 'zod';
import { defineVerifyStep } from '../api.js';
import { AssertionFailed } from '../assert.js';
import { isWorker } from '../../config/roles.js';
import { removeProbes, withPartition } from './chaos.js';
import { duration, durationMs, elapsedSince, secondsText } from './duration.js';
import { ensureTestImages, TEST_IMAGES } from './images.js';
import { nodeListFromAny } from './managers.js';
import { nodeTable } from './node-list.js';
import { waitForTasks } from './service-checks.js';
import { createService, currentTasks, isRunning, serviceTasks, taskTable, type TaskRow } from './services.js';

const NAME = 'swarm/partition-worker';
const SERVICE = 'sm-partition-worker';

const options = z.strictObject({
  /**
   * A service of the scenario to watch (made by converge); by default the step
   * runs its own, one task per worker.
   */
  service: z.string().min(1).optional(),
  /** The worker to isolate; by default the one that runs the most tasks of the service. */
  worker: z.string().min(1).optional(),
  /** How long the tasks may take to run elsewhere, and the worker to come back after the heal. */
  timeout: duration().default('90s'),
});
type Options = z.output<typeof options>;

/** What the end state must not have: more tasks Running than replicas, or an old task not Shutdown. */
export function endStateProblems(tasks: readonly TaskRow[], replicas: number, oldIds: readonly string[]): string[] {
  const problems: string[] = [];
  const running = tasks.filter(isRunning);
  if (running.length !== replicas) problems.push(`${running.length} tasks Running, ${replicas} wanted`);
  for (const id of oldIds) {
    const task = tasks.find((t) => t.id === id);
    if (!task) continue; // pruned from the history: gone is as good as Shutdown
    if (task.state !== 'Shutdown') problems.push(`old task ${task.name} (${id.slice(0, 12)}) on ${task.node} is ${task.currentState}`);
  }
  return problems;
}

export default defineVerifyStep<Options>({
  name: NAME,
  description:
    'Isolate a worker that runs tasks by a network partition (it against every other node): its tasks are rescheduled and Running on the other nodes within the timeout; after the heal the worker is Ready again, its old tasks end Shutdown, and no more tasks run than the service has replicas.',
  options,
  disruptive: true,
  needs: ['partition'],
  requirements(scenario, opts) {
    const workers = scenario.platforms.filter(isWorker);
    const problems = [];
    if (workers.length < 2) {
      problems.push({
        path: ['step'],
        message: `${NAME} needs at least 2 workers (platforms in swarm-worker only): one to isolate and one to take over its tasks; this scenario has ${workers.length}.`,
      });
    }
    if (opts.worker !== undefined && !workers.some((w) => w.name === opts.worker)) {
      problems.push({ path: ['with', 'worker'], message: `${NAME}: "${opts.worker}" is not a worker of this scenario (workers: ${workers.map((w) => w.name).join(', ') || 'none'}).` });
    }
    return problems;
  },
  async verify(ctx) {
    const timeoutMs = durationMs(ctx.options.timeout);
    const managers = ctx.managers();
    const manager = managers[0];
    if (!manager) throw new AssertionFailed('The scenario has no manager to ask.', { expected: 'a manager', observed: 'none' });
    const own = ctx.options.service === undefined;
    const service = ctx.options.service ?? SERVICE;
    await ensureTestImages(ctx, ['v1']);
    try {
      let tasks: TaskRow[];
      let image: string;
      if (own) {
        const replicas = ctx.workers().length;
        await createService(manager, { name: SERVICE, image: TEST_IMAGES.v1, replicas, constraints: ['node.role==worker'], step: NAME });
        tasks = await waitForTasks(ctx, manager, SERVICE, { replicas, image: TEST_IMAGES.v1, timeoutMs, description: `${replicas} tasks of ${SERVICE} to run` });
        image = TEST_IMAGES.v1;
      } else {
        tasks = currentTasks(await serviceTasks(manager, service)).filter(isRunning);
        image = tasks[0]?.image ?? '';
      }
      const replicas = tasks.length;
      const workerNames = ctx.workers().map((w) => w.name);
      const byWorker = workerNames.map((name) => ({ name, tasks: tasks.filter((t) => t.node === name) })).sort((a, b) => b.tasks.length - a.tasks.length);
      const chosen = ctx.options.worker ? byWorker.find((w) => w.name === ctx.options.worker) : byWorker[0];
      if (!chosen || chosen.tasks.length === 0) {
        throw new AssertionFailed(`No worker${ctx.options.worker ? ` named ${ctx.options.worker}` : ''} runs a task of ${service} to isolate.`, {
          expected: `a task of ${service} Running on ${ctx.options.worker ?? 'a worker'}`,
          observed: taskTable(await serviceTasks(manager, service)),
        });
      }
      const worker = chosen.name;
      const oldIds = chosen.tasks.map((t) => t.id);

      await withPartition(ctx, async () => {
        const started = performance.now();
        await ctx.nodes.isolate(worker);
        ctx.log(`isolated ${worker} (${oldIds.length} task(s) of ${service})`);
        await waitForTasks(ctx, manager, service, { replicas, image, timeoutMs, avoid: [worker], description: `the tasks of ${worker} to run on the other nodes` });
        const ms = elapsedSince(started);
        ctx.measure('tasks rescheduled after the isolation', ms);
        ctx.log(`${replicas} task(s) of ${service} Running away from ${worker} after ${secondsText(ms)}`);
      });

      const healed = performance.now();
      await ctx.eventually(
        async (observe) => {
          const rows = await nodeListFromAny(managers);
          const row = rows.find((r) => r.Hostname === worker);
          const all = await serviceTasks(manager, service);
          observe(`${nodeTable(rows)}\n\n${taskTable(all)}`);
          const problems = [...(row?.Status === 'Ready' ? [] : [`${worker} is ${row?.Status ?? 'not in the swarm'}`]), ...endStateProblems(all, replicas, oldIds)];
          if (problems.length > 0) {
            throw new AssertionFailed(`After the heal: ${problems.join('; ')}.`, {
              expected: `${worker} Ready; its old tasks Shutdown; ${replicas} task(s) Running in all`,
              observed: `${nodeTable(rows)}\n\n${taskTable(all)}`,
            });
          }
        },
        { timeout: timeoutMs, interval: 500, description: `${worker} back and its old tasks Shutdown` },
      );
      ctx.measure('worker back after the heal', elapsedSince(healed));
      ctx.log(`healed: ${worker} Ready, its ${oldIds.length} old task(s) Shutdown, ${replicas} Running`);
    } finally {
      if (own) await removeProbes(ctx, managers, [SERVICE]);
    }
  },
});
