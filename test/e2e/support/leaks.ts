import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Everything of ours a run could leave on the machine. The netns driver names
 * every kernel object with a `sm-` / `smb-` / `smv-` prefix and keeps node
 * disks under /var/lib/swarm-molecule, which makes them easy to find here.
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

export function findLeftovers(): Leftovers {
  const namespaces = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith('sm-')) : [];
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(':')[1]?.trim().split('@')[0] ?? '')
    .filter((name) => name.startsWith('smb-') || name.startsWith('smv-'));
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.includes('/var/lib/swarm-molecule') || / \/run\/netns\/sm-/.test(line));
  const processes: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (/\/var\/lib\/swarm-molecule|run\/netns\/sm-|--cgroup-parent \/sm-/.test(args)) processes.push(`${pid} ${args.trim()}`);
    } catch {
      // exited while we looked
    }
  }
  const cgroups: string[] = [];
  for (const hierarchy of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
    const dir = join('/sys/fs/cgroup', hierarchy);
    try {
      cgroups.push(...readdirSync(dir).filter((n) => n.startsWith('sm-')).map((n) => join(dir, n)));
    } catch {
      // not a directory
    }
  }
  const leaseDir = '/run/swarm-molecule/subnets';
  const leases = existsSync(leaseDir) ? readdirSync(leaseDir) : [];
  const nodeDirs = existsSync('/var/lib/swarm-molecule') ? readdirSync('/var/lib/swarm-molecule') : [];
  return { namespaces, links, mounts, processes, cgroups, leases, nodeDirs };
}

export const NOTHING_LEFT: Leftovers = { namespaces: [], links: [], mounts: [], processes: [], cgroups: [], leases: [], nodeDirs: [] };

/**
 * What appeared since `before`: the leftovers of the code run in between, even
 * when other runs (another scenario, another developer's nodes) are live.
 */
export function leftoversSince(before: Leftovers): Leftovers {
  const now = findLeftovers();
  const added = (key: keyof Leftovers) => now[key].filter((item) => !before[key].includes(item));
  return {
    namespaces: added('namespaces'),
    links: added('links'),
    mounts: added('mounts'),
    processes: added('processes'),
    cgroups: added('cgroups'),
    leases: added('leases'),
    nodeDirs: added('nodeDirs'),
  };
}
