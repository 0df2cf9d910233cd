import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Everything of ours a run could leave on the machine. The netns driver names
 * every kernel object with its run id (`sm-<run>-<node>`, `smb-<run>`,
 * `smv-<run>-<i>`, cgroup `/sm-<run>-<node>`) and keeps node disks under
 * /var/lib/swarm-molecule/<run>, which makes a run's objects easy to find here.
 */
export interface Leftovers {
  namespaces: string[];
  links: string[];
  mounts: string[];
  processes: string[];
  cgroups: string[];
  leases: string[];
  nodeDirs: string[];
}

const LEASE_DIR = '/run/swarm-molecule/subnets';
const DATA_DIR = '/var/lib/swarm-molecule';
const CGROUP_ROOT = '/sys/fs/cgroup';

/** This checkout: runs whose state lives under it are this test suite's, not another checkout's. */
const checkout = fileURLToPath(new URL('../../../', import.meta.url));

/** Each lease's owner: a lease is a file holding its owner record (src/drivers/host/leases.ts). */
function leaseOwners(): Map<string, { runId: string; stateDir: string }> {
  const owners = new Map<string, { runId: string; stateDir: string }>();
  for (const lease of existsSync(LEASE_DIR) ? readdirSync(LEASE_DIR) : []) {
    try {
      const owner = JSON.parse(readFileSync(join(LEASE_DIR, lease), 'utf8')) as { stateDir?: unknown; runId?: unknown };
      if (typeof owner.runId === 'string' && typeof owner.stateDir === 'string') owners.set(lease, { runId: owner.runId, stateDir: owner.stateDir });
    } catch {
      // Not written yet, or released while we looked.
    }
  }
  return owners;
}

/** Run ids whose lease owner names a state directory under one of `roots`. */
function leasedRunIds(roots: readonly string[]): string[] {
  return [...leaseOwners().values()].filter((owner) => roots.some((root) => owner.stateDir.startsWith(root))).map((owner) => owner.runId);
}

/** Run ids recorded in the state files under `roots` (`<project>/.swarm-molecule/<scenario>/state.json`). */
function recordedRunIds(roots: readonly string[]): string[] {
  const ids: string[] = [];
  const visit = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name === 'node_modules' || entry.name === '.git') continue;
      const path = join(dir, entry.name);
      if (entry.name === '.swarm-molecule') {
        for (const scenario of readdirSync(path)) {
          try {
            const state = JSON.parse(readFileSync(join(path, scenario, 'state.json'), 'utf8')) as { driverState?: { data?: { runId?: unknown } } };
            const runId = state.driverState?.data?.runId;
            if (typeof runId === 'string') ids.push(runId);
          } catch {
            // no state, or not ours to judge
          }
        }
      } else if (depth > 0) {
        visit(path, depth - 1);
      }
    }
  };
  for (const root of roots) visit(root, 3);
  return ids;
}

/** Top-level `sm-*` cgroups on a pure cgroup-v2 host, and those in each v1 hierarchy. */
export function cgroups(root = CGROUP_ROOT): string[] {
  if (!existsSync(root)) return [];
  const found: string[] = [];
  const dirs = [root, ...readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('sm-')).map((e) => join(root, e.name))];
  for (const dir of dirs) {
    try {
      found.push(...readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && e.name.startsWith('sm-')).map((e) => join(dir, e.name)));
    } catch {
      // not readable
    }
  }
  return found;
}

/** Every object of ours on the machine, of any run (this checkout's or not). */
export function machineLeftovers(): Leftovers {
  const namespaces = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith('sm-')) : [];
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(':')[1]?.trim().split('@')[0] ?? '')
    .filter((name) => name.startsWith('smb-') || name.startsWith('smv-'));
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.includes(DATA_DIR) || / \/run\/netns\/sm-/.test(line));
  const processes: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (/\/var\/lib\/swarm-molecule|run\/netns\/sm-|--cgroup-parent \/sm-/.test(args)) processes.push(`${pid} ${args.trim()}`);
    } catch {
      // exited while we looked
    }
  }
  const leases = existsSync(LEASE_DIR) ? readdirSync(LEASE_DIR) : [];
  const nodeDirs = existsSync(DATA_DIR) ? readdirSync(DATA_DIR) : [];
  return { namespaces, links, mounts, processes, cgroups: cgroups(), leases, nodeDirs };
}

