import { existsSync } from 'node:fs';
import { link, mkdir, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { InfraError } from '../../errors.js';
import { runOnHost } from './command.js';

/**
 * Where subnet leases live: one file per leased /24, holding its owner. Every
 * driver that puts nodes on this machine leases here, so that two runs (of any
 * driver, scenario or checkout) never share a subnet.
 */
const LEASE_DIR = '/run/swarm-molecule/subnets';
/** Owner files are written here first, then linked into LEASE_DIR (same filesystem). */
const PENDING_DIR = '/run/swarm-molecule/subnets.pending';

/** A leased /24. */
export const subnetSchema = z.object({
  /** e.g. `10.213.7` — the network is `<base>.0/24`. */
  base: z.string().regex(/^\d{1,3}\.\d{1,3}\.\d{1,3}$/),
  /** The harness's address on the run's network. */
  gateway: z.string(),
  prefixLength: z.literal(24),
});
export type Subnet = z.infer<typeof subnetSchema>;

/** Who holds a lease: enough to find and remove the run without its state file. */
export const leaseOwnerSchema = z.object({
  /** The driver that made the run; each driver sweeps only its own leases. */
  driver: z.string().min(1),
  /** The scenario's `.swarm-molecule/<scenario>/` directory. */
  stateDir: z.string().min(1),
  runId: z.string().min(1),
  /** Where the run keeps its disks; its processes name it in their arguments. */
  runDir: z.string().min(1),
});
export type LeaseOwner = z.infer<typeof leaseOwnerSchema>;

/** Owner records written by earlier versions (a directory per lease with an `owner` file). */
const legacyOwnerSchema = z.union([
  z.object({ stateDir: z.string(), runId: z.string(), runDir: z.string() }).transform((o): LeaseOwner => ({ driver: 'netns', ...o })),
  z
    .object({ vagrant: z.object({ stateDir: z.string(), runId: z.string(), dataDir: z.string() }) })
    .transform(({ vagrant: o }): LeaseOwner => ({ driver: 'vagrant', stateDir: o.stateDir, runId: o.runId, runDir: join(o.dataDir, o.runId) })),
]);

/** A lease as found on the machine; `owner` is undefined when its record cannot be read. */
export interface Lease {
  subnet: Subnet;
  owner: LeaseOwner | undefined;
}

function subnetOf(base: string): Subnet {
  return { base, gateway: `${base}.1`, prefixLength: 24 };
}

/** Parse a pool like `10.213.0.0/16` into its first two octets. */
function poolOctets(pool: string): [number, number] {
  const match = /^(\d{1,3})\.(\d{1,3})\.0\.0\/16$/.exec(pool);
  if (!match) throw new InfraError(`The subnet pool "${pool}" is not a /16 like 10.213.0.0/16.`);
  return [Number(match[1]), Number(match[2])];
}

/** Whether a leased /24 lies inside a pool like `10.213.0.0/16` (false for a pool that is not one). */
export function inPool(pool: string, subnet: Subnet): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.0\.0\/16$/.exec(pool);
  const octets = subnet.base.split('.').map(Number);
  return match !== null && octets.length === 3 && octets.every((o) => o >= 0 && o <= 255) && octets[0] === Number(match[1]) && octets[1] === Number(match[2]);
}

async function hostRoutes(): Promise<Set<string>> {
  const { stdout } = await runOnHost('ip', ['-4', '-o', 'route', 'show', 'table', 'all']);
  return new Set(stdout.split('\n').map((line) => line.split(' ')[0] ?? ''));
}

/**
 * Lease a /24 from the pool that no other run holds and no host route covers.
 * The lease file is its owner record, made in one step (`link` of a finished
 * file fails if the lease exists): a lease never exists without its owner.
 */
export async function leaseSubnet(pool: string, owner: LeaseOwner): Promise<Subnet> {
  const [a, b] = poolOctets(pool);
  await mkdir(LEASE_DIR, { recursive: true });
  await mkdir(PENDING_DIR, { recursive: true, mode: 0o700 });
  const pending = join(PENDING_DIR, `${owner.runId}.${process.pid}`);
  await writeFile(pending, `${JSON.stringify(leaseOwnerSchema.parse(owner))}\n`, { mode: 0o600 });
  try {
    const routes = await hostRoutes();
    for (let c = 0; c < 256; c++) {
      const base = `${a}.${b}.${c}`;
      if (routes.has(`${base}.0/24`)) continue;
      try {
        await link(pending, join(LEASE_DIR, `${base}.0`));
      } catch {
        continue;
      }
      return subnetOf(base);
    }
  } finally {
    await unlink(pending).catch(() => undefined);
  }
  throw new InfraError(`No free /24 is left in the subnet pool ${pool}.`, {
    hint: 'Destroy scenarios you no longer need ("swarm-molecule destroy --all"), or set driver.options.subnetPool.',
  });
}

export async function releaseSubnet(subnet: Subnet): Promise<void> {
  await rm(join(LEASE_DIR, `${subnet.base}.0`), { recursive: true, force: true });
}

/**
 * The owner record a lease holds, or undefined when it is not one. Records
 * of earlier versions (netns: without `driver`; vagrant: under its own key)
 * are read too, so that a run made before an upgrade can still be swept.
 */
export function parseLeaseOwner(text: string): LeaseOwner | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = z.union([leaseOwnerSchema, legacyOwnerSchema]).safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

async function ownerOf(path: string): Promise<LeaseOwner | undefined> {
  try {
    // Earlier versions made a lease directory with an `owner` file in it.
    const file = (await stat(path)).isDirectory() ? join(path, 'owner') : path;
    return parseLeaseOwner(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Every lease on this machine with its owner, to find runs without their state files. */
export async function allLeases(): Promise<Lease[]> {
  if (!existsSync(LEASE_DIR)) return [];
  const leases: Lease[] = [];
  for (const entry of await readdir(LEASE_DIR)) {
    leases.push({ subnet: subnetOf(entry.replace(/\.0$/, '')), owner: await ownerOf(join(LEASE_DIR, entry)) });
  }
  return leases;
}

/** The leases a driver took for one scenario (its state directory). */
export async function leasesOf(driver: string, stateDir: string): Promise<(Lease & { owner: LeaseOwner })[]> {
  return (await allLeases()).filter((lease): lease is Lease & { owner: LeaseOwner } => lease.owner?.driver === driver && lease.owner.stateDir === stateDir);
}
