import type { PlatformConfig } from '../../config/index.js';
import { quoteCommand, type SshTarget } from '../../transport/index.js';

/** The host variable holding each node's own address, for `--advertise-addr`. */
export const ADDRESS_VAR = 'swarm_molecule_address';
/** The host variable holding the platform's swarm labels. */
export const LABELS_VAR = 'swarm_molecule_labels';

/** Groups Ansible makes itself: a platform cannot add hosts to them. */
const IMPLICIT_GROUPS = new Set(['all', 'ungrouped']);

type Vars = Record<string, unknown>;

/** Ansible's YAML inventory format (written as JSON, which the YAML plugin reads). */
export interface Inventory {
  all: {
    vars: Vars;
    hosts: Record<string, Vars>;
    children: Record<string, { hosts: Record<string, Vars>; vars?: Vars }>;
  };
}

export interface InventoryInput {
  platforms: readonly PlatformConfig[];
  /** The nodes as the driver recorded them; absent for the offline syntax check. */
  /** How to reach each node, and its own address on the node network where that differs from `host`. */
  targets?: readonly (SshTarget & { address?: string | undefined })[];
  /** The driver's name: netns nodes are this machine, so its Python is theirs. */
  driver: string;
  /** known_hosts file built from the recorded host keys (see `knownHosts`). */
  knownHostsFile?: string;
  /** The scenario's `ansible.hostVars` and `ansible.groupVars` (Molecule's host_vars, group_vars): they win over ours. */
  hostVars?: Record<string, Vars>;
  groupVars?: Record<string, Vars>;
}

/**
 * The inventory of a scenario: one host per platform, in the groups the
 * platform declares (exactly as written: `swarm-leader`, `swarm-manager`, …),
 * with the connection variables from the driver's node records and the node's
 * own address in `swarm_molecule_address` — nodes may have no default route,
 * so Ansible's `ansible_default_ipv4` can be empty.
 */
export function buildInventory(input: InventoryInput): Inventory {
  const hosts: Record<string, Vars> = {};
  const children: Inventory['all']['children'] = {};
  for (const platform of input.platforms) {
    const target = input.targets?.find((t) => t.name === platform.name);
    const address = target?.address ?? target?.host ?? platform.address;
    hosts[platform.name] = {
      ...(target
        ? {
            ansible_host: target.host,
            ansible_port: target.port,
            ansible_user: target.user,
            ansible_ssh_private_key_file: target.identityFile,
          }
        : {}),
      ...(address !== undefined ? { [ADDRESS_VAR]: address } : {}),
      [LABELS_VAR]: { ...platform.labels },
      ...input.hostVars?.[platform.name],
    };
    for (const group of platform.groups) {
      if (IMPLICIT_GROUPS.has(group)) continue;
      (children[group] ??= { hosts: {} }).hosts[platform.name] = {};
    }
  }
  for (const [group, vars] of Object.entries(input.groupVars ?? {})) {
    if (group === 'all' || children[group] === undefined) continue;
    children[group].vars = { ...vars };
  }
  return { all: { vars: { ...connectionVars(input), ...input.groupVars?.all }, hosts, children } };
}

function connectionVars(input: InventoryInput): Vars {
  const vars: Vars = {
    // The nodes' sshd may have no sftp subsystem (netns nodes have none): copy
    // files over the SSH session itself instead of trying sftp and scp first.
    ansible_ssh_transfer_method: 'piped',
    // Discovery costs a round trip per host; netns nodes share this machine's /usr.
    ansible_python_interpreter: input.driver === 'netns' ? '/usr/bin/python3' : 'auto_silent',
  };
  if (input.knownHostsFile !== undefined) {
    // Recorded host keys are checked; a driver without them trusts each node's
    // first key and then checks it (accept-new), like the harness's own SSH.
    const recorded = input.targets !== undefined && input.targets.length > 0 && input.targets.every((t) => t.hostKey !== undefined);
    // Ansible splits these with shlex: quote as for a POSIX shell.
    vars.ansible_ssh_common_args = quoteCommand([
      '-o',
      `UserKnownHostsFile=${input.knownHostsFile}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      `StrictHostKeyChecking=${recorded ? 'yes' : 'accept-new'}`,
      '-o',
      'IdentitiesOnly=yes',
    ]);
  }
  return vars;
}

/** known_hosts lines for the recorded host keys (`[host]:port` when the port is not 22). */
export function knownHosts(targets: readonly SshTarget[]): string {
  const lines = targets.flatMap((t) => {
    if (t.hostKey === undefined) return [];
    const [type, key] = t.hostKey.trim().split(/\s+/);
    if (type === undefined || key === undefined) return [];
    const host = t.port === 22 ? t.host : `[${t.host}]:${t.port}`;
    return [`${host} ${type} ${key}`];
  });
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/**
 * The known_hosts file for a run: the recorded keys only, when every node has
 * one; else the lines ssh added for nodes without (accept-new) are kept, and
 * those of nodes with a recorded key are replaced by it.
 */
export function mergeKnownHosts(existing: string, targets: readonly SshTarget[]): string {
  const recorded = knownHosts(targets);
  if (targets.every((t) => t.hostKey !== undefined)) return recorded;
  const recordedHosts = new Set(recorded.split('\n').map((line) => line.split(' ')[0]));
  const kept = existing.split('\n').filter((line) => line.trim() !== '' && !recordedHosts.has(line.split(' ')[0]));
  return [...kept, ...recorded.split('\n').filter(Boolean)].map((line) => `${line}\n`).join('');
}

/** The host pattern a playbook entry is limited to: `limit:`, else `hosts:`. */
export function limitOf(entry: { limit?: string; hosts?: string }): string | undefined {
  return entry.limit ?? entry.hosts;
}
