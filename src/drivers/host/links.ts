import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { InfraError } from '../../errors.js';
import { runOnHost, type HostCommandResult } from './command.js';

/** Names of links that start with `prefix`. */
export async function linksStartingWith(prefix: string): Promise<string[]> {
  const { stdout } = await runOnHost('ip', ['-o', 'link', 'show']);
  return stdout
    .split('\n')
    .map((line) => line.split(':')[1]?.trim().split('@')[0] ?? '')
    .filter((name) => name.startsWith(prefix));
}

export async function linkExists(name: string): Promise<boolean> {
  const { exitCode } = await runOnHost('ip', ['link', 'show', 'dev', name], { allowFailure: true });
  return exitCode === 0;
}

export async function setLink(name: string, state: 'up' | 'down'): Promise<void> {
  if (await linkExists(name)) await runOnHost('ip', ['link', 'set', name, state]);
}

/** Delete a link if it is there; deleting one end of a veth removes the pair. */
export async function deleteLink(name: string): Promise<void> {
  if (await linkExists(name)) await runOnHost('ip', ['link', 'delete', name], { allowFailure: true });
}

export function netnsExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`);
}

export async function addNetns(name: string): Promise<void> {
  if (!netnsExists(name)) await runOnHost('ip', ['netns', 'add', name]);
}

export async function deleteNetns(name: string): Promise<void> {
  if (netnsExists(name)) await runOnHost('ip', ['netns', 'delete', name], { allowFailure: true });
}

/** Named network namespaces that start with `prefix`. */
export async function namespacesStartingWith(prefix: string): Promise<string[]> {
  return existsSync('/run/netns') ? (await readdir('/run/netns')).filter((n) => n.startsWith(prefix)) : [];
}

/**
 * `ip ARGS` inside a named netns. Through nsenter, not `ip netns exec`, which
 * remounts /sys and hides the cgroup mounts from what runs there.
 */
export function ipIn(netns: string, args: readonly string[]): Promise<HostCommandResult> {
  return runOnHost('nsenter', [`--net=/run/netns/${netns}`, 'ip', ...args]);
}

/** Nodes reach only each other and the harness: a default route in their netns is refused. */
export async function refuseDefaultRoute(netns: string, subject: string): Promise<void> {
  const { stdout } = await ipIn(netns, ['-4', 'route', 'show', 'default']);
  if (stdout.trim() !== '') {
    throw new InfraError(`${subject} has a default route (${stdout.trim()}); nodes must reach only each other and the harness.`);
  }
}
