import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { InfraError } from '../../errors.js';
import { IPTABLES_LIST_PARTITION, iptablesPartitionCommand, partitionPlan } from '../host/partition.js';
import type { PartitionSides } from '../types.js';
import { engineMessage, statusOf } from '../../transport/docker-engine/client.js';

/**
 * Partitions between the docker driver's nodes, applied inside each node
 * container with its own iptables, through the engine's exec API (see
 * host/partition.ts for the rules). Not by entering the containers' network
 * namespaces from this machine: the engine may run in a PID namespace of its
 * own (the project's test engine does, so the PID `inspect` gives is not one of
 * this machine's) or on another machine (DOCKER_HOST=tcp://, ssh://). Every
 * node has NET_ADMIN and iptables for its own dockerd, so it can filter itself,
 * and the rules live in the container's network namespace: they go with the
 * container. A container that stops loses them too (a new namespace on start).
 */

/** A node as a docker partition sees it: its name, its container, its address on the run's network. */
export interface ContainerNode {
  name: string;
  container: string;
  address: string;
}

/** Run `argv` in a running container; its exit code and output (stdout and stderr together). */
async function execIn(docker: Docker, container: string, argv: readonly string[]): Promise<{ exitCode: number; output: string }> {
  const exec = await docker.getContainer(container).exec({ Cmd: [...argv], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const sink = new PassThrough();
  let output = '';
  sink.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    docker.modem.demuxStream(stream, sink, sink);
    stream.on('end', () => resolve());
    stream.on('error', reject);
  });
  const { ExitCode } = await exec.inspect();
  return { exitCode: ExitCode ?? -1, output: output.trim() };
}

/** Whether the container runs; a stopped or missing one has no network namespace, hence no rules. */
async function running(docker: Docker, container: string): Promise<boolean> {
  try {
    return (await docker.getContainer(container).inspect()).State.Running;
  } catch (error) {
    if (statusOf(error) === 404) return false;
    throw error;
  }
}

/**
 * `execIn` on a container that may stop meanwhile (a step that kills nodes runs
 * beside us): `undefined` when it is not running, before or during the exec,
 * since a stopped container has no network namespace and hence no rules.
 */
async function execIfRunning(docker: Docker, container: string, argv: readonly string[]): Promise<{ exitCode: number; output: string } | undefined> {
  if (!(await running(docker, container))) return undefined;
  try {
    return await execIn(docker, container, argv);
  } catch (error) {
    if (!(await running(docker, container))) return undefined;
    throw error;
  }
}

/** Put the partition in place in every node container (nodes outside both sides get no chain). */
export async function applyContainerPartition(docker: Docker, nodes: readonly ContainerNode[], sides: PartitionSides): Promise<void> {
  const plan = partitionPlan(nodes, sides);
  for (const node of nodes) {
    if (!(await running(docker, node.container))) {
      throw new InfraError(`Cannot partition: the container ${node.container} of ${node.name} is not running.`, { hint: 'Run "swarm-molecule converge" to start the nodes again.' });
    }
    const result = await execIn(docker, node.container, iptablesPartitionCommand(plan.get(node.name) ?? [])).catch((error: unknown) => {
      throw new InfraError(`Cannot partition ${node.name}: the engine could not run iptables in ${node.container}: ${engineMessage(error)}`);
    });
    if (result.exitCode !== 0) throw new InfraError(`Cannot partition ${node.name}: iptables failed in ${node.container}: ${result.output}`);
  }
}

/** Remove the partition's chain from every node container that runs; absent chains are fine. */
export async function removeContainerPartition(docker: Docker, nodes: readonly Pick<ContainerNode, 'name' | 'container'>[]): Promise<void> {
  for (const node of nodes) {
    const result = await execIfRunning(docker, node.container, iptablesPartitionCommand([])).catch((error: unknown) => {
      throw new InfraError(`Cannot heal the partition on ${node.name}: the engine could not run iptables in ${node.container}: ${engineMessage(error)}`);
    });
    if (result === undefined) continue;
    if (result.exitCode !== 0) throw new InfraError(`Cannot heal the partition on ${node.name}: iptables failed in ${node.container}: ${result.output}`);
  }
}

/** The partition's rules in a container as `iptables -S` lists them, or `undefined` when there is no chain (or no container). */
export async function containerPartitionRules(docker: Docker, container: string): Promise<string | undefined> {
  const result = await execIfRunning(docker, container, IPTABLES_LIST_PARTITION);
  return result?.exitCode === 0 ? result.output : undefined;
}
