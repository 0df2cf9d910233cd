import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateKeyPair, type SshConnection, writeKeyPair } from '../../../../src/transport/index.js';

type Target = ConstructorParameters<typeof SshConnection>[0];

/** A real sshd of our own on loopback: the transport under test talks to OpenSSH, not a fake. */
export interface LoopbackSshd {
  target: Target;
  /** The listening sshd. */
  pid: number;
  /** The per-connection sshd processes (children of the listener): killing one drops that connection. */
  sessions(): number[];
  /** Connections that logged in so far (sshd's "Accepted publickey" lines): a stray probe of the port is not one. */
  logins(): number;
  /** Stop the listener and every session: the node's sshd is gone. */
  kill(): void;
  stop(): void;
}

function parentOf(pid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/**
 * sshd's privilege separation directory; made only when the host lacks it, and
 * removed when the last of our sshds stops: every connection's sshd needs it,
 * so one sshd's stop must not take it from another still serving (a fresh CI
 * machine has none: the shared sshd of a file then reset every connection).
 */
let madePrivsepDir = false;
let runningSshds = 0;

export async function startSshd(): Promise<LoopbackSshd> {
  if (!existsSync('/run/sshd')) {
    mkdirSync('/run/sshd', { mode: 0o755 });
    madePrivsepDir = true;
  }
  runningSshds++;
  const dir = mkdtempSync(join(tmpdir(), 'sm-sshd-'));
  const user = generateKeyPair('user');
  const host = generateKeyPair('host');
  await writeKeyPair(join(dir, 'id'), user);
  await writeKeyPair(join(dir, 'host'), host);
  writeFileSync(join(dir, 'authorized_keys'), `${user.publicKey}\n`);
  const port = 20_000 + Math.floor(Math.random() * 10_000);
  const sshdArgs = ['-D', '-e', '-f', '/dev/null', '-h', join(dir, 'host'), '-o', `ListenAddress=127.0.0.1:${port}`, '-o', `AuthorizedKeysFile=${join(dir, 'authorized_keys')}`, '-o', 'StrictModes=no', '-o', 'PidFile=none', '-o', 'UsePAM=no', '-o', 'LogLevel=INFO', '-o', 'MaxSessions=100'];
  // A session's login shell must not read this machine's root dotfiles (a slow or wedged
  // ~/.bashrc, as seen here, stalls every command): sshd runs with an empty /root of its own.
  // unshare and sh exec in place, so the pid is the listening sshd's.
  const sshd: ChildProcess = spawn(
    'unshare',
    ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o mode=0700 tmpfs /root && exec /usr/sbin/sshd "$@"', 'sshd', ...sshdArgs],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const pid = sshd.pid ?? -1;
  let log = '';
  sshd.stderr?.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  const logins = () => log.split('\n').filter((line) => line.startsWith('Accepted publickey for root')).length;
  const sessions = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p) && parentOf(p) === pid).map(Number);
  const kill = () => {
    for (const session of [...sessions(), pid]) {
      try {
        process.kill(session, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  };
  let stopped = false;
  const server: LoopbackSshd = {
    target: { name: 'loopback', host: '127.0.0.1', port, user: 'root', identityFile: join(dir, 'id'), hostKey: host.publicKey },
    pid,
    sessions,
    logins,
    kill,
    stop: () => {
      kill();
      if (stopped) return;
      stopped = true;
      rmSync(dir, { recursive: true, force: true });
      runningSshds--;
      if (runningSshds === 0 && madePrivsepDir) {
        rmSync('/run/sshd', { recursive: true, force: true });
        madePrivsepDir = false;
      }
    },
  };
  // Up when sshd says it listens on the port (a connect alone could reach another listener of
  // this shared machine's on the same random port); another port when this one is taken.
  let exited = false;
  sshd.on('exit', () => (exited = true));
  for (let i = 0; i < 200 && !exited; i++) {
    if (log.includes(`Server listening on 127.0.0.1 port ${port}.`)) return server;
    await sleep(25);
  }
  server.stop();
  if (/Address already in use/.test(log)) return startSshd();
  throw new Error(`sshd did not start: ${log}`);
}

/** Processes on this machine whose command line contains `marker`. */
export function processesWith(marker: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (args.includes(marker)) found.push(`${pid} ${args}`);
    } catch {
      // exited while we looked
    }
  }
  return found;
}
