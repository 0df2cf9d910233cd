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
    return { outcome, killed, after: sshd.sessions() };
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

describe('an SSH connection that drops during a command', () => {
  it('runs a read again on a new connection', async () => {
    const { outcome, killed, after } = await dropDuring((c) => c.run(['sh', '-c', 'sleep 2; echo read'], { readOnly: true }));
    expect(outcome).toMatchObject({ stdout: 'read\n', exitCode: 0 });
    // The old session is dead and the answer came over a new one: a reconnect happened.
    for (const pid of killed) expect(alive(pid)).toBe(false);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((pid) => killed.includes(pid))).toEqual([]);
  });

  it('fails a command that is not safe to repeat, as an infrastructure error naming the node and the command', async () => {
    const { outcome, killed, after } = await dropDuring((c) => c.run(['sh', '-c', 'sleep 2; echo write']));
    expect(outcome).toBeInstanceOf(InfraError);
    expect((outcome as Error).message).toMatch(/connection to loopback closed while running: sh -c 'sleep 2; echo write'/);
    for (const pid of killed) expect(alive(pid)).toBe(false);
    // Not run again: no new connection was made.
    expect(after).toEqual([]);
  });
});
