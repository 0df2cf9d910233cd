import { z } from 'zod';
import { defineVerifyStep, type Host, type VerifyContext } from '../api.js';
import { AssertionFailed } from '../assert.js';
import { duration, durationMs, secondsText } from './duration.js';
import { bodyOf, ensureTestImages, TEST_IMAGES, type TestImageTag } from './images.js';
import { followUpdate, removingService, waitForTasks, type FollowedUpdate } from './service-checks.js';
import {
  availabilityViolations,
  failedUpdateViolations,
  slotsReachedBy,
  createService,
  fewestRunning,
  imageName,
  runningCount,
  serviceTasks,
  taskTable,
  updateDurationMs,
  updateStatus,
  updateStatusText,
  type TaskRow,
} from './services.js';

const SERVICE = 'sm-rolling-update';

const options = z.strictObject({
  /** Tasks of the service; at least 2, so that some keep running while others update. */
  replicas: z.number().int().min(2).default(3),
  /** Tasks updated at once (`--update-parallelism`). */
  parallelism: z.number().int().min(1).default(1),
  /** Pause between batches (`--update-delay`). */
  delay: duration().default('1s'),
  /** How long the first deployment, the update and the rollback may each take. */
  timeout: duration().default('120s'),
  /** Placement constraints of the service. */
  constraints: z.array(z.string().min(1)).default(['node.role==worker']),
  /** The image the service starts with. */
  from: z.string().min(1).default(TEST_IMAGES.v1),
  /** The image it is updated to. */
  to: z.string().min(1).default(TEST_IMAGES.v2),
  /** Then update to an image that exits at start and check that Swarm rolls back to `to`. */
  rollback: z.boolean().default(true),
});
type Options = z.output<typeof options>;

/** The built-in image tags among the references the step uses (those it imports on the nodes). */
function builtinTags(references: readonly string[]): TestImageTag[] {
  return (Object.entries(TEST_IMAGES) as [TestImageTag, string][]).filter(([, ref]) => references.includes(ref)).map(([tag]) => tag);
}

const stateLine = (followed: FollowedUpdate) => `UpdateStatus: ${updateStatusText(followed.status)}`;

/** Fail unless no sample had fewer than replicas − parallelism tasks running. */
function assertAvailability(followed: FollowedUpdate, o: Options, what: string): void {
  const minimum = Math.max(0, o.replicas - o.parallelism);
  const [first] = availabilityViolations(followed.samples, minimum);
  if (!first) return;
  throw new AssertionFailed(
    `During ${what} only ${runningCount(first)} of ${o.replicas} tasks were running (at ${secondsText(first.atMs)}); parallelism ${o.parallelism} allows no fewer than ${minimum}.`,
    { expected: `at least ${minimum} task(s) Running in every sample (${followed.samples.length} samples)`, observed: `at ${secondsText(first.atMs)}:\n${taskTable(first.tasks)}` },
  );
}

/** Fail when the failing update or its rollback took down more than `parallelism` of the slots the failing image did not reach. */
function assertRollbackAvailability(followed: FollowedUpdate, o: Options): void {
  const [first] = failedUpdateViolations(followed.samples, { replicas: o.replicas, parallelism: o.parallelism, failingImage: TEST_IMAGES.broken });
  if (!first) return;
  const reached = slotsReachedBy(first, TEST_IMAGES.broken);
  const others = o.replicas - reached.length;
  throw new AssertionFailed(
    `During the failed update and its rollback only ${runningCount(first)} task(s) were running (at ${secondsText(first.atMs)}): of the ${others} slot(s) ${TEST_IMAGES.broken} never reached, parallelism ${o.parallelism} allows no more than ${o.parallelism} down at once.`,
    {
      expected: `every slot the failing image did not reach (${others} of ${o.replicas}) Running, but for ${o.parallelism}, in every sample (${followed.samples.length} samples); slots it reached: ${reached.join(', ') || 'none'}`,
      observed: `at ${secondsText(first.atMs)}:\n${taskTable(first.tasks)}`,
    },
  );
}

/** Fail unless the update reached `state`, showing the state and the task errors. */
function assertFinalState(followed: FollowedUpdate, state: string, message: string, expected: string): void {
  if (followed.status.State === state) return;
  const errors = followed.tasks.filter((t) => t.error !== '');
  throw new AssertionFailed(`${message}: the update ended ${updateStatusText(followed.status)}${errors.length ? `; task errors: ${[...new Set(errors.map((t) => t.error))].join('; ')}` : ''}.`, {
    expected,
    observed: `${stateLine(followed)}\n\n${taskTable(followed.tasks)}`,
  });
}

