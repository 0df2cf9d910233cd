import { z } from 'zod';
import { InfraError } from '../../errors.js';
import type { EngineCall } from '../../transport/index.js';
import type { Host } from '../api.js';

/**
 * What a node answered (through its Engine API or its CLI), parsed into a
 * trusted value; an answer of another shape fails naming the node and what
 * was asked, never passes on half-read.
 */
export function parseAnswer<S extends z.ZodType>(schema: S, value: unknown, host: Host, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new InfraError(`The Docker daemon of ${host.name} answered ${what} with something swarm-molecule does not understand: ${z.prettifyError(parsed.error)}`, {
    hint: 'Check the Docker version of the node (swarm-molecule needs the Engine API of Docker 20.10 or later).',
  });
}

/** The same question put to the Engine API and, where the node will not forward its Docker socket, to the CLI. */
export interface EngineOrCli<T> {
  engine: EngineCall<unknown>;
  /** The CLI's answer as the Engine API would give it (JSON text parsed, rows mapped). */
  cli(): Promise<unknown>;
  schema: z.ZodType<T>;
  /** A read that several steps or hosts share (`host.read`, `host.engine` with `read`). */
  read?: boolean;
}

/**
 * Ask `host` through its Engine API (no process on the node), or through the
 * `docker` CLI where its sshd will not forward the socket; either answer is
 * parsed by the same schema, so both paths give the same value or fail alike.
 */
export async function engineOrCli<T>(host: Host, ask: EngineOrCli<T>): Promise<T> {
  const answer = await host.engine(ask.engine, { read: ask.read ?? false });
  const value = answer === undefined ? await ask.cli() : answer;
  return parseAnswer(ask.schema, value, host, `"${ask.engine.label}"`);
}

/** A write through the Engine API, or the CLI command that does the same where the socket is not forwarded. */
export async function engineOrCliWrite(host: Host, engine: EngineCall<unknown>, cli: readonly string[]): Promise<void> {
  const done = await host.engine({ ...engine, call: async (docker) => (await engine.call(docker)) ?? true });
  if (done === undefined) await host.docker(cli);
}
