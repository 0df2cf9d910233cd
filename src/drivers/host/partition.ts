import { isIP } from 'node:net';
import { z } from 'zod';
import { InfraError, UsageError } from '../../errors.js';
import type { PartitionSides } from '../types.js';
import { hasProgram, runOnHost } from './command.js';
import { netnsExists } from './links.js';
import { pauseAt } from './test-hooks.js';

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

/**
 * The partition in place, as a driver's run state keeps it: recorded before its
 * rules are applied and cleared after they are removed, so that whatever a kill
 * leaves is known (and healed by the next converge, removed by destroy).
 */
export const partitionRecordSchema = z.object({ sides: z.tuple([z.array(z.string()), z.array(z.string())]) });
export type PartitionRecord = z.infer<typeof partitionRecordSchema>;

/** The record of `sides`, copied (the state is saved as it is). */
export const partitionRecord = (sides: PartitionSides): PartitionRecord => ({ sides: [[...sides[0]], [...sides[1]]] });

/** `a, b | c, d`, for progress lines. */
export const sidesText = (sides: PartitionSides): string => `${sides[0].join(', ')} | ${sides[1].join(', ')}`;

/** What `partitionInState` and `healInState` need of a driver's context and state (a typed driver's). */
interface PartitionContext<S> {
  record(state: S): Promise<void>;
  log(line: string): void;
  signal: AbortSignal;
}
type PartitionedState = { run: { partition?: PartitionRecord } | undefined };

function runOf<S extends PartitionedState>(state: S): NonNullable<S['run']> {
  if (!state.run) throw new InfraError('This scenario has no nodes to partition.', { hint: 'Run "swarm-molecule create" first.' });
  return state.run;
}

/**
 * A driver's `partition`: the sides recorded in its state first (intent), then
 * `apply` puts the rules in place; the test hook may hold it there.
 */
export async function partitionInState<S extends PartitionedState>(ctx: PartitionContext<S>, state: S, sides: PartitionSides, apply: () => Promise<void>): Promise<S> {
  const next = { ...state, run: { ...runOf(state), partition: partitionRecord(sides) } };
  await ctx.record(next);
  await apply();
  ctx.log(`partition in place: ${sidesText(sides)}`);
  await pauseAt('partitioned', ctx.signal);
  return next;
}

/** A driver's `heal`: `remove` takes the rules away (absent ones are fine), then the record goes. */
export async function healInState<S extends PartitionedState>(ctx: PartitionContext<S>, state: S, remove: () => Promise<void>): Promise<S> {
  const { partition, ...rest } = runOf(state);
  await remove();
  const next = { ...state, run: rest };
  if (partition) {
    await ctx.record(next);
    ctx.log(`partition healed: ${sidesText(partition.sides)}`);
  }
  return next;
}

/** A partition a killed or interrupted run left recorded: said, then healed with the driver's own `heal`. */
export async function healLeftover<S extends PartitionedState>(ctx: PartitionContext<S>, state: S, heal: (state: S) => Promise<S>): Promise<S> {
  const partition = state.run?.partition;
  if (!partition) return state;
  ctx.log(`removing the partition ${sidesText(partition.sides)} left in place`);
  return await heal(state);
}

/** What to drop in each node: the addresses across the partition (empty: no rule). */
export function partitionPlan(nodes: readonly Pick<PartitionNode, 'name' | 'address'>[], sides: PartitionSides): Map<string, string[]> {
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

/** The addresses, each checked to be IPv4 (they end up in a rule). */
function checkedAddresses(dropFrom: readonly string[]): readonly string[] {
  for (const address of dropFrom) {
    if (isIP(address) !== 4) throw new InfraError(`Cannot partition: "${address}" is not an IPv4 address.`);
  }
  return dropFrom;
}

/**
 * The `nft -f` script for one node: replace our table (creating it first makes
 * the delete safe when there is none) with one dropping packets from `dropFrom`;
 * with no address, only remove it.
 */
export function partitionScript(dropFrom: readonly string[]): string {
  checkedAddresses(dropFrom);
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

/**
 * The same partition applied from inside a node, with the node's own iptables
 * (for nodes whose network namespace this machine cannot enter: the docker
 * driver's containers, whose engine may run in another PID namespace or on
 * another machine). The node image has iptables and the node NET_ADMIN, both
 * for its own dockerd. One chain of ours in the raw table, jumped to first from
 * PREROUTING: every packet from an address across the partition is dropped
 * before conntrack, whatever its protocol; dockerd 20.10 never touches the raw
 * table. The chain is built before the jump is inserted, so the cut starts at
 * once; healing removes the jump, then the chain.
 */
export const PARTITION_CHAIN = 'SWARM_MOLECULE_PARTITION';

/**
 * The `sh -c` script and its arguments that replace the partition inside a
 * node: it drops packets from the addresses given as arguments (none: it only
 * removes the chain). Addresses are arguments, never spliced into the script.
 */
export function iptablesPartitionCommand(dropFrom: readonly string[]): string[] {
  const script = [
    'set -e',
    `c=${PARTITION_CHAIN}`,
    'while iptables -w -t raw -D PREROUTING -j "$c" 2>/dev/null; do :; done',
    'if iptables -w -t raw -n -L "$c" >/dev/null 2>&1; then iptables -w -t raw -F "$c"; iptables -w -t raw -X "$c"; fi',
    '[ "$#" -gt 0 ] || exit 0',
    'iptables -w -t raw -N "$c"',
    'for a in "$@"; do iptables -w -t raw -A "$c" -s "$a/32" -j DROP; done',
    'iptables -w -t raw -I PREROUTING 1 -j "$c"',
  ].join('\n');
  return ['sh', '-c', script, 'sh', ...checkedAddresses(dropFrom)];
}

/** Lists the partition chain's rules inside a node (`iptables -S`); exits non-zero when there is none. */
export const IPTABLES_LIST_PARTITION = ['iptables', '-w', '-t', 'raw', '-S', PARTITION_CHAIN];
