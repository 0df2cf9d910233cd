import { z } from 'zod';
import { defineVerifyStep, type Host } from '../api.js';
import { AssertionFailed } from '../assert.js';
import { tryWrite } from './chaos.js';
import { duration, durationMs, elapsedSince, secondsText } from './duration.js';
import { ensureTestImages } from './images.js';
import { fromAnyManager, leaderOf, managersRequirement, nodeListFromAny } from './managers.js';
import { nodeTable } from './node-list.js';
import { withStoppedNodes } from './restore.js';
import { removeService } from './services.js';

const NAME = 'swarm/measure-election';
const PROBE = 'sm-election-write';

/** Measurement names: one pair per election (`election 1`, `first write 1`, …) and the settings they were taken with. */
export const ELECTION = 'election';
export const FIRST_WRITE = 'first write';
export const SETTINGS = ['raft ElectionTick', 'raft HeartbeatTick', 'dispatcher HeartbeatPeriod'] as const;

const options = z.strictObject({
  /** How many times to stop the Leader. */
  repeat: z.number().int().min(1).max(100).default(5),
  /** How long one election, the first write after it, and the rejoin may each take. */
  timeout: duration().default('90s'),
  /** Start each stopped Leader again before the next round (the next round needs it). */
  restore: z.boolean().default(true),
});
type Options = z.output<typeof options>;

interface SwarmSettings {
  Spec?: { Raft?: { ElectionTick?: number; HeartbeatTick?: number }; Dispatcher?: { HeartbeatPeriod?: number } };
}

/** Swarm's own timers, as `docker info` shows them: the figures mean nothing without them. Never changed here. */
async function raftSettings(manager: Host): Promise<{ electionTick: number; heartbeatTick: number; heartbeatPeriodMs: number }> {
  const cluster = JSON.parse(await manager.docker(['info', '--format', '{{json .Swarm.Cluster}}'], { readOnly: true })) as SwarmSettings;
  return {
    electionTick: cluster.Spec?.Raft?.ElectionTick ?? 0,
    heartbeatTick: cluster.Spec?.Raft?.HeartbeatTick ?? 0,
    heartbeatPeriodMs: (cluster.Spec?.Dispatcher?.HeartbeatPeriod ?? 0) / 1e6,
  };
}

export default defineVerifyStep<Options>({
  name: NAME,
  description:
    'Stop the Leader manager as a crash would, `repeat` times: each time measure how long the other managers take to show a new Leader and to accept a first write (a service created), then start the node again and wait until it is back. Reports every figure, and Swarm\'s raft settings from `docker info` (they are the user\'s: never changed).',
  options,
  disruptive: true,
  requirements(scenario) {
    return managersRequirement(scenario, NAME, 3, 'Only with 3 or more does a majority survive the loss of the Leader.');
  },
  async verify(ctx) {
    const timeoutMs = durationMs(ctx.options.timeout);
    const managers = ctx.managers();
    await ensureTestImages(ctx, ['v1']);
    const settings = await fromAnyManager(managers, raftSettings);
    ctx.measure(SETTINGS[0], settings.electionTick, 'count');
    ctx.measure(SETTINGS[1], settings.heartbeatTick, 'count');
    ctx.measure(SETTINGS[2], settings.heartbeatPeriodMs, 'ms');
    ctx.log(`raft ElectionTick ${settings.electionTick}, HeartbeatTick ${settings.heartbeatTick}, dispatcher HeartbeatPeriod ${secondsText(settings.heartbeatPeriodMs)} (Swarm's, as docker info shows them)`);
    for (let round = 1; round <= ctx.options.repeat; round++) {
      const rows = await nodeListFromAny(managers);
      const leaderRow = leaderOf(rows);
      if (!leaderRow) throw new AssertionFailed(`Round ${round}: the swarm has no single Leader to stop.`, { expected: 'exactly one manager with MANAGER STATUS Leader', observed: nodeTable(rows) });
      const survivors = managers.filter((m) => m.name !== leaderRow.Hostname);
      await withStoppedNodes(ctx, async (stop) => {
        await stop(leaderRow.Hostname);
        // From the moment the Leader is dead (its processes killed, its link down).
        const started = performance.now();
        const next = await ctx.eventually(
          async (observe) => {
            const now = await nodeListFromAny(survivors);
            observe(nodeTable(now));
            const leader = leaderOf(now);
            if (!leader || leader.Hostname === leaderRow.Hostname) {
              throw new AssertionFailed(`Round ${round}: no new Leader among ${survivors.map((m) => m.name).join(', ')} yet.`, { expected: `one of ${survivors.map((m) => m.name).join(', ')} Leader`, observed: nodeTable(now) });
            }
            return leader;
          },
          { timeout: timeoutMs, interval: 100, description: `round ${round}: a new Leader after stopping ${leaderRow.Hostname}` },
        );
        const electionMs = elapsedSince(started);
        const newLeader = ctx.host(next.Hostname);
        await ctx.eventually(
          async (observe) => {
            const answer = await tryWrite(newLeader, PROBE, NAME);
            observe(answer.kind);
            if (answer.kind !== 'accepted') throw new AssertionFailed(`Round ${round}: ${newLeader.name} does not accept a write yet.`, { expected: `docker service create ${PROBE} accepted`, observed: answer.kind === 'no-quorum' ? answer.stderr : answer.text });
          },
          { timeout: timeoutMs, interval: 100, description: `round ${round}: a first write accepted by ${newLeader.name}` },
        );
        const writeMs = elapsedSince(started);
        ctx.measure(`${ELECTION} ${round}`, electionMs);
        ctx.measure(`${FIRST_WRITE} ${round}`, writeMs);
        ctx.log(`round ${round}: stopped ${leaderRow.Hostname}; ${next.Hostname} Leader after ${secondsText(electionMs)}, first write accepted after ${secondsText(writeMs)}`);
        await removeService(newLeader, PROBE, ctx.cleanupSignal);
      });
    }
  },
});
