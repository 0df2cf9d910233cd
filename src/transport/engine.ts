import http from 'node:http';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { CheckFailed, InfraError, Interrupted, messageOf } from '../errors.js';
import { secrets } from '../secrets/index.js';
import type { CommandListener } from './types.js';

/** Where a Linux dockerd listens unless told otherwise, and where the node's `docker` CLI looks (commands run with a clean environment). */
export const DOCKER_SOCKET = '/var/run/docker.sock';

const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * sshd did not open a channel to the node's Docker socket. OpenSSH answers the
 * same "open failed" whether its configuration forbids forwarding or nothing
 * listens on the socket (or the user may not use it), so the message names them all.
 */
export class SocketUnreachable extends Error {}

/** The Docker API answered a request with an error status, as a failed `docker` command would have: what Docker said. */
export class EngineRequestFailed extends CheckFailed {
  constructor(
    readonly node: string,
    readonly request: string,
    readonly status: number,
    readonly said: string,
  ) {
    super(`"${request}" (Docker Engine API) answered ${status} on ${node}: ${secrets.mask(said) || '(no message)'}`);
  }
}

/** The request did not get an answer (the connection closed, or the time ran out). */
export class EngineNoAnswer extends InfraError {
  constructor(
    message: string,
    /** Why the node's SSH connection was lost while the request waited (ssh2's words, e.g. "Keepalive timeout"), if it was. */
    readonly lostConnection?: string,
  ) {
    super(message);
  }
}

/** One call to the Engine API: a label for logs and errors (`GET /info`), and the dockerode call. */
export interface EngineCall<T> {
  /** The request, e.g. `GET /nodes` (method first): shown in `-v`, the node log and errors. */
  label: string;
  /** The dockerode call; stopped (its channel closed) on timeout or `signal`. */
  call(docker: Docker): Promise<T>;
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Safe to ask again: when the SSH connection is lost while it waits, it is
   * asked once more on a new connection, as a read command is. GETs are; a
   * change is only where the call says so (loading an image that is already
   * there changes nothing).
   */
  repeatable?: boolean;
}

interface EngineOptions {
  onCommand?: CommandListener | undefined;
  /** A line for the node log and `-v`: here, once, why the Engine API is not used. */
  onNote?: ((node: string, message: string) => void) | undefined;
  /** Stops every request unless the call gives its own. */
  signal?: AbortSignal | undefined;
  /** Why the SSH connection under a channel of `open` closed while the channel was open, if it did. */
  lostReason?: ((channel: Duplex) => string | undefined) | undefined;
}

/** The channels of one request, and whether it was stopped. */
interface Channels {
  open: Set<Duplex>;
  stopped: boolean;
}

type CreateConnection = (options: unknown, callback: (error: Error | null, socket?: Duplex) => void) => undefined;

/**
 * dockerode on a node's Docker socket, each HTTP request on a channel that
 * sshd forwards to the socket over the node's existing SSH connection
 * (`direct-streamlocal@openssh.com`): no process starts on the node, no port
 * is opened, and answers come typed as the Engine API gives them, not as CLI text.
 */
export class NodeEngine {
  /** Why sshd did not open the socket, once it has said so: the CLI serves the rest of this connection. */
  #refused: string | undefined;
  #noted = false;

  constructor(
    readonly node: string,
    private readonly open: () => Promise<Duplex>,
    private readonly options: EngineOptions = {},
  ) {}

