import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '../errors.js';
import type { ConnectionPool } from '../transport/index.js';
import { NodeDiskFull } from './errors.js';
import { createHost } from './host.js';

describe('a command that fails because the node disk is full', () => {
  it('is an infrastructure error naming the node (exit 3), not a failed check', async () => {
    const result = { argv: [], stdout: '', stderr: 'Error response from daemon: failed to create WAL: no space left on device\n', exitCode: 1, durationMs: 1 };
    const connections = { get: () => ({ run: async () => result }) } as unknown as ConnectionPool;
    const host = createHost({ name: 'n1', groups: ['swarm-leader'] } as never, { platforms: [], addressOf: () => '10.0.0.2', connections, reads: new Map() });
    const error = await host.docker(['swarm', 'init']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeDiskFull);
    expect(exitCodeOf(error)).toBe(3);
    expect((error as Error).message).toMatch(/disk of n1 is full .*docker swarm init.*no space left on device/);
  });
});
