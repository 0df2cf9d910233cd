import type { Host } from '../api.js';

/** One row of `docker node ls`. */
export interface NodeRow {
  ID: string;
  Hostname: string;
  Status: string;
  Availability: string;
  ManagerStatus: string;
  EngineVersion: string;
}

export async function nodeList(manager: Host): Promise<NodeRow[]> {
  const out = await manager.docker(['node', 'ls', '--format', '{{json .}}'], { readOnly: true });
  return out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as NodeRow);
}

/** The node list as a small aligned table, for failure messages. */
export function nodeTable(rows: readonly NodeRow[]): string {
  const header = ['HOSTNAME', 'STATUS', 'AVAILABILITY', 'MANAGER STATUS'];
  const lines = [header, ...rows.map((r) => [r.Hostname, r.Status, r.Availability, r.ManagerStatus || '-'])];
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  return lines.map((l) => l.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}
