import type { PlatformConfig } from '../config/index.js';
import { isManager, isWorker } from '../config/roles.js';
import { CheckFailed, InfraError, UsageError } from '../errors.js';
import type { ConnectionPool, RunOptions } from '../transport/index.js';
import { quoteCommand, secrets } from '../transport/index.js';
import type { Host, ScenarioInfo, StepContext } from './api.js';

/** A command on a node exited non-zero where the step needed it to succeed. */
export class CommandFailed extends CheckFailed {
  constructor(
    readonly host: string,
    readonly argv: readonly string[],
    readonly commandExitCode: number,
    readonly stderr: string,
  ) {
    super(`"${secrets.mask(quoteCommand(argv))}" exited ${commandExitCode} on ${host}: ${secrets.mask(stderr.trim()) || '(no output)'}`);
  }
}

export interface NodeAddressBook {
  platforms: readonly PlatformConfig[];
  /** Address of each node by name. */
  addressOf(name: string): string;
  connections: ConnectionPool;
  /** Answers of `host.read`, for one action; emptied by any command that is not a read. */
  reads: Map<string, Promise<string>>;
}

/** The node's Docker daemon is not there: the machinery failed, not the code under test. */
export class DockerUnavailable extends InfraError {}

const DOCKER_DOWN = /Cannot connect to the Docker daemon|Is the docker daemon running/;

/** The node's disk is full: the machinery failed, not the code under test. */
export class NodeDiskFull extends InfraError {}

const DISK_FULL = /no space left on device/i;

export function createHost(platform: PlatformConfig, book: NodeAddressBook): Host {
  const run = (argv: readonly string[], options?: RunOptions) => {
    // Anything but a read may change what earlier reads saw, on any node.
    if (!options?.readOnly) book.reads.clear();
    return book.connections.get(platform.name).run(argv, options);
  };
  const check = async (argv: readonly string[], options?: RunOptions) => {
    const result = await run(argv, options);
    if (result.exitCode !== 0) {
      if (DOCKER_DOWN.test(result.stderr)) {
        throw new DockerUnavailable(`dockerd on ${platform.name} does not answer (while running "${secrets.mask(quoteCommand(argv))}").`, {
          hint: `The node's Docker daemon died; see "swarm-molecule list" and the node's dockerd.log.`,
        });
      }
      if (DISK_FULL.test(result.stderr)) {
        throw new NodeDiskFull(`The disk of ${platform.name} is full (while running "${secrets.mask(quoteCommand(argv))}"): ${secrets.mask(result.stderr.trim())}`, {
          hint: `Free space on the node's data disk (see "swarm-molecule exec -h ${platform.name} -- df -h"), then run again.`,
        });
      }
      throw new CommandFailed(platform.name, argv, result.exitCode, result.stderr || result.stdout);
    }
    return result.stdout.trim();
  };
  return {
    name: platform.name,
    address: book.addressOf(platform.name),
    groups: platform.groups,
    labels: platform.labels,
    run,
    check,
    docker: (args, options) => check(['docker', ...args], options),
    dockerApi: (request) => {
      if (request.method !== 'GET') book.reads.clear();
      return book.connections.get(platform.name).dockerApi(request);
    },
    read: (argv) => {
      const key = `${platform.name}\0${argv.join('\0')}`;
      let answer = book.reads.get(key);
      if (!answer) {
        answer = check(argv, { readOnly: true });
        // A failed read is not remembered: the next step asks again.
        answer.catch(() => book.reads.delete(key));
        book.reads.set(key, answer);
      }
      return answer;
    },
  };
}

/** The parts of a step context that do not depend on the step. */
export interface ContextBase {
  scenario: ScenarioInfo;
  hosts: readonly Host[];
  log: (message: string) => void;
  signal: AbortSignal;
}

export function createStepContext<Options>(base: ContextBase, options: Options): StepContext<Options> {
  const memo = new Map<string, Promise<unknown>>();
  const host = (name: string): Host => {
    const found = base.hosts.find((h) => h.name === name);
    if (!found) throw new UsageError(`There is no platform named "${name}" in scenario "${base.scenario.name}".`);
    return found;
  };
  const inGroup = (name: string) => base.hosts.filter((h) => h.groups.includes(name));
  return {
    options,
    scenario: base.scenario,
    hosts: base.hosts,
    host,
    group: (name) => (name === 'all' ? [...base.hosts] : inGroup(name).length > 0 ? inGroup(name) : base.hosts.filter((h) => h.name === name)),
    leader: () => {
      const leaders = inGroup('swarm-leader');
      if (leaders.length !== 1) {
        throw new UsageError(`Scenario "${base.scenario.name}" needs exactly one platform in group swarm-leader (found ${leaders.length}).`);
      }
      return leaders[0] as Host;
    },
    managers: () => base.hosts.filter(isManager),
    workers: () => base.hosts.filter(isWorker),
    log: base.log,
    secret: (value) => secrets.add(value),
    shared: <T>(key: string, compute: () => Promise<T>) => {
      let value = memo.get(key);
      if (!value) {
        value = compute();
        memo.set(key, value);
      }
      return value as Promise<T>;
    },
    signal: base.signal,
  };
}
