import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfraError } from '../../../src/errors.js';
import { SshConnection } from '../../../src/transport/index.js';
import { startSshd, type LoopbackSshd } from './support/sshd.js';

let sshd: LoopbackSshd;

beforeAll(async () => {
  sshd = await startSshd();
});

afterAll(() => sshd.stop());

/**
 * Run a 2 s command, kill its connection's sshd session after 0.7 s, and prove
 * the drop landed while the command still ran.
 */
async function dropDuring(run: (c: SshConnection) => Promise<unknown>) {
  const connection = new SshConnection(sshd.target, { timeoutMs: 10_000 });
  await connection.connect();
  const loginsBefore = sshd.logins();
  let settled = false;
  const running = run(connection)
    .catch((error: unknown) => error)
    .finally(() => (settled = true));
  await sleep(700);
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
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
  return !alive(pid);
}

describe('an SSH connection that drops during a command', () => {
  it('runs a read again on a new connection', async () => {
    const { outcome, killed, newLogins } = await dropDuring((c) => c.run(['sh', '-c', 'sleep 2; echo read'], { readOnly: true }));
    expect(outcome).toMatchObject({ stdout: 'read\n', exitCode: 0 });
    // The old session is dead and the answer came over a new login: a reconnect happened.
    for (const pid of killed) expect(await reaped(pid)).toBe(true);
    expect(newLogins()).toBe(1);
  });

  it('fails a command that is not safe to repeat, as an infrastructure error naming the node and the command', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'sm-drop-')), 'started');
    const { outcome, killed, newLogins } = await dropDuring((c) => c.run(['sh', '-c', `echo started >> ${marker}; sleep 2; echo write`]));
    expect(outcome).toBeInstanceOf(InfraError);
    expect((outcome as Error).message).toMatch(/connection to loopback closed while running: sh -c 'echo started >> .*; sleep 2; echo write'/);
    for (const pid of killed) expect(await reaped(pid)).toBe(true);
    // Not run again: no new login, and after the time a second run would need to start, it started once.
    await sleep(1500);
    expect(newLogins()).toBe(0);
    expect(readFileSync(marker, 'utf8')).toBe('started\n');
    rmSync(dirname(marker), { recursive: true, force: true });
  });
});
