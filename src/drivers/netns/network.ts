import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InfraError } from '../../errors.js';
import { runOnHost } from '../../util/host-command.js';

/**
 * Every name this driver gives a kernel object starts with one of these, so
 * that leftovers are easy to find (tests assert there are none).
 */
export const PREFIX = { netns: 'sm-', bridge: 'smb-', veth: 'smv-', cgroup: 'sm-' } as const;

/** Where subnet leases live: a directory per leased /24, made atomically with mkdir. */
const LEASE_DIR = '/run/swarm-molecule/subnets';

export interface Subnet {
  /** e.g. `10.213.7` — the node network is `<base>.0/24`. */
  base: string;
  /** The harness's address on the bridge. */
  gateway: string;
  prefixLength: 24;
}

export function bridgeName(runId: string): string {
  return `${PREFIX.bridge}${runId}`;
}

/** What every host-side veth of a run starts with. */
export function vethPrefix(runId: string): string {
  return `${PREFIX.veth}${runId}-`;
}

/** Host end of a node's veth; the other end is `eth0` inside the node. Fits IFNAMSIZ (15). */
export function vethName(runId: string, index: number): string {
  return `${vethPrefix(runId)}${index}`;
}

export function netnsName(runId: string, node: string): string {
  return `${PREFIX.netns}${runId}-${node}`;
}

export function nodeAddress(subnet: Subnet, index: number): string {
  return `${subnet.base}.${11 + index}`;
}

/** Parse a pool like `10.213.0.0/16` into its first two octets. */
function poolOctets(pool: string): [number, number] {
  const match = /^(\d{1,3})\.(\d{1,3})\.0\.0\/16$/.exec(pool);
  if (!match) throw new InfraError(`The netns subnet pool "${pool}" is not a /16 like 10.213.0.0/16.`);
  return [Number(match[1]), Number(match[2])];
}

async function hostRoutes(): Promise<string[]> {
  const { stdout } = await runOnHost('ip', ['-4', '-o', 'route', 'show', 'table', 'all']);
  return stdout.split('\n').map((line) => line.split(' ')[0] ?? '');
}

/**
 * Lease a /24 from the pool that no other run (of this or another scenario)
 * holds and no host route covers: two runs on one machine never collide.
 */
export async function leaseSubnet(pool: string, owner: string): Promise<Subnet> {
  const [a, b] = poolOctets(pool);
  await mkdir(LEASE_DIR, { recursive: true });
  const routes = new Set(await hostRoutes());
  for (let c = 0; c < 256; c++) {
    const base = `${a}.${b}.${c}`;
    if (routes.has(`${base}.0/24`)) continue;
    const lease = join(LEASE_DIR, `${base}.0`);
    try {
      await mkdir(lease);
    } catch {
      continue;
    }
    await writeFile(join(lease, 'owner'), `${owner}\n`);
    return { base, gateway: `${base}.1`, prefixLength: 24 };
  }
  throw new InfraError(`No free /24 is left in the netns subnet pool ${pool}.`, {
    hint: 'Destroy scenarios you no longer need ("swarm-molecule destroy --all"), or set driver.options.subnetPool.',
  });
}

export async function releaseSubnet(subnet: Subnet): Promise<void> {
  await rm(join(LEASE_DIR, `${subnet.base}.0`), { recursive: true, force: true });
}

/** Every lease with what its owner wrote, to find a run's objects without its state file. */
export async function allLeases(): Promise<{ subnet: Subnet; owner: string }[]> {
  if (!existsSync(LEASE_DIR)) return [];
  const leases: { subnet: Subnet; owner: string }[] = [];
  for (const entry of await readdir(LEASE_DIR)) {
    const owner = (await readFile(join(LEASE_DIR, entry, 'owner'), 'utf8').catch(() => '')).trim();
    const base = entry.replace(/\.0$/, '');
    leases.push({ subnet: { base, gateway: `${base}.1`, prefixLength: 24 }, owner });
  }
  return leases;
}

/** Names of links that start with `prefix`. */
export async function linksStartingWith(prefix: string): Promise<string[]> {
  const { stdout } = await runOnHost('ip', ['-o', 'link', 'show']);
  return stdout
    .split('\n')
    .map((line) => line.split(':')[1]?.trim().split('@')[0] ?? '')
    .filter((name) => name.startsWith(prefix));
}

export async function linkExists(name: string): Promise<boolean> {
  const { exitCode } = await runOnHost('ip', ['link', 'show', 'dev', name], { allowFailure: true });
  return exitCode === 0;
}

export function netnsExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`);
}

/** The run's bridge with the harness's address on it. No NAT, no forwarding rules: nodes reach only each other and us. */
export async function createBridge(runId: string, subnet: Subnet): Promise<void> {
  const bridge = bridgeName(runId);
  if (!(await linkExists(bridge))) {
    await runOnHost('ip', ['link', 'add', 'name', bridge, 'type', 'bridge']);
  }
  await runOnHost('ip', ['addr', 'replace', `${subnet.gateway}/${subnet.prefixLength}`, 'dev', bridge]);
  await runOnHost('ip', ['link', 'set', bridge, 'up']);
}

/**
 * A node's network: its own netns with `lo` and `eth0` (address on the node
 * subnet, on-link route only — never a default route), the host end on the bridge.
 */
export async function createNodeNetwork(runId: string, subnet: Subnet, index: number, node: string): Promise<void> {
  const ns = netnsName(runId, node);
  const veth = vethName(runId, index);
  if (!netnsExists(ns)) await runOnHost('ip', ['netns', 'add', ns]);
  if (!(await linkExists(veth))) {
    await runOnHost('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  }
  await runOnHost('ip', ['link', 'set', veth, 'master', bridgeName(runId), 'up']);
  const inNode = (args: string[]) => runOnHost('nsenter', [`--net=/run/netns/${ns}`, 'ip', ...args]);
  await inNode(['link', 'set', 'lo', 'up']);
  await inNode(['addr', 'replace', `${nodeAddress(subnet, index)}/${subnet.prefixLength}`, 'dev', 'eth0']);
  await inNode(['link', 'set', 'eth0', 'up']);
  const { stdout } = await runOnHost('nsenter', [`--net=/run/netns/${ns}`, 'ip', '-4', 'route', 'show', 'default']);
  if (stdout.trim() !== '') {
    throw new InfraError(`Node ${node} has a default route (${stdout.trim()}); nodes must reach only each other.`);
  }
}

export async function setLink(name: string, state: 'up' | 'down'): Promise<void> {
  if (await linkExists(name)) await runOnHost('ip', ['link', 'set', name, state]);
}

/** Remove a node's netns and veth; absent ones are fine (destroy after a half create). */
export async function removeNodeNetwork(runId: string, index: number, node: string): Promise<void> {
  const ns = netnsName(runId, node);
  if (netnsExists(ns)) await runOnHost('ip', ['netns', 'delete', ns], { allowFailure: true });
  // Deleting the host end removes the pair even if something still pins the netns.
  const veth = vethName(runId, index);
  if (await linkExists(veth)) await runOnHost('ip', ['link', 'delete', veth], { allowFailure: true });
}

export async function removeBridge(runId: string): Promise<void> {
  const bridge = bridgeName(runId);
  if (await linkExists(bridge)) await runOnHost('ip', ['link', 'delete', bridge]);
}
