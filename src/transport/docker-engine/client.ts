import { readFileSync } from 'node:fs';
import Docker from 'dockerode';
import { UsageError } from '../../errors.js';
import { describeEngine, type EngineAddress } from './address.js';

/**
 * The Docker Engine API client of an engine address (dockerode; no `docker`
 * CLI), and the few engine calls the driver makes beyond dockerode's own.
 */
export function engineClient(address: EngineAddress): Docker {
  switch (address.kind) {
    case 'unix':
    case 'npipe':
      return new Docker({ socketPath: address.socketPath });
    case 'ssh':
      return new Docker({
        protocol: 'ssh',
        host: address.host,
        port: address.port,
        ...(address.username ? { username: address.username } : {}),
        ...(process.env.SSH_AUTH_SOCK ? { sshOptions: { agent: process.env.SSH_AUTH_SOCK } } : {}),
      });
    case 'tcp': {
      if (!address.tls) return new Docker({ protocol: 'http', host: address.host, port: address.port });
      const read = (path: string | undefined) => {
        if (path === undefined) return undefined;
        try {
          return readFileSync(path);
        } catch (error) {
          throw new UsageError(`The TLS file ${path} of the Docker engine ${describeEngine(address)} cannot be read: ${(error as Error).message}.`, {
            hint: 'Set DOCKER_CERT_PATH to the directory holding ca.pem, cert.pem and key.pem, or unset DOCKER_TLS_VERIFY.',
          });
        }
      };
      const tls = address.tls;
      return new Docker({
        protocol: 'https',
        host: address.host,
        port: address.port,
        ...(read(tls.ca) ? { ca: read(tls.ca) } : {}),
        ...(read(tls.cert) ? { cert: read(tls.cert) } : {}),
        ...(read(tls.key) ? { key: read(tls.key) } : {}),
        // dockerode passes unknown options to https.request.
        ...(tls.verify ? {} : { rejectUnauthorized: false }),
      });
    }
  }
}

/** The engine API's status code of a failed call (404 for a missing object), if it has one. */
export const statusOf = (error: unknown): number | undefined => {
  const code = (error as { statusCode?: unknown }).statusCode;
  return typeof code === 'number' ? code : undefined;
};

/** The engine's own words of a failed call, or the error's message. */
export function engineMessage(error: unknown): string {
  const json = (error as { json?: { message?: unknown } }).json;
  if (json && typeof json.message === 'string') return json.message.trim();
  return ((error as Error).message ?? String(error)).trim();
}

/** What to tell a user whose engine does not answer, by what went wrong. */
export function unreachable(address: EngineAddress, error: unknown): { problem: string; fix: string } {
  const code = (error as NodeJS.ErrnoException).code;
  const where = describeEngine(address);
  if (code === 'EACCES' || code === 'EPERM') {
    return {
      problem: `This user may not use the Docker engine socket ${where}.`,
      fix: 'Add the user to the group that owns the socket (usually "docker": "sudo usermod -aG docker $USER", then log in again), or run as root.',
    };
  }
  if (code === 'ENOENT' || code === 'ECONNREFUSED') {
    return { problem: `No Docker engine answers at ${where} (${code}).`, fix: 'Start Docker (Docker Desktop, or "systemctl start docker"), or point DOCKER_HOST or a docker context at an engine that runs.' };
  }
  return { problem: `The Docker engine at ${where} does not answer: ${engineMessage(error)}.`, fix: 'Check that the engine runs and that DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH or the docker context point at it.' };
}
