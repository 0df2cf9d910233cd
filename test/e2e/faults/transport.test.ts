import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfraError } from '../../../src/errors.js';
import { AssertionFailed } from '../../../src/steps/assert.js';
import { eventually } from '../../../src/steps/eventually.js';
import { secrets, SshConnection, TransportError, type CommandResult } from '../../../src/transport/index.js';
import { until } from '../support/until.js';
import { processesWith, startSshd, type LoopbackSshd } from './support/sshd.js';

let sshd: LoopbackSshd;

beforeAll(async () => {
  sshd = await startSshd();
});

afterAll(() => sshd.stop());

describe('a command that times out', () => {
  it('is killed on the node, with everything it started', async () => {
    // A marker only this test's processes carry; a child process too, to prove the whole group goes.
    const marker = `${Date.now() % 100_000}.123`;
    const connection = new SshConnection(sshd.target, { timeoutMs: 10_000 });
    try {
      // This loopback sshd is this machine's: its login shell reads root's dotfiles first, which
      // can take seconds on a busy machine, so the timeout leaves room for the command to start.
      const running = connection.run(['sh', '-c', `sleep ${marker} & sleep ${marker}; wait`], { timeoutMs: 20_000 }).catch((e: unknown) => e);
      // The fault: the command really runs on the node before its timeout.
      const sleeps = () => processesWith(`sleep ${marker}`).filter((p) => p.split(' ')[1] === 'sleep');
      await until(() => sleeps().length >= 2, 18_000);
      expect(sleeps()).toHaveLength(2);
      const error = await running;
      expect(error).toBeInstanceOf(InfraError);
      expect((error as Error).message).toMatch(/timed out after 20 s on loopback/);
      expect(processesWith(`sleep ${marker}`)).toEqual([]);
    } finally {
      connection.close();
    }
  });

  it('leaves no listener behind: many timed-out commands, one close listener, none in flight', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    const connection = new SshConnection(sshd.target, { timeoutMs: 10_000 });
    try {
      await connection.run(['true']);
      const before = connection.listenerCounts();
      // A duration of its own: another `sleep 300` on this shared machine is not this test's.
      const seconds = `30.${String(process.pid).padStart(7, '0')}`;
      const results = await Promise.all(Array.from({ length: 15 }, () => connection.run(['sleep', seconds], { timeoutMs: 300 }).catch((e: unknown) => e)));
      for (const result of results) expect(result).toBeInstanceOf(InfraError);
      expect(connection.listenerCounts()).toEqual({ close: before.close, inFlight: 0 });
      expect(processesWith(`sleep ${seconds}`).filter((p) => !p.includes('sh -c'))).toEqual([]);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      connection.close();
    }
  });
});

describe('secrets declared up front', () => {
  it('are masked before the output reaches any listener (logs, -v, JSON)', async () => {
    const seen: string[] = [];
    const onCommand = (_node: string, result: CommandResult) => seen.push(secrets.mask(`${result.argv.join(' ')}\n${result.stdout}${result.stderr}`));
    const connection = new SshConnection(sshd.target, { timeoutMs: 10_000, onCommand });
    const printed = `pw-${Math.random().toString(36).slice(2)}-printed`;
    const given = `pw-${Math.random().toString(36).slice(2)}-given`;
    try {
      expect((await connection.run(['echo', printed], { secret: true })).stdout).toBe(`${printed}\n`);
      await connection.run(['sh', '-c', 'read -r v; echo "got $v" >&2'], { stdin: `${given}\n`, secrets: [given] });
    } finally {
      connection.close();
    }
    expect(seen).toHaveLength(2);
    expect(seen.join('\n')).not.toContain(printed);
    expect(seen.join('\n')).not.toContain(given);
    expect(seen[1]).toContain('got ********');
  });
});

describe('a node whose sshd goes away during a check', () => {
  it('is an infrastructure error within seconds, not failed samples until the check times out', async () => {
    const own = await startSshd();
    const connection = new SshConnection(own.target, { timeoutMs: 30_000 });
    let samples = 0;
    try {
      await connection.connect();
      const started = performance.now();
      const checking = eventually(
        async () => {
          samples++;
          await connection.run(['sh', '-c', 'exit 1'], { readOnly: true });
          throw new AssertionFailed('not yet', { expected: 'exit 0', observed: 'exit 1' });
        },
        { interval: 200, timeout: 120_000 },
      ).catch((e: unknown) => e);
      await sleep(1000);
      // The fault: every sshd of the node is killed while the check is sampling.
      expect(samples).toBeGreaterThan(0);
      own.kill();
      const error = await checking;
      expect(error).toBeInstanceOf(TransportError);
      expect(performance.now() - started).toBeLessThan(20_000);
    } finally {
      connection.close();
      own.stop();
    }
  });
});

describe('a request to the node Docker API over SSH', () => {
  it('carries its body (a join token) to the socket without it being an argument of any process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-api-'));
    const socket = join(dir, 'docker.sock');
    const token = `SWMTKN-1-${'a'.repeat(50)}-${Math.random().toString(36).slice(2)}`;
    const received: string[] = [];
    const psDuring: string[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push(`${request.method} ${request.url} ${body}`);
        // While the request is in flight, look at every process's arguments on this machine.
        psDuring.push(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }));
        response.writeHead(200, { 'Content-Type': 'text/plain' }).end('joined');
      });
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    const connection = new SshConnection(sshd.target, { timeoutMs: 10_000 });
    try {
      const response = await connection.dockerApi({ method: 'POST', path: '/swarm/join', body: { JoinToken: token }, secrets: [token] }, socket);
      expect(response).toEqual({ status: 200, body: 'joined' });
      expect(received).toEqual([`POST /swarm/join ${JSON.stringify({ JoinToken: token })}`]);
      expect(psDuring).toHaveLength(1);
      expect(psDuring[0]).not.toContain(token);
      expect(secrets.mask(token)).toBe('********');
    } finally {
      connection.close();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
