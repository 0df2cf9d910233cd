import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../../errors.js';

/**
 * TEST-ONLY hooks, for the fault suite (test/e2e/faults/); never set them in
 * real use. Each is honoured only when `SWARM_MOLECULE_TEST_HOOKS=1` is set
 * too, so a stray variable changes nothing.
 *
 * - `SWARM_MOLECULE_TEST_PAUSE_AT=<point>`: when a driver reaches the named
 *   await point of `create` (see `CREATE_PAUSE_POINTS` of the netns driver),
 *   write `swarm-molecule test hook: paused at <point>` (and the node) to stderr
 *   and wait there until interrupted, so that a test can kill -9 the harness
 *   exactly at that point. The netns and docker drivers' `partition`
 *   also stops at `partitioned`, once its rules are in place.
 * - `SWARM_MOLECULE_TEST_DOCKERD_RESTART_DELAY=<seconds>`: a node started again
 *   after a stop (failover steps) starts its real dockerd that many seconds late.
 */
export const TEST_HOOKS_ENV = 'SWARM_MOLECULE_TEST_HOOKS';
export const PAUSE_AT_ENV = 'SWARM_MOLECULE_TEST_PAUSE_AT';
export const DOCKERD_RESTART_DELAY_ENV = 'SWARM_MOLECULE_TEST_DOCKERD_RESTART_DELAY';

const enabled = () => process.env[TEST_HOOKS_ENV] === '1';

/** The line a paused harness writes to stderr. */
export function pausedLine(point: string, node?: string): string {
  return `swarm-molecule test hook: paused at ${point}${node === undefined ? '' : ` (${node})`}`;
}

/** Wait here forever (until `signal`) when a test asked to pause at `point`. */
export async function pauseAt(point: string, signal: AbortSignal, node?: string): Promise<void> {
  if (!enabled() || process.env[PAUSE_AT_ENV] !== point) return;
  process.stderr.write(`${pausedLine(point, node)}\n`);
  await sleep(2 ** 31 - 1, undefined, { signal });
}

/** Seconds a restarted node's dockerd waits before it starts; 0 unless a test asked. */
export function dockerdRestartDelaySeconds(): number {
  if (!enabled()) return 0;
  const raw = process.env[DOCKERD_RESTART_DELAY_ENV] ?? '0';
  if (!/^\d{1,3}$/.test(raw)) throw new UsageError(`${DOCKERD_RESTART_DELAY_ENV}=${raw} is not a number of seconds (0-999).`, { hint: `Unset ${DOCKERD_RESTART_DELAY_ENV}; it is for swarm-molecule's own tests.` });
  return Number(raw);
}
