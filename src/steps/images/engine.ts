import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { messageOf } from '../../errors.js';
import { describeEngine, resolveEngine } from '../../transport/docker-engine/address.js';
import { engineClient, statusOf } from '../../transport/docker-engine/client.js';

/** An image as the machine's Docker engine has it. */
export interface EngineImage {
  /** `sha256:…`, the digest of its config. */
  id: string;
  /** Its size in the engine (the archive is about as big). */
  bytes: number;
}

/**
 * The machine's own Docker engine, where a scenario's images named by
 * reference come from (as `kind load docker-image` takes them): the Engine API
 * (dockerode) at DOCKER_HOST or the default socket, or the `docker` CLI (which
 * also knows docker contexts) where no API answers.
 */
export interface LocalEngine {
  /** Where images were looked for, for messages: `unix:///var/run/docker.sock`, `tcp://…`, or the CLI's context. */
  readonly address: string;
  /** The image a reference names, or undefined when the engine has no such image. */
  inspect(reference: string): Promise<EngineImage | undefined>;
  /** `docker save REFERENCE` into `path`, streamed (never whole in memory). */
  save(reference: string, path: string, signal: AbortSignal): Promise<void>;
}

/** The engine cannot be reached at all: neither its API nor the docker CLI answers. */
export class EngineUnreachable extends Error {}

/** Over the Engine API, at the address the docker CLI would use (DOCKER_HOST, TLS variables, contexts). */
function apiEngine(docker: Docker, address: string): LocalEngine {
  return {
    address,
    async inspect(reference) {
      try {
        const info = await docker.getImage(reference).inspect();
        return { id: info.Id, bytes: info.Size };
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    },
    async save(reference, path, signal) {
      const stream = await docker.getImage(reference).get();
      await pipeline(stream, createWriteStream(path, { mode: 0o600 }), { signal });
    },
  };
}

/** Over the docker CLI: its own context and configuration. */
function cliEngine(address: string): LocalEngine {
  return {
    address,
    async inspect(reference) {
      const result = await execa('docker', ['image', 'inspect', '--format', '{{.Id}} {{.Size}}', reference], { reject: false });
      if (result.exitCode !== 0) {
        if (/No such (image|object)/i.test(result.stderr)) return undefined;
        throw new Error(result.stderr.trim() || `docker image inspect exited ${result.exitCode}`);
      }
      const [id = '', size = '0'] = result.stdout.trim().split(' ');
      return { id, bytes: Number(size) };
    },
    async save(reference, path, signal) {
      await execa('docker', ['save', '--output', path, reference], { cancelSignal: signal });
    },
  };
}

let cached: Promise<LocalEngine> | undefined;

/**
 * The machine's Docker engine, found once per process: its API when it answers
 * a ping, else the docker CLI when `docker version` reaches a server. Rejects
 * with EngineUnreachable naming both attempts.
 */
export function localEngine(env: NodeJS.ProcessEnv = process.env): Promise<LocalEngine> {
  cached ??= (async () => {
    let address: string;
    let apiProblem: string;
    try {
      const found = resolveEngine({ env });
      address = describeEngine(found);
      const docker = engineClient(found);
      // dockerode takes an abortSignal here; its typings do not say so.
      await (docker.ping as unknown as (opts: { abortSignal: AbortSignal }) => Promise<unknown>).call(docker, { abortSignal: AbortSignal.timeout(5000) });
      return apiEngine(docker, address);
    } catch (error) {
      // An address that cannot be parsed (a bad DOCKER_HOST or context) is said as it is; the CLI may still know better.
      address ??= 'the Docker engine the docker CLI would use';
      apiProblem = (error as NodeJS.ErrnoException).code ?? messageOf(error);
    }
    const cli = await execa('docker', ['version', '--format', '{{.Server.Version}} {{.Client.Context}}'], { reject: false, timeout: 15_000 }).catch((error: unknown) => ({
      exitCode: 1,
      stdout: '',
      stderr: (error as Error).message,
    }));
    if (cli.exitCode === 0) return cliEngine(`the docker CLI's context "${cli.stdout.trim().split(' ')[1] ?? 'default'}"`);
    const cliProblem = /ENOENT/.test(String(cli.stderr)) ? 'no docker CLI' : String(cli.stderr).trim().split('\n')[0];
    throw new EngineUnreachable(`no Docker engine answers at ${address} (${apiProblem}; docker CLI: ${cliProblem})`);
  })();
  const found = cached;
  // A failed lookup is not remembered: the engine may be started meanwhile.
  found.catch(() => {
    if (cached === found) cached = undefined;
  });
  return found;
}
