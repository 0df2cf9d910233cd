import { z } from 'zod';
import { defineVerifyStep } from '../api.js';
import { AssertionFailed } from '../assert.js';
import { duration, durationMs, elapsedSince, secondsText } from './duration.js';
import { ensureTestImages, TEST_IMAGES } from './images.js';
import { isWorker } from '../../config/roles.js';
import { withStoppedNodes } from './restore.js';
import { removingService, waitForTasks } from './service-checks.js';
import { createService, serviceTasks, taskTable } from './services.js';

const SERVICE = 'sm-failover-workers';

const options = z.strictObject({
  /** Tasks of the service. */
  replicas: z.number().int().min(1).default(3),
  /** How long the tasks may take to run again elsewhere, and the workers to rejoin. */
  timeout: duration().default('90s'),
  /** Placement constraints of the service. */
  constraints: z.array(z.string().min(1)).default(['node.role==worker']),
  /** Start the stopped workers again at the end and check that they rejoin. */
  restore: z.boolean().default(true),
});
type Options = z.output<typeof options>;

export default defineVerifyStep<Options>({
  name: 'swarm/failover-workers',
  description:
    'Run a service on the workers, stop every worker that runs its tasks but one, as a crash would, and check that every replica is rescheduled and Running on the surviving worker(s) within the timeout; then start the workers again and check that they are Ready.',
  options,
  disruptive: true,
  requirements(scenario) {
    const workers = scenario.platforms.filter(isWorker);
    if (workers.length >= 2) return [];
    return [
      {
        path: ['step'],
        message: `swarm/failover-workers needs at least 2 workers (platforms in swarm-worker only): one to stop and one to take over its tasks; this scenario has ${workers.length}.`,
      },
    ];
  },
  async verify(ctx) {
    const o = ctx.options;
    const timeoutMs = durationMs(o.timeout);
    const manager = ctx.leader();
    await ensureTestImages(ctx, ['v1']);
    await removingService(ctx, [manager], SERVICE, async () => {
      await createService(manager, { name: SERVICE, image: TEST_IMAGES.v1, replicas: o.replicas, constraints: o.constraints, step: 'swarm/failover-workers' });
      const tasks = await waitForTasks(ctx, manager, SERVICE, { replicas: o.replicas, image: TEST_IMAGES.v1, timeoutMs });
      // Workers running tasks, in platform order: the first survives, the others are stopped.
      const taskWorkers = ctx.workers().filter((w) => tasks.some((t) => t.node === w.name));
      const [survivor, ...victims] = taskWorkers;
      if (!survivor || victims.length === 0) {
        throw new AssertionFailed(`The tasks of ${SERVICE} run on ${taskWorkers.length} worker(s); stopping all but one needs them on at least 2.`, {
          expected: `tasks on 2 or more workers (${ctx.workers().map((w) => w.name).join(', ')}) with constraints ${o.constraints.join(', ') || '(none)'}`,
          observed: taskTable(tasks),
        });
      }
      const moving = tasks.filter((t) => victims.some((v) => v.name === t.node));
      await withStoppedNodes(ctx, async (stop) => {
        const started = performance.now();
        for (const victim of victims) await stop(victim.name);
        const victimNames = victims.map((v) => v.name);
        const after = await waitForTasks(ctx, manager, SERVICE, {
          replicas: o.replicas,
          image: TEST_IMAGES.v1,
          timeoutMs,
          avoid: victimNames,
          description: `every replica Running again off ${victimNames.join(', ')}`,
        });
        const rescheduleMs = elapsedSince(started);
        ctx.measure('reschedule time', rescheduleMs);
        const old = (await serviceTasks(manager, SERVICE)).filter((t) => moving.some((m) => m.id === t.id));
        const stillWanted = old.filter((t) => t.desiredState === 'Running');
        if (stillWanted.length > 0) {
          throw new AssertionFailed(`Tasks on the stopped workers are still wanted running: ${stillWanted.map((t) => t.name).join(', ')}.`, {
            expected: `the ${moving.length} task(s) of ${victimNames.join(', ')} desired Shutdown`,
            observed: taskTable(old),
          });
        }
        const on = [...new Set(after.map((t) => t.node))].sort().join(', ');
        // A dead node cannot report: the manager still shows its tasks' last state until it is back.
        ctx.log(
          `stopped ${victimNames.join(', ')} (${moving.length} task(s)); all ${o.replicas} replicas Running on ${on} after ${secondsText(rescheduleMs)}; the old tasks are desired Shutdown (last reported: ${[...new Set(old.map((t) => t.state))].join(', ')})`,
        );
      });
      if (o.restore) {
        // Back on their nodes, the old tasks must be reported stopped, not running again.
        await ctx.eventually(
          async (observe) => {
            const old = (await serviceTasks(manager, SERVICE)).filter((t) => moving.some((m) => m.id === t.id));
            observe(taskTable(old));
            const running = old.filter((t) => t.state === 'Running' || t.desiredState === 'Running');
            if (running.length > 0) {
              throw new AssertionFailed(`Old tasks still run after their workers came back: ${running.map((t) => `${t.name} on ${t.node}`).join(', ')}.`, {
                expected: `the ${moving.length} task(s) that ran on the stopped workers not Running`,
                observed: taskTable(old),
              });
            }
            ctx.log(`after the restart the old tasks are ${[...new Set(old.map((t) => t.state))].join(', ')}`);
          },
          { timeout: timeoutMs, interval: 500, description: 'the old tasks to be reported stopped' },
        );
      }
    });
  },
});