  /**
   * A dockerode client for one request: docker-modem makes its HTTP request
   * through this agent, whose "connection" is an SSH channel, kept in `channels`
   * so that a timeout or an interrupt can close it.
   */
  #client(Client: typeof Docker, channels: Channels): Docker {
    const agent = new http.Agent({ keepAlive: false });
    (agent as unknown as { createConnection: CreateConnection }).createConnection = (_options, callback) => {
      this.open().then(
        (channel) => {
          channels.open.add(channel);
          // Opened after a timeout or an interrupt: closed at once, the request fails.
          if (channels.stopped) channel.destroy();
          callback(null, channel);
        },
        (error: Error) => callback(error),
      );
      return undefined;
    };
    // docker-modem hands `agent` to http.request (its types leave it out).
    const options: Docker.DockerOptions & { agent: http.Agent } = { protocol: 'http', host: 'docker', port: 80, agent };
    return new Client(options);
  }

  /** Why the Engine API is not used on this connection, if sshd did not open the socket. */
  get refused(): string | undefined {
    return this.#refused;
  }

  /**
   * Run `request`; `undefined` when sshd did not open the socket (forwarding
   * refused, no socket at {@link DOCKER_SOCKET}, or not the user's): the caller
   * then asks the CLI, which gives its own answer (or error), and so does every
   * later request of this connection. Said once, in the node log. An error status
   * from Docker rejects with its message. A repeatable request whose SSH
   * connection is lost while it waits is asked once more, on a new connection
   * (said in the node log); a second loss, or any other, rejects naming why.
   */
  async request<T>(request: EngineCall<T>): Promise<T | undefined> {
    const repeatable = request.repeatable ?? request.label.startsWith('GET ');
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#ask(request);
      } catch (error) {
        if (!(error instanceof EngineNoAnswer) || error.lostConnection === undefined || !repeatable || attempt > 1) throw error;
        this.options.onNote?.(this.node, `The SSH connection to ${this.node} was lost during "${request.label}" (${error.lostConnection}); asking again on a new connection.`);
      }
    }
  }

  /** One try of `request`: see {@link request}. */
  async #ask<T>(request: EngineCall<T>): Promise<T | undefined> {
    if (this.#refused !== undefined) return undefined;
    const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const outer = request.signal ?? this.options.signal;
    if (outer?.aborted) throw new Interrupted(String(outer.reason ?? 'signal'));
    // dockerode (and the gRPC code it brings) is loaded by the first request, not by every command that imports the transport.
    const { default: Client } = await import('dockerode');
    const started = performance.now();
    const report = (stdout: string, stderr: string, exitCode: number) =>
      this.options.onCommand?.(this.node, { argv: ['docker-api', ...request.label.split(' ')], stdout, stderr, exitCode, durationMs: performance.now() - started });
    const channels: Channels = { open: new Set(), stopped: false };
    let timedOut = false;
    const stop = () => {
      channels.stopped = true;
      for (const channel of channels.open) channel.destroy();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, timeoutMs);
    outer?.addEventListener('abort', stop, { once: true });
    try {
      const answer = await request.call(this.#client(Client, channels));
      maskJoinTokens(answer);
      report(typeof answer === 'string' ? answer : Buffer.isBuffer(answer) ? answer.toString('utf8') : (JSON.stringify(answer) ?? ''), '', 0);
      return answer;
    } catch (error) {
      if (error instanceof SocketUnreachable) {
        this.#refused = error.message;
        this.#note(`Docker Engine API not used on ${this.node}, the docker CLI is: ${error.message}`);
        return undefined;
      }
      // Ours already (the SSH connection could not be made, an interrupt): as they are.
      if (error instanceof InfraError || error instanceof Interrupted) {
        report('', error.message, 1);
        throw error;
      }
      const status = (error as { statusCode?: unknown }).statusCode;
      if (typeof status === 'number') {
        const said = engineMessage(error);
        report('', said, 1);
        throw new EngineRequestFailed(this.node, request.label, status, said);
      }
      // A channel closed without an answer ("socket hang up"): because the whole SSH connection went, if it did.
      const lost = outer?.aborted || timedOut ? undefined : [...channels.open].map((channel) => this.options.lostReason?.(channel)).find((reason) => reason !== undefined);
      const why = lost === undefined ? messageOf(error) : `the SSH connection to it was lost (${lost})`;
      report('', why, 1);
      if (outer?.aborted) throw new Interrupted(String(outer.reason ?? 'signal'));
      if (timedOut) throw new EngineNoAnswer(`"${request.label}" (Docker Engine API) got no answer within ${Math.round(timeoutMs / 1000)} s on ${this.node}.`);
      throw new EngineNoAnswer(`"${request.label}" (Docker Engine API) got no answer on ${this.node}: ${why}`, lost);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', stop);
    }
  }

  #note(message: string): void {
    if (this.#noted) return;
    this.#noted = true;
    this.options.onNote?.(this.node, message);
  }
}

/** Docker's own words of a failed call (its JSON `message`), else the error's message. */
export function engineMessage(error: unknown): string {
  const json = (error as { json?: unknown }).json;
  if (json && typeof json === 'object' && typeof (json as { message?: unknown }).message === 'string') return (json as { message: string }).message.trim();
  if (Buffer.isBuffer(json)) return json.toString('utf8').trim();
  return messageOf(error).trim();
}

/** `GET /swarm` answers with the join tokens: masked before the answer reaches any log. */
function maskJoinTokens(answer: unknown): void {
  const tokens = (answer as { JoinTokens?: Record<string, unknown> } | null)?.JoinTokens;
  if (!tokens || typeof tokens !== 'object') return;
  for (const value of Object.values(tokens)) if (typeof value === 'string' && value !== '') secrets.add(value);
}
