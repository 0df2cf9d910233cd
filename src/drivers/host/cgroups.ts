import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InfraError } from '../../errors.js';

const ROOT = '/sys/fs/cgroup';

/** The cgroup root and each directory in it (cgroup v1 mounts one hierarchy per controller there). */
function hierarchies(): string[] {
  return [ROOT, ...readdirSync(ROOT, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(ROOT, e.name))];
}

/** `cgroup` in every mounted hierarchy (cgroup v1 has one per controller, v2 just the root). */
function cgroupDirs(cgroup: string): string[] {
  if (!existsSync(ROOT)) return [];
  const name = cgroup.replace(/^\//, '');
  return hierarchies().map((hierarchy) => join(hierarchy, name)).filter((dir) => existsSync(dir));
}

function removeTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeTree(join(dir, entry.name));
  }
  try {
    rmdirSync(dir);
  } catch {
    // Still has processes for a moment after the kill; the caller may retry.
  }
}

/** Top-level cgroups (e.g. `/sm-<run>-<node>`) whose name starts with `prefix`, in any hierarchy. */
export function cgroupsStartingWith(prefix: string): string[] {
  if (!existsSync(ROOT)) return [];
  const names = new Set<string>();
  for (const hierarchy of hierarchies()) {
    try {
      for (const entry of readdirSync(hierarchy, { withFileTypes: true })) if (entry.isDirectory() && entry.name.startsWith(prefix)) names.add(`/${entry.name}`);
    } catch {
      // not readable
    }
  }
  return [...names];
}

/**
 * dockerd leaves empty cgroup directories under its --cgroup-parent; remove
 * them (deepest first) in every hierarchy. Directories still in use stay.
 */
export function removeCgroups(cgroup: string): void {
  for (const dir of cgroupDirs(cgroup)) removeTree(dir);
}

/**
 * Remove a cgroup whose processes were just killed: the kernel reaps them a
 * moment after their namespace's PID 1, so retry until the directories can go.
 */
export async function removeCgroupsWhenEmpty(cgroup: string, what: string, attempts = 50): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    removeCgroups(cgroup);
    const left = cgroupDirs(cgroup);
    if (left.length === 0) return;
    if (attempt >= attempts) throw new InfraError(`The cgroups ${cgroup} of ${what} could not be removed (${left.join(', ')}).`);
    await sleep(100);
  }
}
