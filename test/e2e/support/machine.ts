import { readFileSync } from 'node:fs';

/**
 * This machine's group-file entries (`/etc/group`, `/etc/gshadow`) whose name
 * starts with `prefix`: what a node sharing the machine's root filesystem would
 * have added. Never the files whole: another suite may add and remove its own
 * user and group meanwhile (CI runs the docker driver's non-root test at the
 * same time, in another lane).
 */
export function machineGroupEntries(prefix: string): string[] {
  return ['/etc/group', '/etc/gshadow'].flatMap((file) => readFileSync(file, 'utf8').split('\n').filter((line) => line.startsWith(prefix)));
}
