import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { InfraError, Interrupted } from '../../errors.js';
import { runOnHost } from '../../util/host-command.js';
import { linkExists, netnsExists, type Subnet } from '../netns/network.js';
import { isAlive, killNodeProcess, removeCgroups, startTimeOf, type NodeProcess } from '../netns/node-process.js';

/**
 * The dockerd the docker provider talks to, one per run. It runs in its own
 * network namespace, which has no route out: the node containers it starts can
 * reach each other and, through one veth and one route, the harness on this
 * machine, and nothing else. `--iptables=false` leaves the host's firewall alone;
 * `--dns 127.0.0.1` keeps the nodes' resolvers from pointing anywhere.
 *
 * Like a netns node it is PID 1's child in its own PID and mount namespaces:
 * killing the first process takes dockerd, containerd, the shims and every
 * container with it, and its mounts go with its mount namespace.
 */

/** Every name of ours starts with this (not `sm-`/`smv-`, which are the netns driver's). */
export const PREFIX = 'smvg-';

/** Where a run's provider dockerd lives; saved in the state file. */
export interface ProviderDaemon {
  netns: string;
  /** Host end of the one veth; its peer in the netns is `uplink`. */
  veth: string;
  subnet: Subnet;
  /** Data root, socket and logs. */
  runDir: string;
  cgroup: string;
  process?: NodeProcess;
}

/**
 * The leased /24, split: the lower /25 is the containers' bridge, the harness
 * (this machine) is .129 and the namespace's end of the veth .130.
 */
export const addresses = (subnet: Subnet) => ({
  bridge: `${subnet.base}.1/25`,
  nodes: `${subnet.base}.0/25`,
  harness: `${subnet.base}.129`,
  uplink: `${subnet.base}.130`,
  link: 30,
});

export function planDaemon(runId: string, subnet: Subnet, dataDir: string): ProviderDaemon {
  return { netns: `${PREFIX}${runId}`, veth: `${PREFIX}${runId}`, subnet, runDir: join(dataDir, runId), cgroup: `/${PREFIX}${runId}` };
}

export const socketOf = (daemon: ProviderDaemon): string => join(daemon.runDir, 'docker.sock');

/** The environment that points `docker` (and Vagrant's docker provider) at this daemon. */
export const dockerEnv = (daemon: ProviderDaemon): Record<string, string> => ({ DOCKER_HOST: `unix://${socketOf(daemon)}` });

/** The namespace, the veth into it, and the route to the node subnet through it. No default route anywhere. */
export async function createUplink(daemon: ProviderDaemon): Promise<void> {
  const a = addresses(daemon.subnet);
  if (!netnsExists(daemon.netns)) await runOnHost('ip', ['netns', 'add', daemon.netns]);
  if (!(await linkExists(daemon.veth))) {
    await runOnHost('ip', ['link', 'add', daemon.veth, 'type', 'veth', 'peer', 'name', 'uplink', 'netns', daemon.netns]);
  }
  await runOnHost('ip', ['addr', 'replace', `${a.harness}/${a.link}`, 'dev', daemon.veth]);
  await runOnHost('ip', ['link', 'set', daemon.veth, 'up']);
  const inside = (args: string[]) => runOnHost('nsenter', [`--net=/run/netns/${daemon.netns}`, 'ip', ...args]);
  await inside(['link', 'set', 'lo', 'up']);
  await inside(['addr', 'replace', `${a.uplink}/${a.link}`, 'dev', 'uplink']);
  await inside(['link', 'set', 'uplink', 'up']);
  await runOnHost('ip', ['route', 'replace', a.nodes, 'via', a.uplink, 'dev', daemon.veth, 'src', a.harness]);
  const { stdout } = await inside(['-4', 'route', 'show', 'default']);
  if (stdout.trim() !== '') {
    throw new InfraError(`The provider namespace ${daemon.netns} has a default route (${stdout.trim()}); nodes must reach only each other and the harness.`);
  }
}

export async function removeUplink(daemon: ProviderDaemon): Promise<void> {
  const a = addresses(daemon.subnet);
  if (await linkExists(daemon.veth)) {
    // Deleting the host end removes the pair, and the route with it.
    await runOnHost('ip', ['link', 'delete', daemon.veth], { allowFailure: true });
  }
  await runOnHost('ip', ['route', 'delete', a.nodes, 'via', a.uplink], { allowFailure: true });
  if (netnsExists(daemon.netns)) await runOnHost('ip', ['netns', 'delete', daemon.netns], { allowFailure: true });
}

