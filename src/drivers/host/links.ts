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
  noDefaultRoute(stdout, subject);
}

function noDefaultRoute(routes: string, subject: string): void {
  if (routes.trim() !== '') {
    throw new InfraError(`${subject} has a default route (${routes.trim()}); nodes must reach only each other and the harness.`);
  }
}

/**
 * Several `ip` commands in one process (`ip -batch`), in `netns` when given
 * (`ip -n`, which switches only itself): while nodes boot, every process the
 * harness starts costs tens of milliseconds. Stops at the first command that fails.
 */
export async function ipBatch(commands: readonly (readonly string[])[], netns?: string): Promise<HostCommandResult> {
  for (const arg of commands.flat()) {
    // Our own names and addresses; a batch line is split on whitespace.
    if (!/^[\w.:/@-]+$/.test(arg)) throw new InfraError(`Cannot pass "${arg}" to "ip -batch".`);
  }
  const scope = netns === undefined ? [] : ['-n', netns];
  return await runOnHost('ip', ['-4', ...scope, '-batch', '-'], { input: `${commands.map((c) => c.join(' ')).join('\n')}\n` });
}

/** Configure a netns with `ip` commands that print nothing, then refuse a default route in it: one process. */
export async function configureNetns(netns: string, commands: readonly (readonly string[])[], subject: string): Promise<void> {
  const { stdout } = await ipBatch([...commands, ['route', 'show', 'default']], netns);
  noDefaultRoute(stdout, subject);
}
