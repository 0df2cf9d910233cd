import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { type Duplex, Readable } from 'node:stream';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { secrets } from '../secrets/index.js';
import { EngineNoAnswer, EngineRequestFailed, NodeEngine, SocketUnreachable } from './engine.js';
import type { CommandResult } from './types.js';

/**
 * A fake transport: instead of a channel that sshd forwards to the node's
 * socket, a connection to a small HTTP server on a unix socket here, answering
 * as dockerd would. The real path (SSH, real dockerd) is tested end to end.
 */
describe('NodeEngine', () => {
  let server: Server;
  let socket: string;
  /** The channels opened, in order: request i went over channels[i]. */
  let channels: Duplex[];
  /** Requests of the dropping URLs seen, and the indexes of the requests whose "connection" was lost. */
  let drops: number;
  let lost: Set<number>;
  const requests: string[] = [];
  const commands: CommandResult[] = [];
  const notes: string[] = [];

  beforeEach(async () => {
    socket = join(mkdtempSync(join(tmpdir(), 'engine-test-')), 'docker.sock');
    channels = [];
    drops = 0;
    lost = new Set();
    requests.length = 0;
    commands.length = 0;
    notes.length = 0;
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.setHeader('Content-Type', 'application/json');
      if (req.url === '/info') return res.end(JSON.stringify({ Swarm: { LocalNodeState: 'active', ControlAvailable: true } }));
      if (req.url === '/swarm') return res.end(JSON.stringify({ JoinTokens: { Worker: 'SWMTKN-1-worker-token-0123456789', Manager: 'SWMTKN-1-manager-token-0123456789' } }));
      if (req.url?.startsWith('/images/load?') || req.url?.startsWith('/nodes/dropped')) {
        // The connection is lost while the request waits: the first time only, or every time for /nodes/dropped-always.
        drops++;
        if (drops === 1 || req.url === '/nodes/dropped-always') {
          lost.add(requests.length - 1);
          req.socket.destroy();
          return;
        }
        // Answered once the archive has arrived, as dockerd does.
        req.resume();
        req.on('end', () => res.end(JSON.stringify({ stream: 'Loaded image: web:v1\n' })));
        return;
      }
      if (req.url === '/nodes') {
        res.statusCode = 503;
        return res.end(JSON.stringify({ message: 'This node is not a swarm manager.' }));
      }
      // /slow: never answers.
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const engine = (open?: () => Promise<never>) =>
    new NodeEngine(
      'node-1',
      open ??
        (async () => {
          const channel = connect(socket);
          channels.push(channel);
          return channel;
        }),
      {
        onCommand: (_node, result) => commands.push(result),
        onNote: (node, message) => notes.push(`${node}: ${message}`),
        // As the SSH connection says of a channel whose connection closed under it: the reason ssh2 gave.
        lostReason: (channel) => (lost.has(channels.indexOf(channel)) ? 'Keepalive timeout' : undefined),
      },
    );

  it('answers typed JSON, one channel per request, each logged as a docker-api command', async () => {
    const node = engine();
    const info = (await node.request({ label: 'GET /info', call: (docker) => docker.info() })) as { Swarm: { LocalNodeState: string } };
    expect(info.Swarm.LocalNodeState).toBe('active');
    expect(requests).toEqual(['GET /info']);
    expect(channels).toHaveLength(1);
    expect(commands.map((c) => [c.argv.join(' '), c.exitCode])).toEqual([['docker-api GET /info', 0]]);
  });

  it('masks the join tokens of GET /swarm before the answer is logged', async () => {
    const node = engine();
    await node.request({ label: 'GET /swarm', call: (docker) => docker.swarmInspect() });
    expect(secrets.mask(commands[0]?.stdout ?? '')).not.toContain('SWMTKN-1-manager-token');
    expect(secrets.mask('SWMTKN-1-worker-token-0123456789')).not.toContain('worker-token');
  });

  it('fails an error status naming the node, the request and what Docker said', async () => {
    const error = await engine()
      .request({ label: 'GET /nodes', call: (docker) => docker.listNodes() })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineRequestFailed);
    expect((error as Error).message).toBe('"GET /nodes" (Docker Engine API) answered 503 on node-1: This node is not a swarm manager.');
    expect(commands[0]?.exitCode).toBe(1);
  });

  it('gives up on a request after its timeout, closing its channel', async () => {
    const error: unknown = await engine()
      .request({ label: 'GET /slow', call: (docker) => docker.getNode('slow').inspect() as Promise<unknown>, timeoutMs: 300 })
      .catch((e: unknown) => e);
    // The server saw the request: the timeout is the daemon not answering, not a refused channel.
    expect(requests).toEqual(['GET /nodes/slow']);
    expect(error).toBeInstanceOf(EngineNoAnswer);
    expect((error as Error).message).toMatch(/"GET \/slow" \(Docker Engine API\) got no answer within 0 s on node-1/);
  });

  it('answers undefined where sshd does not open the socket, says why once, and stops asking', async () => {
    let tries = 0;
    const node = engine(async () => {
      tries++;
      throw new SocketUnreachable('sshd of node-1 did not open /var/run/docker.sock');
    });
    expect(await node.request({ label: 'GET /info', call: (docker) => docker.info() })).toBeUndefined();
    expect(await node.request({ label: 'GET /nodes', call: (docker) => docker.listNodes() })).toBeUndefined();
    // It holds for the connection: the second call did not try to open a channel.
    expect(tries).toBe(1);
    expect(node.refused).toMatch(/did not open/);
    expect(notes).toEqual(['node-1: Docker Engine API not used on node-1, the docker CLI is: sshd of node-1 did not open /var/run/docker.sock']);
  });

  it('asks a repeatable request again on a new connection when the SSH connection is lost while it waits, and says so', async () => {
    const node = engine();
    const answer = await node.request({
      label: 'POST /images/load',
      repeatable: true,
      call: async (docker) => {
        const stream = await docker.loadImage(Readable.from([Buffer.from('archive')]), { quiet: true });
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
        return Buffer.concat(chunks).toString('utf8');
      },
    });
    // The fault happened: the first request's connection was cut before any answer.
    expect(drops).toBe(2);
    expect(answer).toContain('Loaded image: web:v1');
    expect(channels).toHaveLength(2);
    expect(commands.map((c) => [c.argv.join(' '), c.exitCode, c.stderr])).toEqual([
      ['docker-api POST /images/load', 1, 'the SSH connection to it was lost (Keepalive timeout)'],
      ['docker-api POST /images/load', 0, ''],
    ]);
    expect(notes).toEqual(['node-1: The SSH connection to node-1 was lost during "POST /images/load" (Keepalive timeout); asking again on a new connection.']);
  });

  it('asks a GET again once, and fails a second loss naming why the connection went', async () => {
    const error = await engine()
      .request({ label: 'GET /nodes/dropped-always', call: (docker) => docker.getNode('dropped-always').inspect() as Promise<unknown> })
      .catch((e: unknown) => e);
    expect(drops).toBe(2);
    expect(error).toBeInstanceOf(EngineNoAnswer);
    expect((error as EngineNoAnswer).lostConnection).toBe('Keepalive timeout');
    expect((error as Error).message).toBe('"GET /nodes/dropped-always" (Docker Engine API) got no answer on node-1: the SSH connection to it was lost (Keepalive timeout)');
  });

  it('does not ask a change again: one request, failed naming the lost connection', async () => {
    const error = await engine()
      .request({ label: 'POST /nodes/dropped/update', call: (docker) => docker.getNode('dropped').update({}) as Promise<unknown> })
      .catch((e: unknown) => e);
    expect(drops).toBe(1);
    expect(requests).toEqual(['POST /nodes/dropped/update']);
    expect((error as Error).message).toMatch(/got no answer on node-1: the SSH connection to it was lost \(Keepalive timeout\)$/);
  });

  it('does not call a channel closed by the daemon alone a lost connection, nor ask again', async () => {
    const node = new NodeEngine('node-1', async () => connect(socket));
    const error = await node.request({ label: 'GET /nodes/dropped-always', call: (docker) => docker.getNode('dropped-always').inspect() as Promise<unknown> }).catch((e: unknown) => e);
    expect(drops).toBe(1);
    expect((error as EngineNoAnswer).lostConnection).toBeUndefined();
    expect((error as Error).message).toMatch(/got no answer on node-1: socket hang up/);
  });
});
