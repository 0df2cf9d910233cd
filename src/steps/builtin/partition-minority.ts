import { z } from 'zod';
import { defineVerifyStep } from '../api.js';
import { AssertionFailed } from '../assert.js';
import { expectWriteRefused, largestMinority, removeProbes, withPartition } from './chaos.js';
import { duration, durationMs, elapsedSince, secondsText } from './duration.js';
import { ensureTestImages, TEST_IMAGES } from './images.js';
import { isManager } from '../../config/roles.js';
import { answersOfManagers, leaderOf, managersRequirement, nodeListFromAny } from './managers.js';
import { nodeList, nodeTable } from './node-list.js';
import { rejoinProblems } from './restore.js';
import { waitForTasks } from './service-checks.js';
import { createService } from './services.js';

const NAME = 'swarm/partition-minority';
/** Created on the majority side during the partition: it must be visible everywhere after the heal. */
const SERVICE = 'sm-partition-majority';
/** Tried on the minority side: Swarm must refuse it. */
const SPLIT = 'sm-partition-minority';

const options = z.strictObject({
  /** How many managers to cut away; default the largest minority (1 of 3, 2 of 5, 3 of 7). */
  cut: z.number().int().min(1).optional(),
  /** Put the Leader on the cut side, so that the majority must elect a new one. */
  leader: z.boolean().default(true),
  /** How long each phase may take: an election, the minority's refusal, the rejoin after the heal. */
  timeout: duration().default('90s'),
});
type Options = z.output<typeof options>;

