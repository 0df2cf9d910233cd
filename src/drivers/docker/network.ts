import type Docker from 'dockerode';
import { InfraError, Interrupted } from '../../errors.js';
import { runOnHost } from '../host/command.js';
import { allLeases } from '../host/leases.js';
import { engineMessage } from '../../transport/docker-engine/client.js';

/**
 * Make the run's bridge network on a /24 of the pool that no other run holds:
 * neither a lease of a driver on this machine (netns, vagrant) nor a network
 * on the engine. The engine refuses an overlapping subnet in one step, so two
 * runs racing for the same /24 get two. Returns the /24's base (`10.215.3`).
 */
export async function pickSubnet(docker: Docker, pool: string, name: string, labels: Record<string, string>, signal: AbortSignal): Promise<string> {
  const [a, b] = pool.split('.');
  const leased = new Set((await allLeases().catch(() => [])).map((lease) => lease.subnet.base));
  for (let c = 0; c < 256; c++) {
    if (signal.aborted) throw new Interrupted(String(signal.reason ?? 'signal'));
    const base = `${a}.${b}.${c}`;
    if (leased.has(base)) continue;
    try {
      await docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        CheckDuplicate: true,
        IPAM: { Driver: 'default', Config: [{ Subnet: `${base}.0/24`, Gateway: `${base}.1` }] },
        Labels: labels,
      });
      return base;
    } catch (error) {
      if (/overlap/i.test(engineMessage(error))) continue;
      throw new InfraError(`The engine could not make the network ${name}: ${engineMessage(error)}`);
    }
  }
  throw new InfraError(`No free /24 is left in the subnet pool ${pool} on the engine.`, {
    hint: 'Destroy scenarios you no longer need ("swarm-molecule destroy --all"), or set driver.options.subnetPool.',
  });
}

/**
 * The /24 base (`172.30.0`) of a network the user named (`driver.options.network`):
 * it must exist on the engine, be one nodes can get fixed addresses on (a
 * user-defined network with an IPv4 subnet of /24 or wider), and not be ours.
 */
export async function userNetworkBase(docker: Docker, name: string): Promise<string> {
  let network: { Name?: string; Driver?: string; IPAM?: { Config?: { Subnet?: string }[] }; Labels?: Record<string, string> | null };
  try {
    network = (await docker.getNetwork(name).inspect());
  } catch (error) {
    throw new InfraError(`The network ${name} (driver.options.network) is not on the engine: ${engineMessage(error)}`, {
      hint: `Make it first (e.g. "docker network create --subnet 172.30.0.0/24 ${name}"), or remove driver.options.network to get one network per run.`,
    });
  }
  const subnets = (network.IPAM?.Config ?? []).map((c) => c.Subnet ?? '').filter((s) => /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(s));
  const ipv4 = subnets.find((s) => Number(s.split('/')[1]) <= 24);
  if (!ipv4 || ['host', 'none', 'null'].includes(network.Driver ?? '') || ['bridge', 'host', 'none'].includes(network.Name ?? name)) {
    throw new InfraError(`Nodes cannot take fixed addresses on the network ${name} (driver.options.network): it needs to be a user-defined network with an IPv4 subnet of /24 or wider (it has ${subnets.join(', ') || 'none'}).`, {
      hint: `Make one with "docker network create --subnet 172.30.0.0/24 NAME", or remove driver.options.network.`,
    });
  }
  const [a, b, c] = (ipv4.split('/')[0] ?? '').split('.');
  return `${a ?? ''}.${b ?? ''}.${c ?? ''}`;
}

/** A route of this machine: the source address it sends from, and its next hop (none on link). */
export interface HostRoute {
  source: string;
  via: string | undefined;
  dev: string;
}

const field = (line: string, name: string) => new RegExp(`\\b${name} (\\S+)`).exec(line)?.[1];

/**
 * How this machine reaches `address`, unless only by its default route (then
 * the address is not routed here, it would just leave the machine): undefined.
 */
export async function routeFrom(address: string): Promise<HostRoute | undefined> {
  const got = await runOnHost('ip', ['-4', '-o', 'route', 'get', address], { allowFailure: true }).catch(() => undefined);
  if (!got || got.exitCode !== 0) return undefined;
  const line = got.stdout.split('\n')[0] ?? '';
  const route = { source: field(line, 'src') ?? '', via: field(line, 'via'), dev: field(line, 'dev') ?? '' };
  if (!route.source || !route.dev) return undefined;
  const defaults = await runOnHost('ip', ['-4', '-o', 'route', 'show', 'default'], { allowFailure: true }).catch(() => undefined);
  const viaDefault = (defaults?.stdout ?? '')
    .split('\n')
    .filter(Boolean)
    .some((d) => field(d, 'via') === route.via && field(d, 'dev') === route.dev);
  return viaDefault ? undefined : route;
}
