import { spawn } from 'node:child_process';
import { chmodSync, chownSync, closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InfraError } from '../../errors.js';
import { COMMAND_PATH } from '../../transport/index.js';
import { startTimeOf, type NodeProcess } from '../host/processes.js';
import { PREFIX } from './network.js';

/**
 * What a node's /dev holds besides its mounts, copied from the image's /dev
 * (made by debootstrap); /dev/ptmx is its devpts's. Not the image's
 * /dev/console: that is this machine's console.
 */
const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'fd', 'stdin', 'stdout', 'stderr'];

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
 *
 * Every program this script starts is paid for by every node while all of them
 * boot at once on a few cores: the mounts are one `mount --all` of the node's
 * `fstab` (written by {@link nodeFstab}), and the node's own files
 * (authorized_keys, host key, hostname, hosts) are written into its upper dir
 * by the harness before it starts ({@link prepareNodeDisk}).
 */
export const NODE_INIT = `
set -eu
name=$1 dir=$2 address=$3 cgroup=$4 lower=$5 dockerd_delay=\${6:-0}
PATH=${COMMAND_PATH}
export PATH
root=$dir/root
hostname "$name"
mount --all --fstab "$dir/fstab"
mkdir -p "$root/run/sshd" "$root/run/lock"
cd "$lower/dev"
cp -a ${DEVICES.join(' ')} "$root/dev/"
ln -s pts/ptmx "$root/dev/ptmx"
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

/** A path as an fstab field: whitespace and backslashes octal-escaped, as fstab(5) says. */
function fstabField(value: string): string {
  return value.replace(/[\\\s]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** The node's mounts in the order NODE_INIT makes them, as an fstab for `mount --all`. */
export function nodeFstab(dir: string, lower: string): string {
  const root = join(dir, 'root');
  const at = (path: string) => fstabField(join(root, path));
  const mkdir = 'X-mount.mkdir';
  const overlay = `lowerdir=${lower},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`;
  const lines = [
    ['overlay', fstabField(root), 'overlay', fstabField(overlay)],
    ['proc', at('proc'), 'proc', 'nosuid,nodev,noexec'],
    ['sysfs', at('sys'), 'sysfs', 'nosuid,nodev,noexec'],
    ['/sys/fs/cgroup', at('sys/fs/cgroup'), 'none', 'rbind'],
    ['tmpfs', at('dev'), 'tmpfs', 'nosuid,mode=0755,size=1m'],
    ['devpts', at('dev/pts'), 'devpts', `newinstance,nosuid,noexec,ptmxmode=0666,mode=0620,gid=5,${mkdir}`],
    ['tmpfs', at('dev/shm'), 'tmpfs', `nosuid,nodev,mode=1777,size=64m,${mkdir}`],
    ['mqueue', at('dev/mqueue'), 'mqueue', `nosuid,nodev,noexec,${mkdir}`],
    ['tmpfs', at('run'), 'tmpfs', 'nosuid,nodev,mode=0755,size=64m'],
    ['tmpfs', at('tmp'), 'tmpfs', 'nosuid,nodev,mode=1777'],
    [fstabField(join(dir, 'docker')), at('var/lib/docker'), 'none', `bind,${mkdir}`],
  ];
  return `${lines.map((fields) => `${fields.join(' ')} 0 0`).join('\n')}\n`;
}

/**
 * Write what the node finds on its disk at boot into its upper dir (the overlay
 * is not mounted then): its fstab beside it, and in it root's authorized_keys,
 * its host key, hostname and hosts. Directories the image has get the image's
 * mode and owner, so the node sees them as the image made them.
 */
export function prepareNodeDisk(args: { node: string; dir: string; address: string; rootfs: string }): void {
  const { dir, rootfs } = args;
  const upper = join(dir, 'upper');
  for (const sub of ['upper', 'work', 'docker', 'root']) mkdirSync(join(dir, sub), { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, 'fstab'), nodeFstab(dir, rootfs));
  const mirrorDir = (path: string) => {
    let at = '';
    for (const part of path.split('/')) {
      at = join(at, part);
      const image = statSync(join(rootfs, at), { throwIfNoEntry: false });
      const mine = join(upper, at);
      if (!statSync(mine, { throwIfNoEntry: false })) mkdirSync(mine, { mode: image?.mode ?? 0o700 });
      chmodSync(mine, (image?.mode ?? 0o700) & 0o7777);
      if (image) chownSync(mine, image.uid, image.gid);
    }
  };
  const put = (path: string, content: string | Buffer, mode: number) => {
    const file = join(upper, path);
    rmSync(file, { force: true });
    writeFileSync(file, content, { mode });
    chmodSync(file, mode);
  };
  mirrorDir('root/.ssh');
  mirrorDir('etc/ssh');
  put('root/.ssh/authorized_keys', readFileSync(join(dir, 'authorized_keys')), 0o600);
  put('etc/ssh/ssh_host_ed25519_key', readFileSync(join(dir, 'ssh_host_ed25519_key')), 0o600);
  put('etc/hostname', `${args.node}\n`, 0o644);
  put('etc/hosts', `127.0.0.1 localhost\n${args.address} ${args.node}\n`, 0o644);
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
  /** The node image's root filesystem: the overlay's lower layer. */
  rootfs: string;
  /** Seconds dockerd starts late (test hook only; default 0). */
  dockerdDelaySeconds?: number;
}): NodeProcess {
  prepareNodeDisk({ node: args.node, dir: args.dir, address: args.address, rootfs: args.rootfs });
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
