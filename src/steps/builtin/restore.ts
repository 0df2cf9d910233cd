import { messageOf } from '../../errors.js';
import type { VerifyContext } from '../api.js';
import { AssertionFailed } from '../assert.js';
import { durationMs, elapsedSince, secondsText } from './duration.js';
import { isManager } from '../../config/roles.js';
import { nodeListFromAny } from './managers.js';
import { nodeTable, type NodeRow } from './node-list.js';

interface RestoreOptions {
  restore: boolean;
  timeout: string;
}

/** Why the restored nodes are not back yet, or `[]`. */
export function rejoinProblems(rows: readonly NodeRow[], nodes: readonly { name: string; manager: boolean }[]): string[] {
  const problems: string[] = [];
  for (const node of nodes) {
    const row = rows.find((r) => r.Hostname === node.name);
    if (!row) problems.push(`${node.name} is not in the swarm`);
    else {
      if (row.Status !== 'Ready') problems.push(`${node.name} is ${row.Status}`);
      if (node.manager && row.ManagerStatus !== 'Reachable' && row.ManagerStatus !== 'Leader') {
        problems.push(`${node.name} is ${row.ManagerStatus || 'no manager'}, not a Reachable manager`);
      }
    }
  }
  const leaders = rows.filter((r) => r.ManagerStatus === 'Leader').length;
  if (leaders !== 1) problems.push(`${leaders} nodes are Leader`);
  return problems;
}

/**
 * Run `body`, which stops nodes through the `stop` it is given; then, when
 * `restore` is set, start every stopped node again and wait until each is back
 * in the swarm: Ready, and a Reachable manager if it is one. The nodes are
 * restored whether `body` passed or failed, so later steps find the cluster
 * whole.
 */
export async function withStoppedNodes<T>(ctx: VerifyContext<RestoreOptions>, body: (stop: (name: string) => Promise<void>) => Promise<T>): Promise<T> {
  const stopped: string[] = [];
  const stop = async (name: string) => {
    // Recorded first: a stop that fails half-way still needs a start.
    stopped.push(name);
    await ctx.nodes.stop(name);
  };
  let result: T;
  try {
    result = await body(stop);
  } catch (error) {
    if (stopped.length > 0 && ctx.options.restore && !ctx.signal.aborted) {
      try {
        await restore(ctx, stopped);
      } catch (restoreError) {
        ctx.log(`restoring ${stopped.join(', ')} failed too: ${messageOf(restoreError)}`);
      }
    }
    throw error;
  }
  if (stopped.length > 0) {
    if (ctx.options.restore) await restore(ctx, stopped);
    else ctx.log(`left ${stopped.join(', ')} stopped (restore: false)`);
  }
  return result;
}

async function restore(ctx: VerifyContext<RestoreOptions>, names: readonly string[]): Promise<void> {
  const started = performance.now();
  // One at a time: each start records the node's new process in the state file.
  for (const name of names) await ctx.nodes.start(name);
  const nodes = names.map((name) => ({ name, manager: isManager(ctx.host(name)) }));
  const expected = nodes.map((n) => `${n.name}: Ready${n.manager ? ', Reachable (or Leader)' : ''}`).join('\n');
  await ctx.eventually(
    async (observe) => {
      const rows = await nodeListFromAny(ctx.managers());
      observe(nodeTable(rows));
      const problems = rejoinProblems(rows, nodes);
      if (problems.length > 0) throw new AssertionFailed(`The restarted nodes are not back in the swarm: ${problems.join('; ')}.`, { expected, observed: nodeTable(rows) });
    },
    { timeout: durationMs(ctx.options.timeout), interval: 500, description: `${names.join(', ')} to rejoin the swarm` },
  );
  const ms = elapsedSince(started);
  ctx.measure('rejoin time', ms);
  ctx.log(`restarted ${names.join(', ')}: back in the swarm after ${secondsText(ms)}`);
}
