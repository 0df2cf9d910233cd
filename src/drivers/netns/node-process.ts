import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { InfraError } from '../../errors.js';
import { COMMAND_PATH } from '../../transport/index.js';
import { startTimeOf, type NodeProcess } from '../host/processes.js';
import { PREFIX } from './network.js';

/**
 * PID 1 of a node. It runs inside the node's own UTS, IPC, mount and PID
 * namespaces (and its netns), so killing it takes dockerd, containerd, the shims
 * and every container with it, and the node's mounts go with its mount namespace.
 *
 * The node boots the cached node image, not this machine's root filesystem:
 * - `/` is an overlay: the image's rootfs read-only below, the node's own
 *   `upper/` above (its disk: kept across stop/start, removed by destroy).
 *   The mount exists only in the node's mount namespace.
 * - Its own /proc (its PID namespace), /sys (its netns; the machine's cgroup
 *   hierarchies bound in, dockerd needs them), /dev (a tmpfs with the basic
 *   devices, its own devpts, /dev/shm and /dev/mqueue), /run and /tmp.
 * - /var/lib/docker is the node's `docker/` directory, a plain directory:
 *   dockerd's overlay2 storage cannot sit on an overlay.
 * - pivot_root, then the machine's root is unmounted: nothing of it is visible.
 * - dockerd and sshd are the image's, started with a fixed environment.
 * - DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1: tasks use local images instead of
 *   waiting on a registry that nodes cannot (and must not) reach.
 * - sshd starts first; dockerd after `dockerd_delay` seconds, which is 0 but
 *   for the fault suite's slow-dockerd test (host/test-hooks.ts).
 */
export const NODE_INIT = `
set -eu
name=$1 dir=$2 address=$3 cgroup=$4 lower=$5 dockerd_delay=\${6:-0}
PATH=${COMMAND_PATH}
export PATH
root=$dir/root
hostname "$name"
mkdir -p "$dir/upper" "$dir/work" "$dir/docker" "$root"
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$dir/upper,workdir=$dir/work" "$root"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t sysfs -o nosuid,nodev,noexec sysfs "$root/sys"
mount --rbind /sys/fs/cgroup "$root/sys/fs/cgroup"
mount -t tmpfs -o nosuid,mode=0755,size=1m tmpfs "$root/dev"
mknod -m 0666 "$root/dev/null" c 1 3
mknod -m 0666 "$root/dev/zero" c 1 5
mknod -m 0666 "$root/dev/full" c 1 7
mknod -m 0666 "$root/dev/random" c 1 8
mknod -m 0666 "$root/dev/urandom" c 1 9
mknod -m 0666 "$root/dev/tty" c 5 0
mkdir -m 0755 "$root/dev/pts" "$root/dev/mqueue"
mkdir -m 1777 "$root/dev/shm"
ln -s pts/ptmx "$root/dev/ptmx"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mount -t devpts -o newinstance,nosuid,noexec,ptmxmode=0666,mode=0620,gid=5 devpts "$root/dev/pts"
mount -t tmpfs -o nosuid,nodev,mode=1777,size=64m tmpfs "$root/dev/shm"
mount -t mqueue -o nosuid,nodev,noexec mqueue "$root/dev/mqueue"
mount -t tmpfs -o nosuid,nodev,mode=0755,size=64m tmpfs "$root/run"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$root/tmp"
mkdir -p "$root/var/lib/docker" "$root/run/sshd" "$root/run/lock" "$root/root/.ssh"
mount --bind "$dir/docker" "$root/var/lib/docker"
chmod 0700 "$root/root/.ssh"
cp "$dir/authorized_keys" "$root/root/.ssh/authorized_keys"
cp "$dir/ssh_host_ed25519_key" "$root/etc/ssh/ssh_host_ed25519_key"
chmod 0600 "$root/root/.ssh/authorized_keys" "$root/etc/ssh/ssh_host_ed25519_key"
echo "$name" >"$root/etc/hostname"
printf '127.0.0.1 localhost\\n%s %s\\n' "$address" "$name" >"$root/etc/hosts"
# The logs stay in the node's dir on this machine, where the harness's hints point.
exec 3>>"$dir/dockerd.log" 4>>"$dir/sshd.log"
cd "$root"
pivot_root . mnt
cd /
umount -l /mnt
hash -r
env -i PATH="$PATH" LANG=C.UTF-8 /usr/sbin/sshd -D -e -f /dev/null -h /etc/ssh/ssh_host_ed25519_key \\
  -o ListenAddress="$address" -o PidFile=none -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no \\
  -o UseDNS=no -o MaxSessions=200 -o MaxStartups=200 -o PermitRootLogin=prohibit-password -o LogLevel=ERROR >&4 2>&4 &
if [ "$dockerd_delay" -gt 0 ]; then
  echo "test hook: dockerd starts in $dockerd_delay s ($(date -u +%T))" >&3
  sleep "$dockerd_delay"
fi
env -i PATH="$PATH" LANG=C.UTF-8 DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 dockerd --exec-root /run/docker \\
  --host unix:///run/docker.sock --pidfile /run/docker.pid --cgroup-parent "$cgroup" >&3 2>&3 &
exec 3>&- 4>&-
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
  /** The node image's root filesystem: the overlay's lower layer. */
  rootfs: string;
  /** Seconds dockerd starts late (test hook only; default 0). */
  dockerdDelaySeconds?: number;
}): NodeProcess {
  const log = openSync(join(args.dir, 'node.log'), 'a');
  try {
    const child = spawn(
      'nsenter',
      [
        `--net=/run/netns/${args.netns}`,
        'unshare',
        '--uts',
        '--ipc',
        '--mount',
        '--pid',
        '--fork',
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
        args.rootfs,
        String(args.dockerdDelaySeconds ?? 0),
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