export default defineVerifyStep<Options>({
  name: NAME,
  description:
    'Cut a minority of the managers (with the Leader by default) away from the rest of the swarm by a network partition: the majority keeps or elects a Leader and runs a new service; the minority refuses writes with Swarm\'s no-quorum error. Then heal: the cut managers are Reachable again, there is exactly one Leader, and the new service is visible from every manager.',
  options,
  disruptive: true,
  needs: ['partition'],
  requirements(scenario, opts) {
    const tooFew = managersRequirement(scenario, NAME, 3, 'Only with 3 or more is there a minority to cut whose loss leaves the rest a majority.');
    if (tooFew.length > 0) return tooFew;
    const n = scenario.platforms.filter(isManager).length;
    const cut = opts.cut ?? largestMinority(n);
    if (cut > largestMinority(n)) {
      return [
        {
          path: ['with', 'cut'],
          message: `${NAME} cannot cut ${cut} of ${n} managers: the rest (${n - cut}) would not be a majority, so no side could elect a Leader. Cut at most ${largestMinority(n)}.`,
        },
      ];
    }
    return [];
  },
  async verify(ctx) {
    const timeoutMs = durationMs(ctx.options.timeout);
    const managers = ctx.managers();
    const before = await nodeListFromAny(managers);
    const leaderRow = leaderOf(before);
    if (!leaderRow) throw new AssertionFailed('The swarm has no single Leader.', { expected: 'exactly one manager with MANAGER STATUS Leader', observed: nodeTable(before) });
    const count = ctx.options.cut ?? largestMinority(managers.length);
    const ordered = ctx.options.leader ? [...managers.filter((m) => m.name === leaderRow.Hostname), ...managers.filter((m) => m.name !== leaderRow.Hostname)] : managers.filter((m) => m.name !== leaderRow.Hostname);
    const cut = ordered.slice(0, count);
    const cutNames = cut.map((m) => m.name);
    const majority = managers.filter((m) => !cutNames.includes(m.name));
    const rest = ctx.hosts.filter((h) => !cutNames.includes(h.name)).map((h) => h.name);
    await ensureTestImages(ctx, ['v1']);

    try {
      await withPartition(ctx, async () => {
        const started = performance.now();
        await ctx.nodes.partition(cutNames, rest);
        ctx.log(`partition: ${cutNames.join(', ')} | ${rest.join(', ')}`);

        // The majority keeps (or elects) a Leader of its own.
        const elected = await ctx.eventually(
          async (observe) => {
            // A majority without a quorum refuses even to list the nodes: its answers are what we saw.
            const answer = await answersOfManagers(majority, nodeList);
            if ('refused' in answer) {
              observe(answer.refused);
              throw new AssertionFailed(`No manager of the majority (${majority.map((m) => m.name).join(', ')}) answers as part of a swarm with a Leader.`, {
                expected: `one of ${majority.map((m) => m.name).join(', ')} Leader`,
                observed: answer.refused,
              });
            }
            const rows = answer.value;
            observe(nodeTable(rows));
            const next = leaderOf(rows);
            if (!next || cutNames.includes(next.Hostname)) {
              throw new AssertionFailed(`The majority (${majority.map((m) => m.name).join(', ')}) has no Leader of its own yet.`, {
                expected: `one of ${majority.map((m) => m.name).join(', ')} Leader`,
                observed: nodeTable(rows),
              });
            }
            return next;
          },
          { timeout: timeoutMs, interval: 250, description: `a Leader among ${majority.map((m) => m.name).join(', ')}` },
        );
        const electionMs = elapsedSince(started);
        ctx.measure('majority Leader after the partition', electionMs);
        ctx.log(`${elected.Hostname} is Leader of the majority after ${secondsText(electionMs)}`);

        // The majority accepts a change: a service is created and runs, away from the cut nodes.
        const newLeader = ctx.host(elected.Hostname);
        await createService(newLeader, { name: SERVICE, image: TEST_IMAGES.v1, replicas: 1, constraints: cutNames.map((n) => `node.hostname!=${n}`), step: NAME });
        await waitForTasks(ctx, newLeader, SERVICE, { replicas: 1, image: TEST_IMAGES.v1, timeoutMs, avoid: cutNames, description: 'a service created on the majority side to run' });

        // Every cut manager refuses a write with Swarm's own no-quorum error.
        for (const manager of cut) {
          const answer = await expectWriteRefused(ctx, manager, SPLIT, NAME, timeoutMs, `${manager.name} is cut off from the majority`);
          ctx.log(`${manager.name} (minority) refused a write: ${answer.split('\n').pop() ?? answer}`);
        }
      });

      // Healed: the cut managers are back, one Leader, and the majority's change is seen by all.
      const healed = performance.now();
      await ctx.eventually(
        async (observe) => {
          const rows = await nodeListFromAny(managers);
          observe(nodeTable(rows));
          const problems = rejoinProblems(
            rows,
            cut.map((m) => ({ name: m.name, manager: true })),
          );
          if (problems.length > 0) {
            throw new AssertionFailed(`After the heal: ${problems.join('; ')}.`, { expected: `${cutNames.join(', ')} Ready and Reachable (or Leader); exactly one Leader`, observed: nodeTable(rows) });
          }
        },
        { timeout: timeoutMs, interval: 500, description: `${cutNames.join(', ')} to rejoin after the heal` },
      );
      ctx.measure('rejoin after the heal', elapsedSince(healed));
      await ctx.eventually(
        async (observe) => {
          const seen: string[] = [];
          for (const manager of managers) {
            const services = (await manager.docker(['service', 'ls', '--format', '{{.Name}}'], { readOnly: true })).split('\n').filter(Boolean);
            seen.push(`${manager.name}: ${services.join(', ') || '(none)'}`);
            if (!services.includes(SERVICE) || services.includes(SPLIT)) {
              observe(seen.join('\n'));
              throw new AssertionFailed(`${manager.name} does not see the change made by the majority alone.`, {
                expected: `every manager lists ${SERVICE} and no ${SPLIT}`,
                observed: seen.join('\n'),
              });
            }
          }
          observe(seen.join('\n'));
        },
        { timeout: timeoutMs, interval: 500, description: `${SERVICE} visible from every manager` },
      );
      ctx.log(`healed: ${cutNames.join(', ')} Reachable, one Leader, ${SERVICE} seen from ${managers.length} managers`);
    } finally {
      await removeProbes(ctx, managers, [SERVICE, SPLIT]);
    }
  },
});
