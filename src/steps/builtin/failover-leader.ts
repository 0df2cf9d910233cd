import { z } from 'zod';
import { defineVerifyStep } from '../api.js';
import { AssertionFailed } from '../assert.js';
import { duration, durationMs, elapsedSince, secondsText } from './duration.js';
import { ensureTestImages, TEST_IMAGES } from './images.js';
import { leaderOf, managersRequirement, nodeListFromAny } from './managers.js';
import { nodeTable } from './node-list.js';
import { withStoppedNodes } from './restore.js';
import { removingService, waitForTasks } from './service-checks.js';
import { createService } from './services.js';

const SERVICE = 'sm-failover-leader';

const options = z.strictObject({
  /** How long the remaining managers may take to elect a leader, and the stopped one to rejoin. */
  timeout: duration().default('90s'),
  /** Start the stopped leader again at the end and check that it rejoins. */
  restore: z.boolean().default(true),
});
type Options = z.output<typeof options>;

export default defineVerifyStep<Options>({
  name: 'swarm/failover-leader',
  description:
    'Stop the Leader manager as a crash would, check that the other managers elect a new Leader within the timeout and that the swarm still accepts a service change, then start the node again and check that it rejoins as a Reachable manager.',
  options,
  disruptive: true,
  requirements(scenario) {
    return managersRequirement(scenario, 'swarm/failover-leader', 3, 'Raft needs a majority of the managers to elect a leader, and only with 3 or more does a majority survive the loss of one.');
  },
  async verify(ctx) {
    const timeoutMs = durationMs(ctx.options.timeout);
    const managers = ctx.managers();
    const before = await nodeListFromAny(managers);
    const leaderRow = leaderOf(before);
    if (!leaderRow) {
      throw new AssertionFailed('The swarm has no single Leader to stop.', { expected: 'exactly one manager with MANAGER STATUS Leader', observed: nodeTable(before) });
    }
    const leader = ctx.host(leaderRow.Hostname);
    const survivors = managers.filter((m) => m.name !== leader.name);
    // Import before the stop: every node that may run the probe service needs the image.
    await ensureTestImages(ctx, ['v1']);

    await withStoppedNodes(ctx, async (stop) => {
      const started = performance.now();
      await stop(leader.name);
      const elected = await ctx.eventually(
        async (observe) => {
          const rows = await nodeListFromAny(survivors);
          observe(nodeTable(rows));
          const next = leaderOf(rows);
          if (!next || next.Hostname === leader.name) {
            throw new AssertionFailed(`No new Leader among ${survivors.map((m) => m.name).join(', ')} yet.`, {
              expected: `one of ${survivors.map((m) => m.name).join(', ')} Leader; ${leader.name} Unreachable`,
              observed: nodeTable(rows),
            });
          }
          return { next, rows };
        },
        { timeout: timeoutMs, interval: 250, description: `a new Leader after stopping ${leader.name}` },
      );
      const electionMs = elapsedSince(started);
      ctx.measure('leader election time', electionMs);
      const old = elected.rows.find((r) => r.Hostname === leader.name);
      ctx.log(`stopped ${leader.name} (Leader); ${elected.next.Hostname} is Leader after ${secondsText(electionMs)}; ${leader.name} shows ${old ? `${old.Status}/${old.ManagerStatus}` : 'nothing'}`);

      // The new leader commits changes: a service is created, scheduled and removed.
      const newLeader = ctx.host(elected.next.Hostname);
      const changeStarted = performance.now();
      await removingService(ctx, [newLeader, ...survivors], SERVICE, async () => {
        await createService(newLeader, { name: SERVICE, image: TEST_IMAGES.v1, replicas: 1, constraints: [], step: 'swarm/failover-leader' });
        await waitForTasks(ctx, newLeader, SERVICE, { replicas: 1, image: TEST_IMAGES.v1, timeoutMs, avoid: [leader.name], description: 'a service created after the failover to run' });
        ctx.measure('service change after failover', elapsedSince(changeStarted));
      });
    });
  },
});
