import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { expectMade, refuse, type OwnershipContext } from '../state.js';
import { inPool, type Lease, type LeaseOwner, type Subnet } from './leases.js';
import { startTimeOf, type NodeProcess } from './processes.js';

/**
 * Checks that what a state file (or a lease's owner record) names is what a
 * driver making nodes on this machine would have made itself. Each refuses
 * (see `refuse`) with the field it checked; none touches anything.
 */

/** A run id as drivers make them (`randomBytes(3)` in hex): no `/`, no `..`. */
const RUN_ID = /^[0-9a-f]{6,32}$/;
/** A node name as scenarios give them (an RFC 1123 label, as in the scenario schema). */
const NODE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function checkRunId(ctx: OwnershipContext, field: string, runId: string): void {
  if (!RUN_ID.test(runId)) refuse(ctx, field, `${JSON.stringify(runId)} is not a run id (6 to 32 hex digits)`);
}

export function checkNodeName(ctx: OwnershipContext, field: string, name: string): void {
  if (!NODE_NAME.test(name)) refuse(ctx, field, `${JSON.stringify(name)} is not a node name`);
}

function realpathOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Why `dir` is not exactly `<parent>/<name>` (undefined when it is): when it
 * exists it must be that directory itself, no symbolic link (of it or above
 * it) leading elsewhere.
 */
export function dirProblem(dir: string, parent: string, name: string): string | undefined {
  if (!isAbsolute(parent)) return `its parent ${JSON.stringify(parent)} is not an absolute path`;
  const expected = join(parent, name);
  if (dir !== expected) return `${JSON.stringify(dir)} is not ${JSON.stringify(expected)}`;
  if (!exists(dir)) return undefined;
  if (lstatSync(dir).isSymbolicLink()) return `${dir} is a symbolic link`;
  const real = realpathOrUndefined(dir);
  const realParent = realpathOrUndefined(parent);
  if (real === undefined || realParent === undefined || real !== join(realParent, name)) return `${dir} resolves to ${real ?? 'nothing'}, outside ${parent}`;
  return undefined;
}

export function checkDirIn(ctx: OwnershipContext, field: string, dir: string, parent: string, name: string): void {
  const problem = dirProblem(dir, parent, name);
  if (problem !== undefined) refuse(ctx, field, problem);
}

/** Why a run id or run directory is not one a driver with data root `dataDir` made, or undefined. */
export function runDirProblem(runDir: string, dataDir: string, runId: string): string | undefined {
  if (!RUN_ID.test(runId)) return `${JSON.stringify(runId)} is not a run id (6 to 32 hex digits)`;
  return dirProblem(runDir, dataDir, runId);
}

/** A run's directory: exactly `<dataDir>/<runId>` under the driver's data root. */
export function checkRunDir(ctx: OwnershipContext, field: string, runDir: string, dataDir: string, runId: string): void {
  const problem = runDirProblem(runDir, dataDir, runId);
  if (problem !== undefined) refuse(ctx, field, problem);
}

/**
 * The run's /24 is inside the driver's pool and is leased to this very run
 * (driver, state directory, run id and run directory). When no lease holds it
 * (the machine lost its leases in a reboot), no other lease may name the run.
 */
export function checkSubnet(ctx: OwnershipContext, field: string, subnet: Subnet, pool: string, owner: LeaseOwner, leases: readonly Lease[]): void {
  if (!inPool(pool, subnet)) refuse(ctx, field, `${subnet.base}.0/24 is not inside the subnet pool ${pool}`);
  expectMade(ctx, `${field}.gateway`, subnet.gateway, `${subnet.base}.1`);
  const lease = leases.find((l) => l.subnet.base === subnet.base);
  const same = (o: LeaseOwner | undefined) =>
    o !== undefined && o.driver === owner.driver && o.stateDir === owner.stateDir && o.runId === owner.runId && o.runDir === owner.runDir;
  if (lease) {
    // The other owner's path is not shown: lease records say which project holds them.
    if (!same(lease.owner)) refuse(ctx, field, `${subnet.base}.0/24 is leased to another run`);
    return;
  }
  const claimed = leases.find((l) => l.owner !== undefined && (l.owner.runId === owner.runId || l.owner.runDir === owner.runDir));
  if (claimed && !same(claimed.owner)) refuse(ctx, field, `run ${owner.runId} is another scenario's (its lease is ${claimed.subnet.base}.0/24)`);
}

function cmdlineOf(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
}

/**
 * A recorded process is signalled only when it is ours: when the process now
 * at that PID started when recorded (else it is never signalled: `isAlive` is
 * false) its arguments must name `path` (a node's or daemon's directory) or
 * something under it, as every process we start does.
 */
export function checkProcess(ctx: OwnershipContext, field: string, recorded: NodeProcess | undefined, path: string): void {
  if (!recorded) return;
  if (startTimeOf(recorded.pid) !== recorded.startTime) return;
  const args = cmdlineOf(recorded.pid);
  if (args === undefined) return;
  if (!args.some((arg) => arg === path || arg.startsWith(`${path}/`))) {
    refuse(ctx, field, `PID ${recorded.pid} is a process that swarm-molecule did not start for ${path}`);
  }
}
