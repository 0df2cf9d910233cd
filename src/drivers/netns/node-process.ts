import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, existsSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InfraError } from '../../errors.js';
import { PREFIX } from './network.js';

/**
 * PID 1 of a node. It runs inside the node's own UTS, mount and PID namespaces
 * (and its netns), so killing it takes dockerd, containerd, the shims and every
 * container with it, and the node's mounts go with its mount namespace.
 *
 * - The copies of the host's /run/netns mounts are dropped so that a node never
 *   pins another node's network namespace.
 * - A private tmpfs on /run gives the node its own /run/docker.sock: a plain
 *   `docker` on the node talks to the node's own daemon, as on a VM.
 * - DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1: tasks use local images instead of
 *   waiting on a registry that nodes cannot (and must not) reach.
 */
const NODE_INIT = `
set -eu
name=$1 dir=$2 address=$3 cgroup=$4
hostname "$name"
umount -R -l /run/netns 2>/dev/null || true
mount -t tmpfs -o mode=0755,size=64m tmpfs /run
mkdir -p /run/sshd /run/lock
DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 dockerd --data-root "$dir/docker" --exec-root /run/docker \\
  --host unix:///run/docker.sock --pidfile /run/docker.pid --cgroup-parent "$cgroup" \\
  >>"$dir/dockerd.log" 2>&1 &
/usr/sbin/sshd -D -e -f /dev/null -h "$dir/ssh_host_ed25519_key" \\
  -o ListenAddress="$address" -o AuthorizedKeysFile="$dir/authorized_keys" -o StrictModes=no \\
  -o PidFile=none -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no -o UseDNS=no \\
  -o MaxSessions=200 -o MaxStartups=200 -o PermitRootLogin=prohibit-password -o LogLevel=ERROR \\
  >>"$dir/sshd.log" 2>&1 &
# PID 1 reaps orphans (containerd shims re-parent to it) and never exits on its own.
while :; do wait || true; sleep 1; done
`;

export interface NodeProcess {
  pid: number;
  /** Start time from /proc/PID/stat: a recycled PID is never taken for ours. */
  startTime: string;
}

export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether the process we started is still the one at that PID. */
export function isAlive(process_: NodeProcess | undefined): boolean {
  if (!process_) return false;
  const now = startTimeOf(process_.pid);
  if (now === undefined || now !== process_.startTime) return false;
  // A zombie has exited: only its parent has not reaped it yet.
  try {
    const state = readFileSync(`/proc/${process_.pid}/stat`, 'utf8');
    return state.slice(state.lastIndexOf(')') + 2, state.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function cgroupParent(runId: string, node: string): string {
  return `/${PREFIX.cgroup}${runId}-${node}`;
}

/** Start the node's PID 1 in its netns, detached from the harness (nodes outlive `create`). */
export function startNodeProcess(args: {
  netns: string;
  node: string;
  dir: string;
  address: string;
  cgroup: string;
}): NodeProcess {
  const log = openSync(join(args.dir, 'node.log'), 'a');
  try {
    const child = spawn(
      'nsenter',
      [
        `--net=/run/netns/${args.netns}`,
        'unshare',
        '--uts',
        '--mount',
        '--pid',
        '--fork',
        '--mount-proc',
        '--propagation',
        'private',
        // If unshare dies for any reason, the node's PID 1 dies, and with it the node.
        '--kill-child=SIGKILL',
        'sh',
        '-c',
        NODE_INIT,
        'node-init',
        args.node,
        args.dir,
        args.address,
        args.cgroup,
      ],
      { detached: true, stdio: ['ignore', log, log] },
    );
    if (child.pid === undefined) throw new InfraError(`Could not start node ${args.node}: nsenter did not start.`);
    child.unref();
    const startTime = startTimeOf(child.pid);
    if (startTime === undefined) throw new InfraError(`Node ${args.node} exited as soon as it started; see ${join(args.dir, 'node.log')}.`);
    return { pid: child.pid, startTime };
  } finally {
    closeSync(log);
  }
}

/**
 * Kill a node as a crash would and wait until the process is gone. unshare
 * ignores SIGTERM in --fork mode, so SIGKILL it; --kill-child then kills PID 1,
 * and the kernel tears down the node's PID namespace.
 */
export async function killNodeProcess(process_: NodeProcess | undefined, timeoutMs = 15_000): Promise<void> {
  if (!isAlive(process_) || !process_) return;
  try {
    process.kill(process_.pid, 'SIGKILL');
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (isAlive(process_)) {
    if (Date.now() > deadline) throw new InfraError(`Node process ${process_.pid} did not exit after SIGKILL.`);
    await sleep(50);
  }
}

/**
 * PIDs of a run's node processes: the node's PID 1 (unshare) and dockerd take
 * the node's directory under the run directory as an argument.
 */
export function nodeProcessesOf(runDir: string): number[] {
  const marker = `${runDir}/`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').some((arg) => arg.startsWith(marker))) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

/** Wait until none of `pids` runs (zombies count as gone). */
export async function waitGone(pids: number[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const running = (pid: number) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  };
  while (pids.some(running)) {
    if (Date.now() > deadline) throw new InfraError(`Node processes ${pids.filter(running).join(', ')} did not exit after SIGKILL.`);
    await sleep(50);
  }
}

/**
 * dockerd leaves empty cgroup directories under its --cgroup-parent; remove
 * them (deepest first) in every hierarchy. Directories still in use stay.
 */
export function removeCgroups(cgroup: string): void {
  const root = '/sys/fs/cgroup';
  if (!existsSync(root)) return;
  const name = cgroup.replace(/^\//, '');
  const removeTree = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) removeTree(join(dir, entry.name));
    }
    try {
      rmdirSync(dir);
    } catch {
      // Still has processes for a moment after the kill; the next destroy retries.
    }
  };
  const hierarchies = [root, ...readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(root, e.name))];
  for (const hierarchy of hierarchies) {
    const dir = join(hierarchy, name);
    if (existsSync(dir)) removeTree(dir);
  }
}
