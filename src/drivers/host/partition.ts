import { isIP } from 'node:net';
import { InfraError, UsageError } from '../../errors.js';
import type { PartitionSides } from '../types.js';
import { hasProgram, runOnHost } from './command.js';
import { netnsExists } from './links.js';

/**
 * Network partitions between nodes that each have their own network namespace
 * on this machine. Each node of a side gets, in its own netns, one nftables
 * table that drops every packet coming from an address of the other side,
 * before conntrack (prerouting, priority raw): raft, gossip, VXLAN and
 * everything else alike, in both directions since both sides drop. Senders see
 * silence, as across a real partition, not refusals (nothing is dropped on
 * output). The harness's own address is never in a set, so SSH still works.
 *
 * nft rather than iptables: one table per node is added and deleted atomically
 * (`nft -f`), it sits beside the tables the node's own dockerd manages without
 * touching them, and the rules live in the node's netns, so they go with it
 * when the node is destroyed; the machine's own ruleset is never touched.
 */
export const PARTITION_TABLE = 'swarm_molecule_partition';

/** A node as a partition sees it: its name, its netns, its address on the node network. */
export interface PartitionNode {
  name: string;
  netns: string;
  address: string;
}

/** What to drop in each node: the addresses across the partition (empty: no table). */
export function partitionPlan(nodes: readonly PartitionNode[], sides: PartitionSides): Map<string, string[]> {
  const known = new Set(nodes.map((n) => n.name));
  const [a, b] = sides;
  const unknown = [...a, ...b].filter((name) => !known.has(name));
  if (unknown.length > 0) throw new UsageError(`Cannot partition: no node named ${unknown.join(', ')} in this scenario.`, { hint: `Nodes: ${[...known].join(', ')}.` });
  if (a.length === 0 || b.length === 0) throw new UsageError('Cannot partition: each side needs at least one node.');
  const both = a.filter((name) => b.includes(name));
  if (both.length > 0) throw new UsageError(`Cannot partition: ${both.join(', ')} is on both sides.`);
  const addressOf = (name: string) => nodes.find((n) => n.name === name)?.address ?? '';
  const plan = new Map<string, string[]>();
  for (const node of nodes) {
    const across = a.includes(node.name) ? b : b.includes(node.name) ? a : [];
    plan.set(node.name, across.map(addressOf));
  }
  return plan;
}

/**
 * The `nft -f` script for one node: replace our table (creating it first makes
 * the delete safe when there is none) with one dropping packets from `dropFrom`;
 * with no address, only remove it.
 */
export function partitionScript(dropFrom: readonly string[]): string {
  for (const address of dropFrom) {
    if (isIP(address) !== 4) throw new InfraError(`Cannot partition: "${address}" is not an IPv4 address.`);
  }
  const lines = [`table inet ${PARTITION_TABLE}`, `delete table inet ${PARTITION_TABLE}`];
  if (dropFrom.length > 0) {
    lines.push(
      `table inet ${PARTITION_TABLE} {`,
      '  chain cut {',
      '    type filter hook prerouting priority raw; policy accept;',
      `    ip saddr { ${dropFrom.join(', ')} } drop`,
      '  }',
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}

function nftIn(netns: string, args: readonly string[], input?: string) {
  return runOnHost('nsenter', [`--net=/run/netns/${netns}`, 'nft', ...args], { ...(input === undefined ? {} : { input }), allowFailure: true });
}

/** Put the partition in place in every node's netns (nodes outside both sides get none). */
export async function applyPartition(nodes: readonly PartitionNode[], sides: PartitionSides): Promise<void> {
  const plan = partitionPlan(nodes, sides);
  if (!(await hasProgram('nft'))) throw new InfraError('Cannot partition the nodes: nft is not installed on this machine.', { hint: 'apt-get install -y nftables' });
  for (const node of nodes) {
    if (!netnsExists(node.netns)) throw new InfraError(`Cannot partition: the network namespace ${node.netns} of ${node.name} is gone.`, { hint: 'Run "swarm-molecule converge" to recreate the nodes.' });
    const result = await nftIn(node.netns, ['-f', '-'], partitionScript(plan.get(node.name) ?? []));
    if (result.exitCode !== 0) throw new InfraError(`Cannot partition ${node.name}: nft failed in ${node.netns}: ${result.stderr.trim()}`);
  }
}

/** Remove the partition's table from every node's netns that still exists; absent tables are fine. */
export async function removePartition(nodes: readonly Pick<PartitionNode, 'name' | 'netns'>[]): Promise<void> {
  for (const node of nodes) {
    if (!netnsExists(node.netns)) continue;
    const result = await nftIn(node.netns, ['-f', '-'], partitionScript([]));
    if (result.exitCode !== 0) throw new InfraError(`Cannot heal the partition on ${node.name}: nft failed in ${node.netns}: ${result.stderr.trim()}`);
  }
}

/** The partition's rules in a netns as `nft` lists them, or `undefined` when there is no such table. */
export async function partitionRulesIn(netns: string): Promise<string | undefined> {
  const result = await nftIn(netns, ['list', 'table', 'inet', PARTITION_TABLE]);
  return result.exitCode === 0 ? result.stdout : undefined;
}
