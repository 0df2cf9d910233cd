import { z } from 'zod';
import { defineVerifyStep } from '../api.js';
import { AssertionFailed } from '../assert.js';
import { isWorker } from '../../config/roles.js';
import { expectWriteRefused, localTasks, removeProbes, smallestMajority, tryWrite } from './chaos.js';
import { duration, durationMs, elapsedSince, secondsText } from './duration.js';
import { ensureTestImages, TEST_IMAGES } from './images.js';
import { leaderOf, managersRequirement, nodeListFromAny } from './managers.js';
import { nodeTable } from './node-list.js';
import { withStoppedNodes } from './restore.js';
import { waitForTasks } from './service-checks.js';
import { createService } from './services.js';

const NAME = 'swarm/quorum-loss';
const SERVICE = 'sm-quorum-loss';
/** Tried while raft has no quorum (must be refused), and again after the recovery (must be accepted). */
const WRITE = 'sm-quorum-loss-write';

const options = z.strictObject({
  /** How long the survivors may take to refuse writes, and the cluster to recover. */
  timeout: duration().default('90s'),
  /** Start the stopped managers again (the recovery is half of the check; only true makes sense). */
  restore: z.boolean().default(true),
});
type Options = z.output<typeof options>;

export default defineVerifyStep<Options>({
  name: NAME,
  description:
    'Stop a majority of the managers (the Leader first) as a crash would: the surviving manager(s) refuse writes with Swarm\'s no-quorum error, and the tasks already on the workers keep running (same task IDs, still running). Start them again: the swarm recovers on its own, with one Leader, and accepts writes.',
  options,
  disruptive: true,
  requirements(scenario) {
    const workers = scenario.platforms.filter(isWorker);
    const problems = managersRequirement(scenario, NAME, 3, 'It stops a majority and asks a surviving manager, so a majority must be stoppable with one left.');
    if (workers.length < 1) {
      problems.push({ path: ['step'], message: `${NAME} needs at least 1 worker (a platform in swarm-worker only), whose tasks must keep running without a quorum; this scenario has none.` });
    }
    return problems;
  },
  async verify(ctx) {
    const timeoutMs = durationMs(ctx.options.timeout);
    const managers = ctx.managers();
    const workers = ctx.workers();
    const rows = await nodeListFromAny(managers);
    const leaderRow = leaderOf(rows);
    if (!leaderRow) throw new AssertionFailed('The swarm has no single Leader.', { expected: 'exactly one manager with MANAGER STATUS Leader', observed: nodeTable(rows) });
    const ordered = [...managers.filter((m) => m.name === leaderRow.Hostname), ...managers.filter((m) => m.name !== leaderRow.Hostname)];
    const stopped = ordered.slice(0, smallestMajority(managers.length));
    const survivors = ordered.slice(stopped.length);
    const survivor = survivors[0];
    if (!survivor) throw new AssertionFailed('No manager would survive.', { expected: 'a manager left running', observed: `${managers.length} managers` });
    await ensureTestImages(ctx, ['v1']);

    const leader = ctx.host(leaderRow.Hostname);
    try {
      await createService(leader, { name: SERVICE, image: TEST_IMAGES.v1, replicas: workers.length, constraints: ['node.role==worker'], step: NAME });
      const before = await waitForTasks(ctx, leader, SERVICE, { replicas: workers.length, image: TEST_IMAGES.v1, timeoutMs, description: `${workers.length} task(s) of ${SERVICE} on the workers` });
      const ids = new Map(before.map((t) => [t.id, t.node]));

      await withStoppedNodes(ctx, async (stop) => {
        for (const manager of stopped) await stop(manager.name);
        ctx.log(`stopped ${stopped.map((m) => m.name).join(', ')} (${stopped.length} of ${managers.length} managers)`);
        const answer = await expectWriteRefused(ctx, survivor, WRITE, NAME, timeoutMs, `${stopped.length} of ${managers.length} managers are stopped`);
        ctx.log(`${survivor.name} refused a write: ${answer.split('\n').pop() ?? answer}`);
        // The workers' tasks run on: their containers, by task id, as each worker sees them.
        const observed: string[] = [];
        const missing: string[] = [];
        for (const worker of workers) {
          const local = await localTasks(worker, SERVICE);
          for (const [id, node] of ids) {
            if (node !== worker.name) continue;
            const state = local.get(id);
            observed.push(`${worker.name}: task ${id.slice(0, 12)} ${state ?? 'no container'}`);
            if (state !== 'running') missing.push(`${id.slice(0, 12)} on ${worker.name} is ${state ?? 'gone'}`);
          }
        }
        if (missing.length > 0) {
          throw new AssertionFailed(`Without a quorum the workers' tasks must keep running: ${missing.join('; ')}.`, {
            expected: [...ids].map(([id, node]) => `${node}: task ${id.slice(0, 12)} running`).join('\n'),
            observed: observed.join('\n'),
          });
        }
        ctx.log(`${ids.size} task(s) still running on the workers, same task IDs`);
      });

      // withStoppedNodes waited for every stopped manager to be back, and for one Leader; now a write.
      const recovered = performance.now();
      await ctx.eventually(
        async (observe) => {
          const answer = await tryWrite(survivor, WRITE, NAME);
          observe(answer.kind === 'accepted' ? 'accepted' : answer.kind === 'no-quorum' ? answer.stderr : answer.text);
          if (answer.kind !== 'accepted') {
            throw new AssertionFailed(`${survivor.name} does not accept writes after the recovery.`, { expected: `docker service create ${WRITE} accepted`, observed: answer.kind === 'no-quorum' ? answer.stderr : answer.text });
          }
        },
        { timeout: timeoutMs, interval: 1000, description: 'a write accepted after the recovery' },
      );
      const ms = elapsedSince(recovered);
      ctx.measure('first write accepted after the recovery', ms);
      ctx.log(`the swarm accepts writes again (${secondsText(ms)} after the managers were back)`);
    } finally {
      await removeProbes(ctx, managers, [SERVICE, WRITE]);
    }
  },
});
