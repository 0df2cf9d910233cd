import pMap from 'p-map';
import { InfraError } from '../../errors.js';
import { SshConnection, type SshTarget } from '../../transport/index.js';
import type { PartitionSides } from '../types.js';
import { IPTABLES_LIST_PARTITION, iptablesPartitionCommand, partitionPlan } from './partition.js';

/**
 * Partitions applied inside each node over its own SSH connection, with the
 * node's iptables (the chain of `iptablesPartitionCommand`): for nodes this
 * machine can reach but whose network namespace it cannot enter and whose
 * engine it does not hold, such as Vagrant's machines (containers of the
 * docker provider, or VMs). The harness's address is never dropped, so the
 * connection that applies a cut keeps working through it. A node that does not
 * log in as root runs the script with `sudo -n` (Vagrant's VM boxes: `vagrant`
 * with password-less sudo).
 */

/** A node as an SSH partition sees it: how to reach it, and its address on the node network. */
export interface SshPartitionNode {
  target: SshTarget;
  /** The address the other nodes (and Swarm) know it by. */
  address: string;
}

const asRoot = (target: SshTarget, argv: readonly string[]): string[] => (target.user === 'root' ? [...argv] : ['sudo', '-n', ...argv]);

/** Run `argv` as root on one node over a connection of its own, closed after. */
async function runOn(target: SshTarget, argv: readonly string[], signal: AbortSignal): Promise<{ exitCode: number; output: string }> {
  const connection = new SshConnection(target, { timeoutMs: 30_000, signal });
  try {
    const result = await connection.run(asRoot(target, argv), { timeoutMs: 30_000 });
    return { exitCode: result.exitCode, output: `${result.stderr}${result.stdout}`.trim() };
  } finally {
    connection.close();
  }
}

const failure = (what: string, name: string, output: string): InfraError =>
  new InfraError(`Cannot ${what} ${name}: iptables failed on the node: ${output || '(no output)'}`, {
    hint: 'The node needs iptables and root (or password-less sudo); log in with "swarm-molecule login -h NODE" to look.',
  });

/** Put the partition in place on every node at once (nodes outside both sides get no chain). */
export async function applySshPartition(nodes: readonly SshPartitionNode[], sides: PartitionSides, signal: AbortSignal): Promise<void> {
  const plan = partitionPlan(
    nodes.map((n) => ({ name: n.target.name, address: n.address })),
    sides,
  );
  await pMap(nodes, async (node) => {
    const result = await runOn(node.target, iptablesPartitionCommand(plan.get(node.target.name) ?? []), signal);
    if (result.exitCode !== 0) throw failure('partition', node.target.name, result.output);
  });
}

/** Remove the partition's chain from every node; an absent chain is fine. */
export async function removeSshPartition(nodes: readonly SshTarget[], signal: AbortSignal): Promise<void> {
  await pMap(nodes, async (target) => {
    const result = await runOn(target, iptablesPartitionCommand([]), signal);
    if (result.exitCode !== 0) throw failure('heal the partition on', target.name, result.output);
  });
}

/** The partition's rules on a node as `iptables -S` lists them, or `undefined` when there is no chain. */
export async function sshPartitionRules(target: SshTarget, signal: AbortSignal): Promise<string | undefined> {
  const result = await runOn(target, IPTABLES_LIST_PARTITION, signal);
  return result.exitCode === 0 ? result.output : undefined;
}
