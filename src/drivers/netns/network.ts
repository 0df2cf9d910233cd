import { runOnHost } from '../host/command.js';
import { configureNetns, deleteLink, deleteNetns, ipBatch, linkExists, netnsExists } from '../host/links.js';
import type { Subnet } from '../host/leases.js';

/**
 * Every name this driver gives a kernel object starts with one of these, so
 * that leftovers are easy to find (tests assert there are none).
 */
export const PREFIX = { netns: 'sm-', bridge: 'smb-', veth: 'smv-', cgroup: 'sm-' } as const;

export function bridgeName(runId: string): string {
  return `${PREFIX.bridge}${runId}`;
}

/** What every host-side veth of a run starts with. */
export function vethPrefix(runId: string): string {
  return `${PREFIX.veth}${runId}-`;
}

/** Host end of a node's veth; the other end is `eth0` inside the node. Fits IFNAMSIZ (15). */
export function vethName(runId: string, index: number): string {
  return `${vethPrefix(runId)}${index}`;
}

export function netnsName(runId: string, node: string): string {
  return `${PREFIX.netns}${runId}-${node}`;
}

export function nodeAddress(subnet: Subnet, index: number): string {
  return `${subnet.base}.${11 + index}`;
}

/** The run's bridge with the harness's address on it. No NAT, no forwarding rules: nodes reach only each other and us. */
export async function createBridge(runId: string, subnet: Subnet): Promise<void> {
  const bridge = bridgeName(runId);
  await ipBatch([
    ...((await linkExists(bridge)) ? [] : [['link', 'add', 'name', bridge, 'type', 'bridge']]),
    ['addr', 'replace', `${subnet.gateway}/${subnet.prefixLength}`, 'dev', bridge],
    ['link', 'set', bridge, 'up'],
  ]);
}

/**
 * A node's network: its own netns with `lo` and `eth0` (address on the node
 * subnet, on-link route only — never a default route), the host end on the bridge.
 */
export async function createNodeNetwork(runId: string, subnet: Subnet, index: number, node: string): Promise<void> {
  const ns = netnsName(runId, node);
  const veth = vethName(runId, index);
  // Two processes for a new node (all nodes start at once, and every process the
  // harness starts is a fork of the harness): the netns is made in the same
  // `ip -batch` as the veth. A veth lives only as long as the netns its peer is
  // in, so a netns made just now has none yet.
  const fresh = !netnsExists(ns);
  await ipBatch([
    ...(fresh ? [['netns', 'add', ns]] : []),
    ...(fresh || !(await linkExists(veth)) ? [['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]] : []),
    ['link', 'set', veth, 'master', bridgeName(runId), 'up'],
  ]);
  const address = `${nodeAddress(subnet, index)}/${subnet.prefixLength}`;
  await configureNetns(ns, [['link', 'set', 'lo', 'up'], ['addr', 'replace', address, 'dev', 'eth0'], ['link', 'set', 'eth0', 'up']], `Node ${node}`);
}

/** Remove a node's netns and veth; absent ones are fine (destroy after a half create). */
export async function removeNodeNetwork(runId: string, index: number, node: string): Promise<void> {
  await deleteNetns(netnsName(runId, node));
  // Deleting the host end removes the pair even if something still pins the netns.
  await deleteLink(vethName(runId, index));
}

export async function removeBridge(runId: string): Promise<void> {
  const bridge = bridgeName(runId);
  if (await linkExists(bridge)) await runOnHost('ip', ['link', 'delete', bridge]);
}

