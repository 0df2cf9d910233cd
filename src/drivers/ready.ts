import { setTimeout as sleep } from 'node:timers/promises';
import { InfraError } from '../errors.js';
import { CommandTimedOut, SshConnection, TransportError, type CommandResult } from '../transport/index.js';
import type { NodeRecord } from './types.js';

/** The first probe's timeout; each probe that times out gives the next one twice as long. */
const FIRST_PROBE_TIMEOUT_MS = 10_000;

/** What to do when a node does not answer; a function is asked when it fails (e.g. for the last lines of its log then). */
export type NodeHint = string | (() => string);

/** One question to the node's dockerd, stopped after `timeoutMs`. */
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
  options: { timeoutMs: number; signal: AbortSignal; hint: NodeHint; firstProbeTimeoutMs?: number; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let probeTimeoutMs = options.firstProbeTimeoutMs ?? FIRST_PROBE_TIMEOUT_MS;
  let lastAnswer = '(no answer yet)';
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new InfraError(`dockerd on ${name} did not answer within ${Math.round(options.timeoutMs / 1000)} s; last answer: ${lastAnswer}`, {
        hint: typeof options.hint === 'function' ? options.hint() : options.hint,
      });
    }
    try {
      const result = await probe(Math.min(probeTimeoutMs, remaining));
      if (result.exitCode === 0) return;
      lastAnswer = `exit ${result.exitCode}: ${result.stderr.trim() || result.stdout.trim() || '(no output)'}`;
    } catch (error) {
      if (!(error instanceof CommandTimedOut)) throw error;
      lastAnswer = `no answer from dockerd within ${Math.round(Math.min(probeTimeoutMs, remaining) / 1000)} s`;
      probeTimeoutMs *= 2;
      continue;
    }
    await sleep(Math.min(options.intervalMs ?? 200, Math.max(0, deadline - Date.now())), undefined, { signal: options.signal });
  }
}

/**
 * `GET /_ping` on the node's Docker socket, through the SSH connection: no
 * process starts on the node (a `docker info` costs a login shell and a Docker
 * CLI, on every probe of every node, while every dockerd is starting). dockerd
 * makes its socket early and answers once it has initialised, so a ping sent
 * meanwhile is answered the moment the daemon is ready. No socket yet is an answer
 * too: not ready.
 */
async function pingDockerd(connection: SshConnection, timeoutMs: number, signal: AbortSignal): Promise<CommandResult> {
  const argv = ['docker-api', 'GET', '/_ping'];
  const started = performance.now();
  try {
    const response = await connection.dockerApi({ method: 'GET', path: '/_ping', timeoutMs, signal });
    const ok = response.status === 200;
    return { argv, stdout: response.body, stderr: ok ? '' : `HTTP ${response.status}`, exitCode: ok ? 0 : 1, durationMs: performance.now() - started };
  } catch (error) {
    if (!(error instanceof TransportError)) throw error;
    return { argv, stdout: '', stderr: error.message, exitCode: 1, durationMs: performance.now() - started };
  }
}

/** How long a node took to answer, from the start of the wait: where `create` spends its time. */
export interface ReadyTimes {
  /** Until sshd accepted our login. */
  sshMs: number;
  /** Until dockerd answered (includes sshMs). */
  dockerdMs: number;
}

/**
 * Wait until a node answers SSH (connecting is retried with backoff) and its
 * dockerd answers: what every driver's `create` and `start` wait for.
 */
export async function waitUntilNodeAnswers(node: NodeRecord, options: { timeoutMs: number; signal: AbortSignal; hint: NodeHint }): Promise<ReadyTimes> {
  const started = performance.now();
  const connection = new SshConnection(node, { timeoutMs: options.timeoutMs, signal: options.signal });
  try {
    await connection.connect();
    const sshMs = performance.now() - started;
    await waitForDockerd(node.name, (timeoutMs) => pingDockerd(connection, timeoutMs, options.signal), { ...options, intervalMs: 100 });
    return { sshMs, dockerdMs: performance.now() - started };
  } finally {
    connection.close();
  }
}

/** `in 2.31 s (network 0.05, sshd 0.40, dockerd 1.86)`: a node's time to answer, by phase. */
export function readyPhases(phases: [string, number][]): string {
  const total = phases.reduce((sum, [, ms]) => sum + ms, 0);
  return `in ${(total / 1000).toFixed(2)} s (${phases.map(([name, ms]) => `${name} ${(ms / 1000).toFixed(2)}`).join(', ')})`;
}
