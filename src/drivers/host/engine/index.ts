import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { z } from 'zod';
import { InfraError, Interrupted } from '../../../errors.js';
import { removeCgroupsWhenEmpty } from '../cgroups.js';
import { runOnHost } from '../command.js';
import { logTail } from '../log-tail.js';
import { subnetSchema, type Subnet } from '../leases.js';
import { addNetns, deleteLink, deleteNetns, ipIn, linkExists, refuseDefaultRoute } from '../links.js';
import { isAlive, killNodeProcess, nodeProcessSchema, startTimeOf, type NodeProcess } from '../processes.js';

/**
 * A project-owned Docker engine: a dockerd in its own network namespace, which
 * has no route out. The containers it starts can reach each other and, through
 * one veth and on-link routes, the harness on this machine, and nothing else.
 * `--iptables=false` leaves the host's firewall alone; `--dns 127.0.0.1` keeps
 * the containers' resolvers from pointing anywhere. The vagrant driver's docker
 * provider runs one per run; the docker driver's tests use one as "the engine".
 *
 * Like a netns node it is PID 1's child in its own PID and mount namespaces:
 * killing the first process takes dockerd, containerd, the shims and every
 * container with it, and its mounts go with its mount namespace.
 */

/** The marker argument of the daemon's first process, by which sweep tells it from other processes naming the run directory. */
export const DAEMON_MARKER = 'provider-dockerd';

/** Where an engine lives; saved in the state file. */
export const providerDaemonSchema = z.object({
  netns: z.string(),
  /** Host end of the one veth; its peer in the netns is `uplink`. */
  veth: z.string(),
  subnet: subnetSchema,
  /** Data root, socket and logs. */
  runDir: z.string(),
  cgroup: z.string(),
  process: nodeProcessSchema.optional(),
  /** Also listen on tcp://<uplink address>:<port> (plain, no TLS: reachable from this machine only). */
  tcpPort: z.number().int().positive().optional(),
  /** docker-proxy serves published ports (without iptables, nothing else does). */
  userlandProxy: z.boolean().optional(),
  /** More networks (CIDR) routed from this machine into the namespace, e.g. user-defined bridge networks. */
  routes: z.array(z.string()).optional(),
});
export type ProviderDaemon = z.infer<typeof providerDaemonSchema>;

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

/** What an engine is made with beyond its names: see the schema. */
export type EngineExtras = Pick<ProviderDaemon, 'tcpPort' | 'userlandProxy' | 'routes'>;

/** The engine's names: every kernel object of it starts with `prefix` and carries the run id. */
export function planEngine(prefix: string, runId: string, subnet: Subnet, dataDir: string, extras: EngineExtras = {}): ProviderDaemon {
  return { netns: `${prefix}${runId}`, veth: `${prefix}${runId}`, subnet, runDir: join(dataDir, runId), cgroup: `/${prefix}${runId}`, ...extras };
}

export const socketOf = (daemon: ProviderDaemon): string => join(daemon.runDir, 'docker.sock');

/** The environment that points `docker` (and Vagrant's docker provider) at this daemon. */
export const dockerEnv = (daemon: ProviderDaemon): Record<string, string> => ({ DOCKER_HOST: `unix://${socketOf(daemon)}` });

/** The engine's tcp endpoint, reached from this machine through the veth (undefined without `tcpPort`). */
export const tcpHostOf = (daemon: ProviderDaemon): string | undefined =>
  daemon.tcpPort === undefined ? undefined : `tcp://${addresses(daemon.subnet).uplink}:${daemon.tcpPort}`;

