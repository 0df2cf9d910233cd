import { z } from 'zod';
import type { Host } from '../api.js';
import { parseAnswer } from './engine.js';
import { swarmNodeSchema, type SwarmNode } from './swarm-info.js';

/** One row of `docker node ls`. */
export interface NodeRow {
  ID: string;
  Hostname: string;
  Status: string;
  Availability: string;
  ManagerStatus: string;
  EngineVersion: string;
}

const nodeRowSchema = z.looseObject({
  ID: z.string(),
  Hostname: z.string(),
  Status: z.string(),
  Availability: z.string(),
  ManagerStatus: z.string(),
  EngineVersion: z.string(),
});

/** The CLI's capitalisation of an API value (`ready` → `Ready`), as `docker node ls` prints it. */
const pretty = (value: string): string => value.charAt(0).toUpperCase() + value.slice(1);

/** A node of `GET /nodes` as the row `docker node ls` shows for it (docker/cli's formatter/node.go). */
export function nodeRowOf(node: SwarmNode): NodeRow {
  const manager = node.ManagerStatus;
  return {
    ID: node.ID,
    Hostname: node.Description?.Hostname ?? '',
    Status: pretty(node.Status.State),
    Availability: pretty(node.Spec.Availability),
    ManagerStatus: manager ? (manager.Leader ? 'Leader' : pretty(manager.Reachability ?? '')) : '',
    EngineVersion: node.Description?.Engine?.EngineVersion ?? '',
  };
}

/** Every node of the swarm as `manager` sees it, sorted by hostname as `docker node ls` sorts them. */
export async function nodeList(manager: Host): Promise<NodeRow[]> {
  // Not a shared read: verify steps ask again and again while the swarm changes.
  const nodes = await manager.engine({ label: 'GET /nodes', call: (docker) => docker.listNodes() });
  if (nodes !== undefined) {
    const rows = parseAnswer(z.array(swarmNodeSchema), nodes, manager, '"GET /nodes"').map(nodeRowOf);
    return rows.sort((a, b) => a.Hostname.localeCompare(b.Hostname, 'en', { numeric: true }));
  }
  const out = await manager.docker(['node', 'ls', '--format', '{{json .}}'], { readOnly: true });
  return out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => parseAnswer(nodeRowSchema, JSON.parse(line), manager, '"docker node ls"'));
}

/** The node list as a small aligned table, for failure messages. */
export function nodeTable(rows: readonly NodeRow[]): string {
  const header = ['HOSTNAME', 'STATUS', 'AVAILABILITY', 'MANAGER STATUS'];
  const lines = [header, ...rows.map((r) => [r.Hostname, r.Status, r.Availability, r.ManagerStatus || '-'])];
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  return lines.map((l) => l.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}
