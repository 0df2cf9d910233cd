import type { Subnet } from '../host/leases.js';
import { planEngine, type ProviderDaemon } from '../host/engine/index.js';

export { addresses, createUplink, DAEMON_MARKER, dockerEnv, isAlive, providerDaemonSchema, removeDaemon, startDaemon, waitForDaemon, type ProviderDaemon } from '../host/engine/index.js';

/** Every name of the docker provider's engine starts with this (not `sm-`/`smv-`, which are the netns driver's). */
export const PREFIX = 'smvg-';

/** The docker provider's engine of a run: one per run, its names from the run id. */
export function planDaemon(runId: string, subnet: Subnet, dataDir: string): ProviderDaemon {
  return planEngine(PREFIX, runId, subnet, dataDir);
}
