import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfraError } from '../../../src/errors.js';
import { generateKeyPair, SshConnection, writeKeyPair } from '../../../src/transport/index.js';

/** A real sshd of our own on loopback: the transport under test talks to OpenSSH, not a fake. */
let sshd: ChildProcess;
let dir: string;
let target: ConstructorParameters<typeof SshConnection>[0];
const port = 20_000 + Math.floor(Math.random() * 10_000);

/** The per-connection sshd processes (children of our listener): killing one drops that connection. */
function sessionsOf(listener: number): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === listener;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** sshd's privilege separation directory; made (and later removed) only when the host lacks it. */
let madePrivsepDir = false;

beforeAll(async () => {
  if (!existsSync('/run/sshd')) {
    mkdirSync('/run/sshd', { mode: 0o755 });
    madePrivsepDir = true;
  }
  dir = mkdtempSync(join(tmpdir(), 'sm-sshd-'));
  const user = generateKeyPair('user');
  const host = generateKeyPair('host');
  await writeKeyPair(join(dir, 'id'), user);
  await writeKeyPair(join(dir, 'host'), host);
  writeFileSync(join(dir, 'authorized_keys'), `${user.publicKey}\n`);
  sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', '/dev/null', '-h', join(dir, 'host'), '-o', `ListenAddress=127.0.0.1:${port}`, '-o', `AuthorizedKeysFile=${join(dir, 'authorized_keys')}`, '-o', 'StrictModes=no', '-o', 'PidFile=none', '-o', 'UsePAM=no', '-o', 'LogLevel=ERROR'], { stdio: 'ignore' });
  target = { name: 'loopback', host: '127.0.0.1', port, user: 'root', identityFile: join(dir, 'id'), hostKey: host.publicKey };
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = createConnection(port, '127.0.0.1', () => resolve(true)).on('error', () => resolve(false));
      socket.unref();
    });
    if (up) return;
    await sleep(50);
  }
  throw new Error('sshd did not start');
});

afterAll(() => {
  if (sshd.exitCode === null && sshd.pid) process.kill(sshd.pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  if (madePrivsepDir) rmSync('/run/sshd', { recursive: true, force: true });
});

async function dropDuring(run: (c: SshConnection) => Promise<unknown>): Promise<unknown> {
  const connection = new SshConnection(target, { timeoutMs: 10_000 });
  await connection.connect();
  const running = run(connection).catch((error: unknown) => error);
  await sleep(700);
  for (const session of sessionsOf(sshd.pid ?? -1)) process.kill(session, 'SIGKILL');
  try {
    return await running;
  } finally {
    connection.close();
  }
}

describe('an SSH connection that drops during a command', () => {
  it('runs a read again on a new connection', async () => {
    const result = await dropDuring((c) => c.run(['sh', '-c', 'sleep 2; echo read'], { readOnly: true }));
    expect(result).toMatchObject({ stdout: 'read\n', exitCode: 0 });
  });

  it('fails a command that is not safe to repeat, as an infrastructure error naming the node and the command', async () => {
    const error = await dropDuring((c) => c.run(['sh', '-c', 'sleep 2; echo write']));
    expect(error).toBeInstanceOf(InfraError);
    expect((error as Error).message).toMatch(/connection to loopback closed while running: sh -c 'sleep 2; echo write'/);
  });
});
