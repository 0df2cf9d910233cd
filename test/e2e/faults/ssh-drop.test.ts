import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfraError } from '../../../src/errors.js';
import { EngineNoAnswer, NodeEngine, SshConnection } from '../../../src/transport/index.js';
import { until } from '../support/until.js';
import { startSshd, type LoopbackSshd } from './support/sshd.js';

let sshd: LoopbackSshd;

beforeAll(async () => {
  sshd = await startSshd();
});

afterAll(() => sshd.stop());

/**
 * Run a command or request, kill its connection's sshd session once `reached`
 * says it is on the node (the command started, the request's body arrived),
 * and prove the drop landed while it still ran.
 */
async function dropDuring(run: (c: SshConnection) => Promise<unknown>, reached: () => boolean) {
  const connection = new SshConnection(sshd.target, { timeoutMs: 10_000 });
  await connection.connect();
  const loginsBefore = sshd.logins();
  let settled = false;
  const running = run(connection)
    .catch((error: unknown) => error)
    .finally(() => (settled = true));
  await until(() => reached() || settled, 30_000);
  expect(reached()).toBe(true);
  const killed = sshd.sessions();
  expect(killed.length).toBeGreaterThan(0);
  for (const session of killed) process.kill(session, 'SIGKILL');
  // The fault happened before the command could finish.
  expect(settled).toBe(false);
  try {
    const outcome = await running;
    return { outcome, killed, newLogins: () => sshd.logins() - loginsBefore };
  } finally {
    connection.close();
  }
}

/** A file the command under test appends "started" to, and whether it has yet. */
function startedMarker() {
  const file = join(mkdtempSync(join(tmpdir(), 'sm-drop-')), 'started');
  return { file, started: () => existsSync(file), remove: () => rmSync(dirname(file), { recursive: true, force: true }) };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Whether the killed session is gone once sshd has reaped it (a zombie still answers kill 0), within 5 s. */
async function reaped(pid: number): Promise<boolean> {
  return await until(() => !alive(pid), 5000, 50);
}

describe('an SSH connection that drops during a command', () => {
  it('runs a read again on a new connection', async () => {
    const marker = startedMarker();
    const { outcome, killed, newLogins } = await dropDuring((c) => c.run(['sh', '-c', `echo started >> ${marker.file}; sleep 2; echo read`], { readOnly: true }), marker.started);
    expect(outcome).toMatchObject({ stdout: 'read\n', exitCode: 0 });
    // The old session is dead and the answer came over a new login: a reconnect happened.
    for (const pid of killed) expect(await reaped(pid)).toBe(true);
    expect(newLogins()).toBe(1);
    expect(readFileSync(marker.file, 'utf8')).toBe('started\nstarted\n');
    marker.remove();
  });

  it('fails a command that is not safe to repeat, as an infrastructure error naming the node and the command', async () => {
    const { file: marker, started, remove } = startedMarker();
    const { outcome, killed, newLogins } = await dropDuring((c) => c.run(['sh', '-c', `echo started >> ${marker}; sleep 2; echo write`]), started);
    expect(outcome).toBeInstanceOf(InfraError);
    expect((outcome as Error).message).toMatch(/connection to loopback closed while running: sh -c 'echo started >> .*; sleep 2; echo write' \(.+\)$/);
    for (const pid of killed) expect(await reaped(pid)).toBe(true);
    // Not run again: no new login, and after the time a second run would need to start, it started once.
    await sleep(1500);
    expect(newLogins()).toBe(0);
    expect(readFileSync(marker, 'utf8')).toBe('started\n');
    remove();
  });
});

describe('an SSH connection that drops during a Docker Engine API request', () => {
  /**
   * A unix socket on this machine that answers as dockerd does once the body
   * has arrived, reached through the loopback sshd (`direct-streamlocal`) as a
   * node's Docker socket is; each request's body is kept. The first request is
   * never answered: only a lost connection ends it.
   */
  async function slowEngine() {
    const dir = mkdtempSync(join(tmpdir(), 'sm-drop-engine-'));
    const socket = join(dir, 'docker.sock');
    const bodies: string[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        bodies.push(`${request.method} ${request.url} ${body}`);
        if (bodies.length > 1) response.writeHead(200, { 'Content-Type': 'application/json' }).end('{"stream":"Loaded image: web:v1\\n"}\n');
      });
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    return { socket, bodies, stop: () => (server.close(), rmSync(dir, { recursive: true, force: true })) };
  }

  const load = (engine: NodeEngine, repeatable: boolean) =>
    engine.request({
      label: 'POST /images/load',
      repeatable,
      call: async (docker) => {
        const stream = await docker.loadImage(Readable.from([Buffer.from('an archive')]), { quiet: true });
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
        return Buffer.concat(chunks).toString('utf8');
      },
    });

  for (const repeatable of [true, false]) {
    it(repeatable ? 'asks a repeatable request (an image load) again on a new connection, and says why the first was lost' : 'fails a request that is not repeatable, naming the lost connection', async () => {
      const fake = await slowEngine();
      const notes: string[] = [];
      try {
        /** Socket channels still waiting on the connection once the request ended (each one's close listener goes with it). */
        let inFlightAfter = -1;
        const { outcome, killed, newLogins } = await dropDuring(
          async (c) => {
            try {
              return await load(new NodeEngine('loopback', () => c.openSocket(fake.socket), { lostReason: (channel) => c.lostReason(channel), onNote: (_node, note) => notes.push(note) }), repeatable);
            } finally {
              await until(() => c.listenerCounts().inFlight === 0, 5000);
              inFlightAfter = c.listenerCounts().inFlight;
            }
          },
          () => fake.bodies.length === 1,
        );
        expect(inFlightAfter).toBe(0);
        for (const pid of killed) expect(await reaped(pid)).toBe(true);
        if (repeatable) {
          expect(outcome).toContain('Loaded image: web:v1');
          // The first body reached the socket over the killed session, the second over a new login.
          expect(fake.bodies).toEqual(['POST /images/load?quiet=true an archive', 'POST /images/load?quiet=true an archive']);
          expect(newLogins()).toBe(1);
          expect(notes).toHaveLength(1);
          expect(notes[0]).toMatch(/^The SSH connection to loopback was lost during "POST \/images\/load" \(.+\); asking again on a new connection\.$/);
        } else {
          expect(outcome).toBeInstanceOf(EngineNoAnswer);
          expect((outcome as EngineNoAnswer).lostConnection).toBeDefined();
          expect((outcome as Error).message).toMatch(/^"POST \/images\/load" \(Docker Engine API\) got no answer on loopback: the SSH connection to it was lost \(.+\)$/);
          await sleep(1500);
          expect(newLogins()).toBe(0);
          expect(fake.bodies).toHaveLength(1);
        }
      } finally {
        fake.stop();
      }
    });
  }
});
