import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { InfraError } from '../../errors.js';
import { startTimeOf, type NodeProcess } from '../host/processes.js';
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
