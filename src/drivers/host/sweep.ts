import { rm } from 'node:fs/promises';
import { checkStateDir } from '../state.js';
import type { DriverContext } from '../types.js';
import { leasesOf, releaseSubnet, type Lease, type LeaseOwner } from './leases.js';
import { runDirProblem } from './ownership.js';
import { killProcesses, nodeProcessesOf } from './processes.js';

/** What a driver removes of one run found by its lease, beyond its processes, directory and lease. */
export type RemoveRun = (run: LeaseOwner, lease: Lease) => Promise<string>;

/**
 * Find every run a driver made for this scenario without the state file (by
 * the subnet leases that name the scenario's state directory) and remove it:
 * its processes first (they hold mounts and namespaces), then what `removeRun`
 * knows of (links, namespaces, cgroups), its directory, and last its lease, so
 * that an interrupted sweep can be run again. Says what it removed.
 *
 * A lease's record is checked like a state file: a run whose directory is not
 * exactly `<dataDir>/<runId>` is left alone (and said so), since its processes
 * are found and its directory removed by that path.
 */
export async function sweepRuns(
  ctx: Pick<DriverContext, 'stateDir' | 'scenario' | 'log'>,
  driver: string,
  removeRun: RemoveRun,
  options: {
    dataDir: string;
    /** An argument the run's processes must have besides naming its directory. */
    processMarker?: string;
    /** How the driver finds a run's processes; default: by the run directory its command lines name. */
    processesOf?: (run: LeaseOwner) => Promise<number[]>;
  },
): Promise<string[]> {
  checkStateDir(ctx);
  const removed: string[] = [];
  for (const lease of await leasesOf(driver, ctx.stateDir)) {
    const run = lease.owner;
    const problem = runDirProblem(run.runDir, options.dataDir, run.runId);
    if (problem !== undefined) {
      removed.push(`nothing of the ${driver} lease ${lease.subnet.base}.0/24: its owner record is not one of ours (${problem})`);
      ctx.log(removed.at(-1) ?? '');
      continue;
    }
    const pids = options.processesOf ? await options.processesOf(run) : nodeProcessesOf(run.runDir, options.processMarker);
    await killProcesses(pids);
    const what = await removeRun(run, lease);
    await rm(run.runDir, { recursive: true, force: true, maxRetries: 3 });
    await releaseSubnet(lease.subnet);
    removed.push(`${driver} run ${run.runId}: ${pids.length} process(es), ${what}, subnet ${lease.subnet.base}.0/24`);
    ctx.log(`swept ${removed.at(-1) ?? ''}`);
  }
  return removed;
}