/**
 * PID 1 of the daemon's namespaces: drop the copies of /run/netns mounts (so
 * that we never pin another run's namespace), a private /run (so that dockerd
 * starts its own containerd rather than using the host's), then dockerd.
 */
const DAEMON_INIT = `
set -eu
dir=$1 bridge=$2 cgroup=$3
umount -R -l /run/netns 2>/dev/null || true
mount -t tmpfs -o mode=0755,size=64m tmpfs /run
dockerd --data-root "$dir/docker" --exec-root /run/docker --host "unix://$dir/docker.sock" \\
  --pidfile /run/docker.pid --iptables=false --ip-masq=false --dns 127.0.0.1 --bip "$bridge" \\
  --cgroup-parent "$cgroup" --userland-proxy=false --log-level warn >>"$dir/dockerd.log" 2>&1 &
while :; do wait || true; sleep 1; done
`;

/** Start the daemon detached from the harness: it lives from `create` to `destroy`, across commands. */
export async function startDaemon(daemon: ProviderDaemon): Promise<NodeProcess> {
  await mkdir(daemon.runDir, { recursive: true, mode: 0o700 });
  const log = openSync(join(daemon.runDir, 'daemon.log'), 'a');
  try {
    const child = spawn(
      'nsenter',
      [
        `--net=/run/netns/${daemon.netns}`,
        'unshare', '--mount', '--pid', '--fork', '--mount-proc', '--propagation', 'private',
        '--kill-child=SIGKILL',
        'sh', '-c', DAEMON_INIT, 'provider-dockerd', daemon.runDir, addresses(daemon.subnet).bridge, daemon.cgroup,
      ],
      { detached: true, stdio: ['ignore', log, log] },
    );
    if (child.pid === undefined) throw new InfraError('Could not start the docker provider\'s dockerd: nsenter did not start.');
    child.unref();
    const startTime = startTimeOf(child.pid);
    if (startTime === undefined) throw new InfraError(`The docker provider's dockerd exited at once; see ${join(daemon.runDir, 'daemon.log')}.`);
    return { pid: child.pid, startTime };
  } finally {
    closeSync(log);
  }
}

/** Wait until the daemon answers on its socket. */
export async function waitForDaemon(daemon: ProviderDaemon, signal: AbortSignal, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal.aborted) throw new Interrupted(String(signal.reason ?? 'signal'));
    if (existsSync(socketOf(daemon))) {
      const result = await execa('docker', ['version', '--format', '{{.Server.Version}}'], { env: dockerEnv(daemon), reject: false, stdin: 'ignore', timeout: 10_000 });
      if (result.exitCode === 0) return;
    }
    if (!isAlive(daemon.process) || Date.now() > deadline) {
      const log = await readFile(join(daemon.runDir, 'dockerd.log'), 'utf8').catch(() => '');
      throw new InfraError(
        `The docker provider's dockerd ${isAlive(daemon.process) ? `did not answer within ${timeoutMs / 1000} s` : 'stopped'}: ${log.trim().split('\n').slice(-5).join('\n') || 'no log'}`,
        { hint: `See ${join(daemon.runDir, 'dockerd.log')}.` },
      );
    }
    await sleep(200);
  }
}

/**
 * Processes of the run's daemon found without the state file: ours by
 * construction, as their arguments name the run's directory.
 */
export function daemonProcessesOf(runDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.includes('provider-dockerd') && args.some((arg) => arg === runDir || arg.startsWith(`${runDir}/`))) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

/** Kill the daemon's namespaces (and with them every container), then remove its files, network and cgroups. */
export async function removeDaemon(daemon: ProviderDaemon): Promise<void> {
  await killNodeProcess(daemon.process);
  await removeUplink(daemon);
  // The kernel reaps the namespace's processes just after its PID 1: retry until their cgroups can go.
  const name = daemon.cgroup.replace(/^\//, '');
  for (let attempt = 0; ; attempt++) {
    removeCgroups(daemon.cgroup);
    const left = existsSync('/sys/fs/cgroup') ? ['.', ...readdirSync('/sys/fs/cgroup')].filter((h) => existsSync(join('/sys/fs/cgroup', h, name))) : [];
    if (left.length === 0) break;
    if (attempt >= 50) throw new InfraError(`The cgroups ${daemon.cgroup} of the docker provider's dockerd could not be removed (${left.join(', ')}).`);
    await sleep(100);
  }
  await rm(daemon.runDir, { recursive: true, force: true, maxRetries: 3 });
}

export { isAlive };
