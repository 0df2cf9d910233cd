import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock, LockedError, lockHooks } from './lock.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'sm-lock-'));

/** A lock left by a holder described by `holder`, in the layout acquireLock writes. */
function leaveLock(dir: string, holder: { pid: number; start: string; cmdline: string }) {
  mkdirSync(join(dir, 'lock'));
  writeFileSync(join(dir, 'lock', `holder-${holder.pid}-0000`), JSON.stringify(holder));
}

const startOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
};

afterEach(() => {
  delete lockHooks.beforeTakeOver;
});

describe('acquireLock', () => {
  it('refuses a second holder while the first runs, naming it and the way out, and frees on release', async () => {
    const dir = tempDir();
    const release = await acquireLock(dir, 'default');
    const refused = await acquireLock(dir, 'default').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LockedError);
    expect((refused as LockedError).message).toMatch(new RegExp(`in use by another swarm-molecule \\(pid ${process.pid}: `));
    expect((refused as LockedError).hint).toContain(`kill ${process.pid}`);
    await release();
    await (await acquireLock(dir, 'default'))();
  });

  it('takes over a lock whose holder no longer runs', async () => {
    const dir = tempDir();
    leaveLock(dir, { pid: 999_999_999, start: '1', cmdline: 'swarm-molecule test' });
    const release = await acquireLock(dir, 'default');
    await release();
    const again = await acquireLock(dir, 'default');
    await again();
  });

  it('takes over a lock whose holder has exited but is not reaped yet (a zombie: a harness killed -9 under a busy parent)', async () => {
    const dir = tempDir();
    // sh starts a short sleep in the background and becomes a long one, which never reaps it: a
    // zombie for 30 s. The short one outlives the exec, so sh cannot reap it first.
    const parent = spawn('sh', ['-c', 'sleep 1 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number((await new Promise<Buffer>((resolve) => parent.stdout.once('data', resolve))).toString().trim());
      const start = startOf(pid);
      for (let i = 0; readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z'; i++) {
        if (i > 300) throw new Error(`${pid} did not become a zombie`);
        await new Promise((r) => setTimeout(r, 20));
      }
      leaveLock(dir, { pid, start, cmdline: 'swarm-molecule create' });
      const release = await acquireLock(dir, 'default');
      await release();
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('takes over a lock whose pid now belongs to an unrelated live process (pid reuse), so reset can proceed', async () => {
    const dir = tempDir();
    // Our parent runs, but it is not the process that wrote this lock: another start time.
    const start = String(Number(startOf(process.ppid)) + 1);
    leaveLock(dir, { pid: process.ppid, start, cmdline: 'node swarm-molecule converge' });
    const release = await acquireLock(dir, 'default');
    await release();
  });

  it('refuses a lock directory holding files it did not write, and leaves them', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'lock', 'inside'), { recursive: true });
    await expect(acquireLock(dir, 'default')).rejects.toThrow(/holds files swarm-molecule did not write \(inside\)/);
    expect(readdirSync(join(dir, 'lock'))).toEqual(['inside']);
  });

  it('takes over an old-style lock file whose pid runs something else', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'lock'), `${process.ppid}\n`);
    await (await acquireLock(dir, 'default'))();
  });

  it('a stale lock and many acquirers at once: exactly one holds it, even when all judge it stale together', async () => {
    const dir = tempDir();
    leaveLock(dir, { pid: 999_999_999, start: '1', cmdline: 'swarm-molecule test' });
    const acquirers = 12;
    // Hold every acquirer after it has judged the lock stale and before it takes it over,
    // until all of them are there: the interleaving that let two hold it before.
    let waiting = 0;
    let releaseAll!: () => void;
    const barrier = new Promise<void>((resolve) => (releaseAll = resolve));
    const allThere = new Promise<void>((resolve) => {
      lockHooks.beforeTakeOver = async () => {
        if (++waiting === acquirers) resolve();
        await barrier;
      };
    });
    const results = Array.from({ length: acquirers }, () => acquireLock(dir, 'default'));
    // Not a hang if one never gets there: the expectation below fails after 30 s.
    await Promise.race([allThere, new Promise((r) => setTimeout(r, 30_000))]);
    expect(waiting).toBe(acquirers);
    releaseAll();
    const settled = await Promise.allSettled(results);
    const holders = settled.filter((r) => r.status === 'fulfilled');
    expect(holders).toHaveLength(1);
    for (const r of settled) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(LockedError);
    await (holders[0] as PromiseFulfilledResult<() => Promise<void>>).value();
  });
});