/** The namespace, the veth into it, and the route to the node subnet through it. No default route anywhere. */
export async function createUplink(daemon: ProviderDaemon): Promise<void> {
  const a = addresses(daemon.subnet);
  await addNetns(daemon.netns);
  if (!(await linkExists(daemon.veth))) {
    await runOnHost('ip', ['link', 'add', daemon.veth, 'type', 'veth', 'peer', 'name', 'uplink', 'netns', daemon.netns]);
  }
  await runOnHost('ip', ['addr', 'replace', `${a.harness}/${a.link}`, 'dev', daemon.veth]);
  await runOnHost('ip', ['link', 'set', daemon.veth, 'up']);
  await ipIn(daemon.netns, ['link', 'set', 'lo', 'up']);
  await ipIn(daemon.netns, ['addr', 'replace', `${a.uplink}/${a.link}`, 'dev', 'uplink']);
  await ipIn(daemon.netns, ['link', 'set', 'uplink', 'up']);
  for (const net of [a.nodes, ...(daemon.routes ?? [])]) {
    await runOnHost('ip', ['route', 'replace', net, 'via', a.uplink, 'dev', daemon.veth, 'src', a.harness]);
  }
  await refuseDefaultRoute(daemon.netns, `The provider namespace ${daemon.netns}`);
}

export async function removeUplink(daemon: ProviderDaemon): Promise<void> {
  const a = addresses(daemon.subnet);
  // Deleting the host end removes the pair, and the route with it.
  await deleteLink(daemon.veth);
  for (const net of [a.nodes, ...(daemon.routes ?? [])]) await runOnHost('ip', ['route', 'delete', net, 'via', a.uplink], { allowFailure: true });
  await deleteNetns(daemon.netns);
}

/**
 * PID 1 of the daemon's namespaces: drop the copies of /run/netns mounts (so
 * that we never pin another run's namespace), a private /run (so that dockerd
 * starts its own containerd rather than using the host's), then dockerd.
 */
const DAEMON_INIT = `
set -eu
dir=$1 bridge=$2 cgroup=$3 proxy=$4
shift 4
umount -R -l /run/netns 2>/dev/null || true
mount -t tmpfs -o mode=0755,size=64m tmpfs /run
dockerd --data-root "$dir/docker" --exec-root /run/docker --host "unix://$dir/docker.sock" "$@" \\
  --pidfile /run/docker.pid --iptables=false --ip-masq=false --dns 127.0.0.1 --bip "$bridge" \\
  --cgroup-parent "$cgroup" --userland-proxy="$proxy" --log-level warn >>"$dir/dockerd.log" 2>&1 &
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
        'sh', '-c', DAEMON_INIT, DAEMON_MARKER, daemon.runDir, addresses(daemon.subnet).bridge, daemon.cgroup,
        String(daemon.userlandProxy ?? false),
        ...(daemon.tcpPort === undefined ? [] : ['--host', tcpHostOf(daemon) ?? '']),
      ],
      { detached: true, stdio: ['ignore', log, log] },
    );
    if (child.pid === undefined) throw new InfraError('Could not start the engine\'s dockerd: nsenter did not start.');
    child.unref();
    const startTime = startTimeOf(child.pid);
    if (startTime === undefined) throw new InfraError(`The engine's dockerd exited at once; see ${join(daemon.runDir, 'daemon.log')}.`);
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
      throw new InfraError(
        `The engine's dockerd ${isAlive(daemon.process) ? `did not answer within ${timeoutMs / 1000} s` : 'stopped'}: ${logTail(join(daemon.runDir, 'dockerd.log'), 5)}`,
        { hint: `See ${join(daemon.runDir, 'dockerd.log')}.` },
      );
    }
    await sleep(200);
  }
}

/** Kill the daemon's namespaces (and with them every container), then remove its files, network and cgroups. */
export async function removeDaemon(daemon: ProviderDaemon): Promise<void> {
  await killNodeProcess(daemon.process);
  await removeUplink(daemon);
  await removeCgroupsWhenEmpty(daemon.cgroup, "the engine's dockerd");
  await rm(daemon.runDir, { recursive: true, force: true, maxRetries: 3 });
}

export { isAlive };
