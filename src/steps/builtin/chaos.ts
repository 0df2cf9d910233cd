import { messageOf } from '../../errors.js';
import type { Host, VerifyContext } from '../api.js';
import { AssertionFailed } from '../assert.js';
import { TEST_IMAGES } from './images.js';
import { createServiceArgs, removeService } from './services.js';

/** Swarm's own answer to a write when no Leader can be reached (raft has no quorum). */
export const NO_QUORUM = /The swarm does not have a leader/;
export const NO_QUORUM_TEXT = "Error response from daemon: … The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.";

/** The answer of one write attempt: accepted, refused with Swarm's no-quorum error, or something else (still settling). */
export type WriteAnswer = { kind: 'accepted' } | { kind: 'no-quorum'; stderr: string } | { kind: 'other'; text: string };

export function classifyWrite(exitCode: number, stderr: string, timedOut = false): WriteAnswer {
  if (exitCode === 0) return { kind: 'accepted' };
  if (NO_QUORUM.test(stderr)) return { kind: 'no-quorum', stderr: stderr.trim() };
  return { kind: 'other', text: timedOut ? 'no answer (the command timed out)' : stderr.trim() || `exit ${exitCode}` };
}

/** One write on `manager`: create a service of no replicas named `name` (a write raft must commit). */
export async function tryWrite(manager: Host, name: string, step: string, timeoutMs = 20_000): Promise<WriteAnswer> {
  const args = createServiceArgs({ name, image: TEST_IMAGES.v1, replicas: 0, constraints: [], step });
  try {
    const result = await manager.run(['docker', ...args], { timeoutMs });
    return classifyWrite(result.exitCode, result.stderr);
  } catch (error) {
    // A write that hangs until our timeout is not yet an answer.
    return classifyWrite(124, messageOf(error), true);
  }
}

/**
 * Retry a write on `manager` until Swarm refuses it with its no-quorum error.
 * A write that is accepted fails the check at once (a split brain): the
 * service it made is removed when the cluster has a quorum again (`cleanup`).
 */
export async function expectWriteRefused(ctx: VerifyContext<unknown>, manager: Host, probe: string, step: string, timeoutMs: number, why: string): Promise<string> {
  let accepted = false;
  const refused = await ctx.eventually(
    async (observe) => {
      if (accepted) return undefined;
      const answer = await tryWrite(manager, probe, step);
      observe(answer.kind === 'no-quorum' ? answer.stderr : answer.kind === 'other' ? answer.text : 'accepted', `a write on ${manager.name}: ${answer.kind}`);
      if (answer.kind === 'accepted') {
        accepted = true;
        return undefined;
      }
      if (answer.kind === 'other') {
        throw new AssertionFailed(`${manager.name} has not refused a write with Swarm's no-quorum error yet.`, { expected: NO_QUORUM_TEXT, observed: answer.text });
      }
      return answer.stderr;
    },
    { timeout: timeoutMs, interval: 1000, description: `${manager.name} to refuse writes (${why})` },
  );
  if (refused === undefined) {
    throw new AssertionFailed(`${manager.name} accepted a write (docker service create ${probe}) although ${why}: a split brain.`, {
      expected: NO_QUORUM_TEXT,
      observed: `service ${probe} created`,
    });
  }
  return refused;
}

/** Remove probe services from the first manager that answers; failures are only logged. */
export async function removeProbes(ctx: VerifyContext<unknown>, managers: readonly Host[], names: readonly string[]): Promise<void> {
  for (const name of names) {
    let removed = false;
    for (const manager of managers) {
      try {
        await removeService(manager, name, ctx.cleanupSignal);
        removed = true;
        break;
      } catch {
        // the next manager
      }
    }
    if (!removed) ctx.log(`could not remove service ${name}`);
  }
}

/**
 * Run `body` while the partition it makes through `ctx.nodes` is in place;
 * heal afterwards whether it passed or failed (after a first Ctrl-C too).
 */
export async function withPartition<T>(ctx: VerifyContext<unknown>, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } finally {
    await ctx.nodes.heal();
  }
}

/** The containers of `service`'s tasks on one node, as `docker ps` there shows them: task id → state. */
export async function localTasks(host: Host, service: string): Promise<Map<string, string>> {
  const out = await host.docker(['ps', '--all', '--no-trunc', '--filter', `label=com.docker.swarm.service.name=${service}`, '--format', '{{.Label "com.docker.swarm.task.id"}} {{.State}}'], { readOnly: true });
  const tasks = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [id, state] = line.trim().split(/\s+/);
    if (id && state) tasks.set(id, state);
  }
  return tasks;
}

/** The largest minority of `managers` managers: cut that many and the rest still has a quorum. */
export const largestMinority = (managers: number): number => Math.floor((managers - 1) / 2);

/** The smallest majority: stop that many managers and raft has no quorum. */
export const smallestMajority = (managers: number): number => Math.floor(managers / 2) + 1;
