import type { PlatformConfig } from '../config/index.js';
import type { ConnectionPool, RunOptions } from '../transport/index.js';
import { EngineNoAnswer, quoteCommand, secrets, TransportError } from '../transport/index.js';
import type { Host } from './api.js';
import { CommandFailed, DockerUnavailable, NodeDiskFull } from './errors.js';

/** What a host needs to reach its node, and the reads shared by every host of one action. */
export interface NodeAddressBook {
  platforms: readonly PlatformConfig[];
  /** Address of each node by name. */
  addressOf(name: string): string;
  connections: ConnectionPool;
  /** Answers of `host.read` and of `host.engine` reads, for one action; emptied by any command that is not a read. */
  reads: Map<string, Promise<unknown>>;
}

// The 20.10 client of the node image answers `docker info --format` without a daemon with
// a template error on the missing server info, not "Cannot connect".
const DOCKER_DOWN = /Cannot connect to the Docker daemon|Is the docker daemon running|nil pointer to embedded struct field Info/;
const DISK_FULL = /no space left on device/i;

export function createHost(platform: PlatformConfig, book: NodeAddressBook): Host {
  // Anything but a read may change what earlier reads saw, on any node: forgotten when it
  // starts, and again when it ends (a read made meanwhile, by a step running beside it, may be stale).
  const changing = async <T>(change: () => Promise<T>): Promise<T> => {
    book.reads.clear();
    try {
      return await change();
    } finally {
      book.reads.clear();
    }
  };
  const run = (argv: readonly string[], options?: RunOptions) =>
    options?.readOnly ? book.connections.get(platform.name).run(argv, options) : changing(() => book.connections.get(platform.name).run(argv, options));
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
    dockerApi: (request) => (request.method === 'GET' ? book.connections.get(platform.name).dockerApi(request) : changing(() => book.connections.get(platform.name).dockerApi(request))),
    read: (argv) => remembered(book, `${platform.name}\0${argv.join('\0')}`, () => check(argv, { readOnly: true })),
    engine: (call, options) => {
      const engine = book.connections.get(platform.name).engine();
      // A daemon that does not answer its socket is the same fault as when the CLI cannot connect.
      const ask = () =>
        engine.request(call).catch((error: unknown) => {
          if (!(error instanceof EngineNoAnswer)) throw error;
          if (error.lostConnection !== undefined) {
            throw new TransportError(error.message, {
              hint: `The node or the path to it stopped answering; see "swarm-molecule list", the node's log, and whether this machine is overloaded.`,
            });
          }
          throw new DockerUnavailable(`dockerd on ${platform.name} does not answer (while asking "${call.label}"): ${error.message}`, {
            hint: `The node's Docker daemon died; see "swarm-molecule list" and the node's dockerd.log.`,
          });
        });
      // Anything but a GET may change what earlier reads saw, on any node.
      if (!call.label.startsWith('GET ')) return changing(ask);
      if (!options?.read) return ask();
      return remembered(book, `${platform.name}\0engine\0${call.label}`, ask);
    },
  };
}

/** A read's answer from the action's cache, or asked now and kept; a failed read is not kept (the next step asks again). */
function remembered<T>(book: NodeAddressBook, key: string, ask: () => Promise<T>): Promise<T> {
  let answer = book.reads.get(key) as Promise<T> | undefined;
  if (!answer) {
    answer = ask();
    answer.catch(() => book.reads.delete(key));
    book.reads.set(key, answer);
  }
  return answer;
}
