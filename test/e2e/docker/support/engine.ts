import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { createUplink, planEngine, removeDaemon, socketOf, startDaemon, tcpHostOf, waitForDaemon, type ProviderDaemon } from '../../../../src/drivers/host/engine/index.js';
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

export async function startTestEngine(): Promise<TestEngine> {
  const runId = randomBytes(3).toString('hex');
  const subnet = await leaseSubnet('10.216.0.0/16', { driver: 'test-engine', stateDir: join(ENGINE_DATA_DIR, '.swarm-molecule', 'engine'), runId, runDir: join(ENGINE_DATA_DIR, runId) });
  const daemon = planEngine(ENGINE_PREFIX, runId, subnet, ENGINE_DATA_DIR, { tcpPort: 2375, userlandProxy: true, routes: [DRIVER_POOL] });
  const stop = async () => {
    await removeDaemon(daemon);
    await releaseSubnet(subnet);
  };
  try {
    await createUplink(daemon);
    daemon.process = await startDaemon(daemon);
    await waitForDaemon(daemon, new AbortController().signal);
  } catch (error) {
    await stop();
    throw error;
  }
  return { daemon, socket: socketOf(daemon), tcpHost: tcpHostOf(daemon) ?? '', docker: new Docker({ socketPath: socketOf(daemon) }), stop };
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
