import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { execa } from 'execa';
import { addresses, createUplink, planEngine, removeDaemon, socketOf, startDaemon, tcpHostOf, waitForDaemon, type ProviderDaemon } from '../../../../src/drivers/host/engine/index.js';
import { leaseSubnet, releaseSubnet } from '../../../../src/drivers/host/leases.js';

/**
 * "The engine" of the docker driver's tests: a project-owned dockerd in its own
 * network namespace with no route out (`--iptables=false`), never this
 * machine's network. Reached over its unix socket, or over tcp on the
 * namespace's end of its veth. The docker driver's default pool is routed into
 * the namespace, so a local run reaches its nodes at their addresses.
 */
export interface TestEngine {
  daemon: ProviderDaemon;
  socket: string;
  /** `tcp://<namespace address>:2375`. */
  tcpHost: string;
  /** An API client over the socket, for the tests' own looks at the engine. */
  docker: Docker;
  stop(): Promise<void>;
}

/** Every kernel object of a test engine starts with this. */
export const ENGINE_PREFIX = 'smde-';
export const ENGINE_DATA_DIR = '/var/lib/sm-test-engine';
/** The docker driver's default subnet pool, routed into the engine's namespace. */
export const DRIVER_POOL = '10.215.0.0/16';

/**
 * Start a test engine. With `nodes` (the default) the docker driver runs its
 * nodes on it, so the driver's pool is routed into its namespace; one route
 * per machine can do that, so it is claimed with `ip route add` (never
 * replaced: replacing took the route from an engine another suite's nodes were
 * on, and every SSH connection to them stalled) and, while another test engine
 * holds it, waited for. An engine only used as an image source takes no route.
 */
export async function startTestEngine(options: { nodes?: boolean } = {}): Promise<TestEngine> {
  const runId = randomBytes(3).toString('hex');
  const subnet = await leaseSubnet('10.216.0.0/16', { driver: 'test-engine', stateDir: join(ENGINE_DATA_DIR, '.swarm-molecule', 'engine'), runId, runDir: join(ENGINE_DATA_DIR, runId) });
  const daemon = planEngine(ENGINE_PREFIX, runId, subnet, ENGINE_DATA_DIR, { tcpPort: 2375, userlandProxy: true });
  const stop = async () => {
    // Deleting the engine's veth deletes the pool's route through it too.
    await removeDaemon(daemon);
    await releaseSubnet(subnet);
  };
  try {
    await createUplink(daemon);
    if (options.nodes ?? true) await claimDriverPool(daemon);
    daemon.process = await startDaemon(daemon);
    await waitForDaemon(daemon, new AbortController().signal);
  } catch (error) {
    await stop();
    throw error;
  }
  return { daemon, socket: socketOf(daemon), tcpHost: tcpHostOf(daemon) ?? '', docker: new Docker({ socketPath: socketOf(daemon) }), stop };
}

/** How long a test engine waits for another one to give the driver pool's route back. */
const CLAIM_TIMEOUT_MS = 240_000;

/** Route the docker driver's pool into `daemon`'s namespace, once no other engine on this machine has it. */
async function claimDriverPool(daemon: ProviderDaemon): Promise<void> {
  const a = addresses(daemon.subnet);
  const deadline = Date.now() + CLAIM_TIMEOUT_MS;
  let said = false;
  for (;;) {
    const added = await execa('ip', ['route', 'add', DRIVER_POOL, 'via', a.uplink, 'dev', daemon.veth, 'src', a.harness], { reject: false });
    if (added.exitCode === 0) return;
    if (!/File exists/i.test(added.stderr)) throw new Error(`Cannot route ${DRIVER_POOL} into the test engine's namespace: ${added.stderr}`);
    const holder = (await execa('ip', ['route', 'show', DRIVER_POOL], { reject: false })).stdout.trim();
    if (Date.now() > deadline) {
      throw new Error(`Another test engine still holds the route to the docker driver's pool after ${CLAIM_TIMEOUT_MS / 1000} s (${holder}): is a test suite that runs docker-driver nodes running, or was one killed? Its engine's veth is named in the route.`);
    }
    if (!said) process.stderr.write(`test engine ${daemon.netns}: waiting for the engine that holds ${holder} to stop (the docker driver's nodes of one engine at a time)\n`);
    said = true;
    await sleep(2000);
  }
}

/** Every container, volume and network on the engine that is not the engine's own (its default networks). */
export async function objectsOn(docker: Docker): Promise<string[]> {
  const containers = (await docker.listContainers({ all: true })).map((c) => `container ${c.Names.join(',')}`);
  const volumes = ((await docker.listVolumes()).Volumes ?? []).map((v) => `volume ${v.Name}`);
  const networks = (await docker.listNetworks()).filter((n) => !['bridge', 'host', 'none'].includes(n.Name)).map((n) => `network ${n.Name}`);
  return [...containers, ...volumes, ...networks].sort();
}

/** Test engines left by an earlier, killed test run. */
export const engineLeftovers = (): string[] => (existsSync(ENGINE_DATA_DIR) ? readdirSync(ENGINE_DATA_DIR).filter((n) => n !== '.swarm-molecule') : []);