export const NOTHING_LEFT: Leftovers = { namespaces: [], links: [], mounts: [], processes: [], cgroups: [], leases: [], nodeDirs: [] };

/** The objects in `all` that carry one of `runIds` in their name. */
export function leftoversOfRuns(all: Leftovers, runIds: readonly string[], leaseOwners: ReadonlyMap<string, string> = leaseOwnerRunIds()): Leftovers {
  const ids = [...new Set(runIds)];
  const has = (text: string, forms: (id: string) => string[]) => ids.some((id) => forms(id).some((form) => text.includes(form)));
  const named = (id: string) => [`sm-${id}-`, `smb-${id}`, `smv-${id}-`, `${DATA_DIR}/${id}`];
  return {
    namespaces: all.namespaces.filter((n) => has(n, (id) => [`sm-${id}-`])),
    links: all.links.filter((l) => ids.some((id) => l === `smb-${id}` || l.startsWith(`smv-${id}-`))),
    mounts: all.mounts.filter((m) => has(m, (id) => [`${DATA_DIR}/${id}`, `/run/netns/sm-${id}-`])),
    processes: all.processes.filter((p) => has(p, named)),
    cgroups: all.cgroups.filter((c) => has(c, (id) => [`/sm-${id}-`])),
    leases: all.leases.filter((lease) => ids.includes(leaseOwners.get(lease) ?? '\0')),
    nodeDirs: all.nodeDirs.filter((d) => ids.includes(d)),
  };
}

function leaseOwnerRunIds(): Map<string, string> {
  return new Map([...leaseOwners()].map(([lease, owner]) => [lease, owner.runId]));
}

/**
 * The runs a test creates, found while it runs: a run's id is in its lease
 * owner (while it holds a subnet) and in its state file (while it has nodes),
 * both naming a state directory under `roots`. Polled, because a destroyed
 * run leaves neither. Runs that existed when the watch started are not the test's.
 */
class RunWatch {
  readonly #ids = new Set<string>();
  readonly #preexisting: Set<string>;
  readonly #roots: readonly string[];
  readonly #timer: NodeJS.Timeout;
  #polls = 0;

  constructor(roots: readonly string[]) {
    this.#roots = roots;
    this.#preexisting = new Set([...leasedRunIds(roots), ...recordedRunIds(roots)]);
    // Leases are cheap to read and every run holds one from create to destroy; state files less often.
    this.#timer = setInterval(() => this.#poll(this.#polls++ % 10 === 0), 100);
    this.#timer.unref();
  }

  #poll(states: boolean): void {
    for (const id of [...leasedRunIds(this.#roots), ...(states ? recordedRunIds(this.#roots) : [])]) {
      if (!this.#preexisting.has(id)) this.#ids.add(id);
    }
  }

  stop(): string[] {
    clearInterval(this.#timer);
    this.#poll(true);
    return [...this.#ids];
  }
}

/** What a check started by `findLeftovers()` remembers until `leftoversSince`. */
const watches = new WeakMap<Leftovers, RunWatch>();

/**
 * Start a leak check: a snapshot of our objects on the machine, and a watch
 * of the runs created from now on whose state lives under `roots` (default:
 * this checkout). End it with `leftoversSince`.
 */
export function findLeftovers(roots: readonly string[] = [checkout]): Leftovers {
  const before = machineLeftovers();
  watches.set(before, new RunWatch(roots));
  return before;
}

/**
 * What the runs created since `before` left: only objects named with their
 * run ids, so nodes another run (another scenario, another developer's
 * checkout) creates meanwhile never count as this test's leaks.
 */
export function leftoversSince(before: Leftovers): Leftovers {
  const watch = watches.get(before);
  watches.delete(before);
  const runIds = watch ? watch.stop() : [];
  const now = machineLeftovers();
  const added = (key: keyof Leftovers) => now[key].filter((item) => !before[key].includes(item));
  const fresh: Leftovers = {
    namespaces: added('namespaces'),
    links: added('links'),
    mounts: added('mounts'),
    processes: added('processes'),
    cgroups: added('cgroups'),
    leases: added('leases'),
    nodeDirs: added('nodeDirs'),
  };
  return leftoversOfRuns(fresh, runIds);
}
