import { UsageError } from '../errors.js';
import { netnsDriver } from './netns/index.js';
import type { Driver } from './types.js';

export type { Driver, DriverContext, DriverState, NodeRecord, NodeStatus, SanityProblem } from './types.js';

/** Drivers by the name a scenario gives under `driver.name`; each is loaded only when used. */
const drivers: Record<string, () => Promise<Driver>> = {
  netns: () => Promise.resolve(netnsDriver()),
  vagrant: () => import('./vagrant/index.js').then((m) => m.vagrantDriver()),
  existing: () => import('./existing/index.js').then((m) => m.existingDriver()),
};

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