/** What a running task of a built-in web image answers, read inside its container on its node. */
async function servedBody(ctx: VerifyContext<Options>, manager: Host, task: TaskRow): Promise<string> {
  const container = await manager.docker(['inspect', '--format', '{{.Status.ContainerStatus.ContainerID}}', task.id], { readOnly: true });
  const node = ctx.host(task.node);
  return node.docker(['exec', container, '/bin/busybox', 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/'], { readOnly: true, timeoutMs: 10_000 });
}

export default defineVerifyStep<Options>({
  name: 'swarm/rolling-update',
  description:
    'Deploy a replicated service, roll it to a new image with the given parallelism and delay, and check that no more than `parallelism` tasks were down at any moment, that the update completes and that every task runs the new image; then update to an image that exits at start and check that Swarm rolls back.',
  options,
  async verify(ctx) {
    const o = ctx.options;
    const timeoutMs = durationMs(o.timeout);
    const manager = ctx.leader();
    const tags = builtinTags([o.from, o.to, ...(o.rollback ? [TEST_IMAGES.broken] : [])]);
    if (tags.length > 0) {
      const started = performance.now();
      const loaded = await ensureTestImages(ctx, tags);
      if (loaded.length > 0) ctx.log(`loaded ${loaded.length} test image(s) on the nodes in ${secondsText(performance.now() - started)}`);
    }
    await removingService(ctx, [manager], SERVICE, async () => {
      await createService(manager, { name: SERVICE, image: o.from, replicas: o.replicas, constraints: o.constraints, step: 'swarm/rolling-update' });
      const first = await waitForTasks(ctx, manager, SERVICE, { replicas: o.replicas, image: o.from, timeoutMs, description: `${o.replicas} tasks of ${o.from} running` });
      ctx.log(`${o.replicas} tasks of ${imageName(o.from)} running on ${[...new Set(first.map((t) => t.node))].sort().join(', ')}`);

      // The update under test.
      const beforeUpdate = await updateStatus(manager, SERVICE);
      await manager.docker([
        'service', 'update', '--detach', '--no-resolve-image', '--image', o.to,
        '--update-parallelism', String(o.parallelism), '--update-delay', o.delay,
        '--update-failure-action', 'pause', '--update-max-failure-ratio', '0',
        SERVICE,
      ]);
      const expectedUpdate = `UpdateStatus.State completed; ${o.replicas} tasks Running ${o.to}; at least ${o.replicas - o.parallelism} running throughout`;
      const update = await followUpdate(ctx, manager, SERVICE, {
        previous: beforeUpdate,
        timeoutMs,
        what: `the rolling update of ${SERVICE} to ${o.to}`,
        expected: expectedUpdate,
        want: { replicas: o.replicas, image: o.to },
      });
      assertFinalState(update, 'completed', `The rolling update of ${SERVICE} to ${o.to} did not complete`, expectedUpdate);
      assertAvailability(update, o, `the rolling update to ${o.to}`);
      ctx.measure('update time', updateDurationMs(update.status) ?? Math.round(update.elapsedMs));
      const worst = fewestRunning(update.samples);
      if (worst) ctx.measure('fewest tasks running during the update', runningCount(worst), 'count');

      const updated = await waitForTasks(ctx, manager, SERVICE, { replicas: o.replicas, image: o.to, timeoutMs: 15_000, description: `every task to run ${o.to}` });
      // Every task of the old image was stopped by the update: none failed, none still runs.
      if (imageName(o.from) !== imageName(o.to)) {
        await ctx.eventually(
          async (observe) => {
            const tasks = await serviceTasks(manager, SERVICE);
            observe(taskTable(tasks));
            const left = tasks.filter((t) => imageName(t.image) === imageName(o.from) && (t.state !== 'Shutdown' || t.desiredState !== 'Shutdown'));
            if (left.length > 0) {
              throw new AssertionFailed(`Replaced tasks of ${o.from} did not end Shutdown: ${left.map((t) => `${t.name} is ${t.currentState}${t.error ? ` (${t.error})` : ''}`).join(', ')}.`, {
                expected: `every task of ${o.from} Shutdown`,
                observed: taskTable(tasks),
              });
            }
          },
          { timeout: 10_000, description: `the replaced tasks of ${o.from} to end Shutdown` },
        );
      }
      if (o.to === TEST_IMAGES.v2) {
        for (const task of updated) {
          const body = (await servedBody(ctx, manager, task)).trim();
          if (body !== bodyOf('v2')) {
            throw new AssertionFailed(`${task.name} on ${task.node} serves the wrong content after the update.`, { expected: bodyOf('v2'), observed: body });
          }
        }
        ctx.log(`every task serves "${bodyOf('v2')}"`);
      }

      if (!o.rollback) return;
      // A failing update must roll back to the last good image by itself.
      const beforeBroken = await updateStatus(manager, SERVICE);
      await manager.docker([
        'service', 'update', '--detach', '--no-resolve-image', '--image', TEST_IMAGES.broken,
        '--update-parallelism', String(o.parallelism), '--update-delay', o.delay,
        '--update-failure-action', 'rollback', '--update-monitor', '2s', '--update-max-failure-ratio', '0',
        '--rollback-parallelism', String(o.parallelism), '--rollback-monitor', '2s', '--rollback-failure-action', 'pause',
        SERVICE,
      ]);
      const expectedRollback = `UpdateStatus.State rollback_completed; ${o.replicas} tasks Running ${o.to} again`;
      const rollback = await followUpdate(ctx, manager, SERVICE, {
        previous: beforeBroken,
        timeoutMs,
        what: `the rollback of ${SERVICE} from ${TEST_IMAGES.broken}`,
        expected: expectedRollback,
        want: { replicas: o.replicas, image: o.to },
      });
      assertFinalState(rollback, 'rollback_completed', `The update of ${SERVICE} to ${TEST_IMAGES.broken} (which exits at start) was not rolled back`, expectedRollback);
      assertRollbackAvailability(rollback, o);
      ctx.measure('rollback time', updateDurationMs(rollback.status) ?? Math.round(rollback.elapsedMs));
      const failed = rollback.tasks.filter((t) => imageName(t.image) === TEST_IMAGES.broken && (t.state === 'Failed' || t.state === 'Rejected'));
      ctx.log(`rolled back to ${imageName(o.to)} after ${failed.length} failed task(s) of ${TEST_IMAGES.broken}: ${[...new Set(failed.map((t) => t.error || t.state))].join('; ')}`);
      await waitForTasks(ctx, manager, SERVICE, { replicas: o.replicas, image: o.to, timeoutMs: 15_000, description: `every task to run ${o.to} after the rollback` });
    });
  },
});
