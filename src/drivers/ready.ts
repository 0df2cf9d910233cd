import { setTimeout as sleep } from 'node:timers/promises';
import { InfraError } from '../errors.js';
import { SshConnection, TransportError } from '../transport/index.js';
import type { NodeRecord } from './types.js';

/**
 * Wait until a node answers SSH (connecting is retried with backoff) and its
 * dockerd answers: what every driver's `create` and `start` wait for.
 */
export async function waitUntilNodeAnswers(node: NodeRecord, options: { timeoutMs: number; signal: AbortSignal; hint: string }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const connection = new SshConnection(node, { timeoutMs: options.timeoutMs, signal: options.signal });
  try {
    await connection.connect();
    for (;;) {
      let answer: string;
      try {
        const result = await connection.run(['docker', 'info', '--format', '{{.ID}}'], { timeoutMs: 10_000, signal: options.signal });
        if (result.exitCode === 0) return;
        answer = result.stderr.trim();
      } catch (error) {
        // A dockerd still starting on a busy machine can hold one `docker info` past its timeout: ask again.
        if (!(error instanceof InfraError) || error instanceof TransportError) throw error;
        answer = error.message;
      }
      if (Date.now() > deadline) {
        throw new InfraError(`dockerd on ${node.name} did not answer within ${Math.round(options.timeoutMs / 1000)} s: ${answer}`, {
          hint: options.hint,
        });
      }
      await sleep(200, undefined, { signal: options.signal });
    }
  } finally {
    connection.close();
  }
}
