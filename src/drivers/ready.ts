import { setTimeout as sleep } from 'node:timers/promises';
import { InfraError } from '../errors.js';
import { CommandTimedOut, SshConnection, type CommandResult } from '../transport/index.js';
import type { NodeRecord } from './types.js';

/** The first probe's timeout; each probe that times out gives the next one twice as long. */
const FIRST_PROBE_TIMEOUT_MS = 10_000;

/** One `docker info` on the node, stopped after `timeoutMs`. */
export type DockerProbe = (timeoutMs: number) => Promise<CommandResult>;

/**
 * Ask dockerd until it answers or `timeoutMs` has passed. A probe that times
 * out (a busy machine, a daemon still starting) is asked again with a longer
 * timeout, never past the deadline; only the deadline fails, with the last
 * answer observed.
 */
export async function waitForDockerd(
  name: string,
  probe: DockerProbe,
  options: { timeoutMs: number; signal: AbortSignal; hint: string; firstProbeTimeoutMs?: number; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let probeTimeoutMs = options.firstProbeTimeoutMs ?? FIRST_PROBE_TIMEOUT_MS;
  let lastAnswer = '(no answer yet)';
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new InfraError(`dockerd on ${name} did not answer within ${Math.round(options.timeoutMs / 1000)} s; last answer: ${lastAnswer}`, {
        hint: options.hint,
      });
    }
    try {
      const result = await probe(Math.min(probeTimeoutMs, remaining));
      if (result.exitCode === 0) return;
      lastAnswer = `exit ${result.exitCode}: ${result.stderr.trim() || result.stdout.trim() || '(no output)'}`;
    } catch (error) {
      if (!(error instanceof CommandTimedOut)) throw error;
      lastAnswer = `no answer to "docker info" within ${Math.round(Math.min(probeTimeoutMs, remaining) / 1000)} s`;
      probeTimeoutMs *= 2;
      continue;
    }
    await sleep(Math.min(options.intervalMs ?? 200, Math.max(0, deadline - Date.now())), undefined, { signal: options.signal });
  }
}

/**
 * Wait until a node answers SSH (connecting is retried with backoff) and its
 * dockerd answers: what every driver's `create` and `start` wait for.
 */
export async function waitUntilNodeAnswers(node: NodeRecord, options: { timeoutMs: number; signal: AbortSignal; hint: string }): Promise<void> {
  const connection = new SshConnection(node, { timeoutMs: options.timeoutMs, signal: options.signal });
  try {
    await connection.connect();
    await waitForDockerd(node.name, (timeoutMs) => connection.run(['docker', 'info', '--format', '{{.ID}}'], { timeoutMs, signal: options.signal }), options);
  } finally {
    connection.close();
  }
}
