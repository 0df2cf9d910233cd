import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** A process of this machine as /proc shows it: its start time tells it from a later process with its pid. */
export interface ProcessRow {
  pid: number;
  ppid: number;
  startTime: string;
  args: string;
}

/** One process, or undefined when it is gone or a zombie (it has exited). */
export function processRow(pid: number): ProcessRow | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return undefined;
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return { pid, ppid: Number(fields[1]), startTime: fields[19] ?? '', args };
  } catch {
    return undefined;
  }
}

/** Whether the process seen as `row` still runs (the same pid and start time). */
export const stillRuns = (row: ProcessRow): boolean => processRow(row.pid)?.startTime === row.startTime;

/** Inodes of the named network namespaces (/run/netns) of a netns-driver run. */
export function runNamespaces(runId: string | undefined): Set<number> {
  const inodes = new Set<number>();
  if (!runId || !existsSync('/run/netns')) return inodes;
  for (const ns of readdirSync('/run/netns').filter((n) => n.startsWith(`sm-${runId}-`))) {
    try {
      inodes.add(statSync(join('/run/netns', ns)).ino);
    } catch {
      // deleted while we looked
    }
  }
  return inodes;
}

/** The processes descended from `root` (its children until it dies) or running in one of `namespaces` (network namespace inodes). */
export function processesOf(root: number, namespaces: ReadonlySet<number>): ProcessRow[] {
  const rows = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map((p) => processRow(Number(p)))
    .filter((row) => row !== undefined);
  const parent = new Map(rows.map((r) => [r.pid, r.ppid]));
  const descends = (pid: number) => {
    for (let p = parent.get(pid), hops = 0; p !== undefined && p > 1 && hops < 64; p = parent.get(p), hops++) if (p === root) return true;
    return false;
  };
  const inNamespaces = (pid: number) => {
    try {
      return namespaces.has(statSync(`/proc/${pid}/ns/net`).ino);
    } catch {
      return false;
    }
  };
  return rows.filter((r) => descends(r.pid) || inNamespaces(r.pid));
}
