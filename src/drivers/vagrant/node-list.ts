import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PlatformConfig } from '../../config/index.js';
import { UsageError } from '../../errors.js';
import { isVmProvider, type Provider, type VagrantOptions } from './options.js';

/**
 * The node list the project's Vagrantfile reads (from the file named by
 * SWARM_MOLECULE_NODES). Its shape is the contract between the driver and the
 * Vagrantfile: change both together, and bump `version`.
 */
export interface NodeList {
  version: 1;
  provider: Provider;
  nodes: NodeListEntry[];
  /** docker provider: how Vagrant logs in (root with the scenario's key). */
  ssh?: { username: string; privateKeyPath: string };
  /** docker provider: the image, container names and what the node's init reads. */
  docker?: {
    image: string;
    /** Containers are named `<prefix>-<node>`: unique per run. */
    containerPrefix: string;
    /** `<keysDir>/<node>/` holds the node's authorized_keys and host key, mounted read-only. */
    keysDir: string;
    /** The harness's address: the node's only route out of its subnet goes there. */
    harness: string;
  };
}

export interface NodeListEntry {
  name: string;
  groups: string[];
  /** VM providers. */
  box?: string;
  memory?: number;
  cpus?: number;
  /** VM providers: the private network address the swarm uses. */
  ip?: string;
}

/** VM providers: the private address of the n-th platform (0-based). */
export function privateAddress(privateNetwork: string, index: number): string {
  const base = privateNetwork.replace(/\.0\/24$/, '');
  return `${base}.${11 + index}`;
}

export function buildNodeList(
  platforms: readonly PlatformConfig[],
  options: VagrantOptions,
  docker?: { ssh: NonNullable<NodeList['ssh']>; settings: NonNullable<NodeList['docker']> },
): NodeList {
  const vm = isVmProvider(options.provider);
  if (vm && platforms.length > 240) {
    throw new UsageError(`${platforms.length} platforms do not fit in the private network ${options.privateNetwork} (at most 240).`);
  }
  const withBox = platforms.filter((p) => p.box !== undefined);
  if (!vm && withBox.length > 0) {
    throw new UsageError(`The docker provider runs the node image swarm-molecule builds; platform ${withBox.map((p) => p.name).join(', ')} names a box.`, {
      hint: 'Remove "box" from those platforms, or use a VM provider (virtualbox, libvirt).',
    });
  }
  const nodes = platforms.map((platform, index): NodeListEntry => {
    const entry: NodeListEntry = { name: platform.name, groups: [...platform.groups] };
    if (vm) {
      entry.box = platform.box ?? options.box;
      entry.memory = platform.memory ?? options.memory;
      entry.cpus = platform.cpus ?? options.cpus;
      entry.ip = privateAddress(options.privateNetwork, index);
    }
    return entry;
  });
  return {
    version: 1,
    provider: options.provider,
    nodes,
    ...(docker ? { ssh: docker.ssh, docker: docker.settings } : {}),
  };
}

/** Write the node list atomically: Vagrant never reads half a file. */
export async function writeNodeList(path: string, list: NodeList): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(list, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
}
