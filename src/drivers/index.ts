import { UsageError } from '../errors.js';
import type { z } from 'zod';
import type { Driver, DriverCapability } from './types.js';

export type { Driver, DriverCapability, DriverContext, DriverState, NodeRecord, NodeStatus, PartitionSides, SanityProblem } from './types.js';

/** Drivers by the name a scenario gives under `driver.name`; each is loaded only when used. */
const drivers: Record<string, () => Promise<Driver>> = {
  netns: () => import('./netns/index.js').then((m) => m.netnsDriver()),
  vagrant: () => import('./vagrant/index.js').then((m) => m.vagrantDriver()),
  existing: () => import('./existing/index.js').then((m) => m.existingDriver()),
  docker: () => import('./docker/index.js').then((m) => m.dockerDriver()),
};

/** Each driver's `driver.options` schema, for `syntax` to check with positions before anything is made. */
const optionSchemas: Record<string, () => Promise<z.ZodType>> = {
  netns: () => import('./netns/options.js').then((m) => m.optionsSchema),
  vagrant: () => import('./vagrant/options.js').then((m) => m.optionsSchema),
  existing: () => import('./existing/index.js').then((m) => m.optionsSchema),
  docker: () => import('./docker/options.js').then((m) => m.optionsSchema),
};

/**
 * What each driver can do beyond making nodes, known without loading it, so that
 * `syntax` refuses a step the scenario's driver cannot serve. netns filters in
 * the nodes' namespaces on this machine, docker inside its node containers
 * (through the engine, local or remote), vagrant inside its machines over SSH
 * (their own iptables). existing only when its options say how (see below): a
 * user's host is not ours to filter unasked.
 */
const capabilities: Record<string, readonly DriverCapability[]> = {
  netns: ['partition'],
  vagrant: ['partition'],
  existing: [],
  docker: ['partition'],
};

/**
 * Capabilities a driver has only on request, under the option of the same
 * name, and what to tell a user who has not asked: the existing driver's hosts
 * are the user's, so it partitions them only when `options.partition` says how
 * (its schema checks the value itself).
 */
const onRequest: Record<string, Partial<Record<DriverCapability, string>>> = {
  existing: {
    partition: `Set driver.options.partition: "iptables" (swarm-molecule's own chain on each host, over SSH) or { apply: [...], heal: [...] } commands of yours`,
  },
};

/** What the scenario's driver can do with its options. */
export function driverCapabilities(name: string, options?: unknown): readonly DriverCapability[] {
  const asked = Object.keys(onRequest[name] ?? {}).filter((capability) => typeof options === 'object' && options !== null && capability in options) as DriverCapability[];
  return [...(capabilities[name] ?? []), ...asked];
}

/** How to turn on a capability the driver has only on request, or undefined when it has none such. */
export function capabilityOnRequest(name: string, capability: DriverCapability): string | undefined {
  return onRequest[name]?.[capability];
}

/** Drivers that have a capability, for a message that says which to use. */
export function driversWith(capability: DriverCapability): string[] {
  return Object.entries(capabilities)
    .filter(([, has]) => has.includes(capability))
    .map(([name]) => name);
}

/** The schema of a driver's options; undefined for a driver that is not available. */
export async function driverOptionsSchema(name: string): Promise<z.ZodType | undefined> {
  return await optionSchemas[name]?.();
}

export function knownDrivers(): string[] {
  return Object.keys(drivers);
}

export async function driverFor(name: string): Promise<Driver> {
  const load = drivers[name];
  if (!load) {
    throw new UsageError(`The driver "${name}" is not available.`, { hint: `Drivers: ${Object.keys(drivers).join(', ')}.` });
  }
  return await load();
}
