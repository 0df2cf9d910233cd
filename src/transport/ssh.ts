import { readFile } from 'node:fs/promises';
import { Readable, type Duplex } from 'node:stream';
import pRetry, { AbortError } from 'p-retry';
import ssh2, { type Client, type ClientChannel } from 'ssh2';
import { InfraError, Interrupted, messageOf } from '../errors.js';
import { DOCKER_SOCKET, NodeEngine, SocketUnreachable } from './engine.js';
import { quoteArg, quoteCommand } from './quote.js';
import { secrets } from '../secrets/index.js';
import type { CommandListener, CommandResult, DockerApiRequest, DockerApiResponse, RunOptions, SshTarget } from './types.js';

const DEFAULT_COMMAND_TIMEOUT_MS = 120_000;
/** How long stopping a timed-out or interrupted command on its node may take before we give up on it. */
const KILL_TIMEOUT_MS = 5_000;
/**
 * A node that answered before and now refuses or drops SSH is lost, not
 * starting: connecting again is tried this long at most, so a check says so
 * within seconds. (A node restarted on purpose gets a new connection.)
 */
const RECONNECT_TIMEOUT_MS = 10_000;
/**
 * A connection whose sshd answers none of 3 keepalives, 10 s apart, is lost
 * (30–40 s of silence). A node that goes away closes its connections at once;
 * this is for one that falls silent. At 5 s apart (15–20 s), two image loads
 * on a loaded CI machine lost their connection 15–20 s into their step.
 */
const KEEPALIVE_INTERVAL_MS = 10_000;
const KEEPALIVE_COUNT_MAX = 3;

/**
 * Every command runs as `sh -c` whose first stderr line is its pid, then execs
 * the command: sshd makes each exec session its own process group, so the pid
 * names the group of everything the command started. ssh2's `signal()` is not
 * honoured by OpenSSH for a session without a pty; a `kill` over a new channel is.
 */
function wrapWithPid(command: string): string {
  // `command` (remoteCommand) execs itself, so the pid printed is the command's.
  return `echo "$$" >&2; ${command}`;
}

/** Stops the process group of a command on its node: TERM, then KILL if it is still there after a second. */
function killGroupCommand(pid: number): string {
  return `kill -TERM -- -${pid} 2>/dev/null || exit 0; for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.1; kill -0 -- -${pid} 2>/dev/null || exit 0; done; kill -KILL -- -${pid} 2>/dev/null; exit 0`;
}

export interface ConnectOptions {
  /** Give up connecting after this long in all (retries included); default 60 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
  onCommand?: CommandListener;
  /** A line for the node's log and `-v` that is not a command (e.g. why the Engine API is not used). */
  onNote?: (node: string, message: string) => void;
  /**
   * Called with the server's host key (`ssh-ed25519 AAAA...`) when the target
   * has none recorded: trust on first use, then record it.
   */
  onFirstHostKey?: (hostKey: string) => void;
}

/** A host key blob as a known_hosts entry: its type (the blob's first string) and base64. */
export function hostKeyLine(blob: Buffer): string {
  const length = blob.readUInt32BE(0);
  return `${blob.subarray(4, 4 + length).toString('ascii')} ${blob.toString('base64')}`;
}

/**
 * What every command on a node runs in, whatever the account's shell and
 * dotfiles: sshd still starts the login shell (and Debian's bash reads
 * ~/.bashrc for SSH commands, which on hermetic nodes is the image's clean one),
 * but the command itself runs under /bin/sh with only this environment, so it
 * finds the same programs and behaves the same on every machine.
 */
/** PATH of every node command (and of a netns node's daemons): Debian's for root. */
export const COMMAND_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function remoteCommand(argv: readonly string[]): string {
  const env = ['HOME="$HOME"', 'USER="$USER"', 'LOGNAME="$LOGNAME"', `PATH=${COMMAND_PATH}`, 'LANG=C.UTF-8'];
  return `exec /usr/bin/env -i ${env.join(' ')} /bin/sh -c ${quoteArg(quoteCommand(argv))}`;
}

/** The connection to a node was lost or never made. */
export class TransportError extends InfraError {}

/** A command did not finish within its timeout (and was stopped on its node). */
export class CommandTimedOut extends InfraError {}

/**
 * One SSH connection to one node, reused for every command, with keepalive.
 * Connecting is retried with backoff until the node answers or the time is up,
 * which is also how `create` waits for a node to become reachable.
 */
export class SshConnection {
  readonly target: SshTarget;
  readonly #options: ConnectOptions;
  #client: Client | undefined;
  #connecting: Promise<Client> | undefined;
  #connectedBefore = false;
  /**
   * Commands, requests and socket channels in flight, told when their connection closes and why
   * (ssh2's error, e.g. "Keepalive timeout"): one `close` listener per client, not one per command.
   */
  readonly #inFlight = new Map<Client, Set<(reason: string) => void>>();
  /** Socket channels whose connection closed under them, and why (see {@link lostReason}). */
  readonly #lostChannels = new WeakMap<Duplex, string>();
  /** Connections this side ended (`close`, or dropped to run a read again). */
  readonly #ending = new WeakSet<Client>();

  constructor(target: SshTarget, options: ConnectOptions = {}) {
    this.target = target;
    this.#options = options;
  }

  #engine: NodeEngine | undefined;

  /** Connects now (retrying until the node answers); later calls reuse the connection. */
  async connect(): Promise<void> {
    await this.#ready();
  }

  async run(argv: readonly string[], runOptions: RunOptions = {}): Promise<CommandResult> {
    // A command stops with the run unless the caller gives its own signal.
    const signal = runOptions.signal ?? this.#options.signal;
    const options: RunOptions = signal ? { ...runOptions, signal } : runOptions;
    const attempts = options.readOnly ? 2 : 1;
    for (const value of options.secrets ?? []) secrets.add(value);
    for (let attempt = 1; ; attempt++) {
      const client = await this.#ready();
      try {
        const result = await this.#exec(client, argv, options);
        // Before the output reaches any listener (logs, -v, reports).
        if (options.secret) secrets.add(result.stdout);
        this.#options.onCommand?.(this.target.name, result);
        return result;
      } catch (error) {
        if (error instanceof TransportError && attempt < attempts) {
          this.#drop(client);
          continue;
        }
        throw error;
      }
    }
  }

  /**
   * One request to the node's Docker Engine API, over its unix socket forwarded
   * by sshd (`direct-streamlocal`): the body (e.g. a join token) reaches dockerd
   * without being an argument of any process, on the node or on this machine.
   */
  async dockerApi(request: DockerApiRequest, socketPath = '/var/run/docker.sock'): Promise<DockerApiResponse> {
    for (const value of request.secrets ?? []) secrets.add(value);
    const client = await this.#ready();
    const started = performance.now();
    const timeoutMs = request.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const signal = request.signal ?? this.#options.signal;
    const shown = `${request.method} ${request.path}`;
    const response = await new Promise<DockerApiResponse>((resolve, reject) => {
      let stream: ClientChannel | undefined;
      let settled = false;
      const chunks: Buffer[] = [];
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#inFlight.get(client)?.delete(onClientClose);
        if (error) {
          stream?.destroy();
          reject(error);
          return;
        }
        try {
          resolve(parseHttpResponse(Buffer.concat(chunks)));
        } catch (parseError) {
          reject(new TransportError(`The Docker API of ${this.target.name} gave an answer that is not HTTP to ${shown}: ${messageOf(parseError)}`));
        }
      };
      const timer = setTimeout(() => finish(new CommandTimedOut(`Docker API request timed out after ${Math.round(timeoutMs / 1000)} s on ${this.target.name}: ${shown}`)), timeoutMs);
      const onAbort = () => finish(new Interrupted(String(signal?.reason ?? 'signal')));
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      const onClientClose = (reason: string) => finish(new TransportError(`The SSH connection to ${this.target.name} closed during ${shown} (${reason})`));
      this.#inFlight.get(client)?.add(onClientClose);
      client.openssh_forwardOutStreamLocal(socketPath, (error, channel) => {
        if (error) {
          finish(
            new TransportError(`Could not reach the Docker socket ${socketPath} of ${this.target.name} through SSH: ${error.message}`, {
              hint: 'The node\'s sshd must allow stream forwarding ("AllowStreamLocalForwarding yes", the default) and the SSH user must be allowed to use the Docker socket.',
            }),
          );
          return;
        }
        stream = channel;
        if (settled) {
          channel.destroy();
          return;
        }
        const body = request.body === undefined ? '' : JSON.stringify(request.body);
        channel.on('data', (chunk: Buffer) => chunks.push(chunk));
        // The daemon closes its side once it has answered ("Connection: close"); then we close ours.
        channel.on('end', () => {
          finish();
          channel.close();
        });
        channel.on('close', () => finish());
        // Not end(): dockerd (Go's net/http) cancels a request whose client half-closes
        // the connection. "Connection: close" makes it close once it has answered.
        channel.write(
          `${request.method} ${request.path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      });
    });
    this.#options.onCommand?.(this.target.name, {
      argv: ['docker-api', request.method, request.path],
      stdout: response.body,
      stderr: '',
      exitCode: response.status >= 200 && response.status < 300 ? 0 : 1,
      durationMs: performance.now() - started,
    });
    return response;
  }

  /**
   * The node's Docker Engine API (dockerode) over this connection: each request
   * a channel that sshd forwards to the node's Docker socket.
   */
  engine(): NodeEngine {
    this.#engine ??= new NodeEngine(this.target.name, () => this.openSocket(DOCKER_SOCKET), {
      lostReason: (channel) => this.lostReason(channel),
      onCommand: this.#options.onCommand,
      onNote: this.#options.onNote,
      signal: this.#options.signal,
    });
    return this.#engine;
  }

  /**
   * A channel to a unix socket on the node, forwarded by sshd on this connection
   * (`direct-streamlocal@openssh.com`); rejects with {@link SocketUnreachable}
   * when sshd does not open it.
   */
  async openSocket(socketPath: string): Promise<ClientChannel> {
    const client = await this.#ready();
    return await new Promise<ClientChannel>((resolve, reject) => {
      client.openssh_forwardOutStreamLocal(socketPath, (error, channel) => {
        if (!error) {
          // Told before ssh2 closes the channel, so that whoever sees it close can ask why.
          const onClientClose = (reason: string) => this.#lostChannels.set(channel, reason);
          const inFlight = this.#inFlight.get(client);
          inFlight?.add(onClientClose);
          channel.once('close', () => inFlight?.delete(onClientClose));
          resolve(channel);
          return;
        }
        // OpenSSH says "open failed" alike for forwarding refused by its configuration and for a socket it could not connect to.
        reject(
          new SocketUnreachable(
            `sshd of ${this.target.name} did not open ${socketPath} for ${this.target.user} (${error.message}): it refuses unix-socket forwarding (AllowStreamLocalForwarding or DisableForwarding in its sshd_config), or no daemon listens there, or the user may not use the socket`,
          ),
        );
      });
    });
  }

  /** Why the connection under a channel of {@link openSocket} closed while the channel was open, if it did. */
  lostReason(channel: Duplex): string | undefined {
    return this.#lostChannels.get(channel);
  }

  /** An interactive shell wired to this process's terminal, for `login`. */
  async shell(): Promise<number> {
    const client = await this.#ready();
    const stdin = process.stdin;
    const stdout = process.stdout;
    return await new Promise<number>((resolve, reject) => {
      client.shell(
        { term: process.env.TERM ?? 'xterm', rows: stdout.rows ?? 24, cols: stdout.columns ?? 80 },
        (error, stream) => {
          if (error) {
            reject(new TransportError(`Could not open a shell on ${this.target.name}: ${error.message}`));
            return;
          }
          const resize = () => stream.setWindow(stdout.rows ?? 24, stdout.columns ?? 80, 0, 0);
          if (stdin.isTTY) stdin.setRawMode(true);
          stdout.on('resize', resize);
          stdin.pipe(stream);
          stream.pipe(stdout);
          stream.stderr.pipe(process.stderr);
          let code = 0;
          stream.on('exit', (exitCode: number | null) => (code = exitCode ?? 0));
          stream.on('close', () => {
            stdin.unpipe(stream);
            if (stdin.isTTY) stdin.setRawMode(false);
            stdin.pause();
            stdout.off('resize', resize);
            resolve(code);
          });
        },
      );
    });
  }

  close(): void {
    if (this.#client) this.#ending.add(this.#client);
    this.#client?.end();
    this.#client = undefined;
    this.#connecting = undefined;
  }

  #drop(client: Client): void {
    if (this.#client === client) {
      this.#client = undefined;
      this.#connecting = undefined;
    }
    this.#ending.add(client);
    client.end();
  }

  #ready(): Promise<Client> {
    if (this.#client) return Promise.resolve(this.#client);
    this.#connecting ??= this.#connectWithRetry().then(
      (client) => {
        this.#client = client;
        this.#connectedBefore = true;
        // A new connection (a node restarted, a sshd reconfigured) tries the Engine API again.
        this.#engine = undefined;
        this.#inFlight.set(client, new Set());
        let error: string | undefined;
        client.on('error', (cause: Error) => (error ??= cause.message));
        client.on('close', () => {
          const reason = error ?? (this.#ending.has(client) ? 'closed by the harness' : 'closed by the node or the network');
          if (this.#client === client) {
            this.#client = undefined;
            this.#connecting = undefined;
          }
          const commands = this.#inFlight.get(client);
          this.#inFlight.delete(client);
          for (const onClose of commands ?? []) onClose(reason);
        });
        return client;
      },
      (error: unknown) => {
        this.#connecting = undefined;
        throw error;
      },
    );
    return this.#connecting;
  }

  async #connectWithRetry(): Promise<Client> {
    const timeoutMs = Math.min(this.#options.timeoutMs ?? 60_000, this.#connectedBefore ? RECONNECT_TIMEOUT_MS : Infinity);
    const deadline = Date.now() + timeoutMs;
    const key = await readFile(this.target.identityFile);
    const { signal } = this.#options;
    let lastError: unknown;
    try {
      return await pRetry(
        async () => {
          if (signal?.aborted) throw new AbortError(new Interrupted(String(signal.reason ?? 'signal')));
          try {
            const client = await this.#connectOnce(key, Math.max(1000, Math.min(10_000, deadline - Date.now())));
            // Stopped while this attempt was on its way: nobody will take the connection, so close it.
            if (signal?.aborted) {
              client.end();
              throw new AbortError(new Interrupted(String(signal.reason ?? 'signal')));
            }
            return client;
          } catch (error) {
            if (error instanceof AbortError) throw error;
            lastError = error;
            if (error instanceof HostKeyMismatch) throw new AbortError(error);
            throw error;
          }
        },
        {
          retries: 1000,
          // A node that is booting refuses at once; asking again every 250 ms at most
          // costs nothing and saves up to a second of create per node.
          minTimeout: 50,
          maxTimeout: 250,
          factor: 1.6,
          maxRetryTime: timeoutMs,
          shouldRetry: () => Date.now() < deadline,
          ...(signal ? { signal } : {}),
        },
      );
    } catch (error) {
      if (error instanceof HostKeyMismatch || error instanceof Interrupted) throw error;
      const { name, user, host, port } = this.target;
      throw new TransportError(
        `Could not connect to ${name} over SSH (${user}@${host}:${port}) within ${Math.round(timeoutMs / 1000)} s: ${messageOf(lastError ?? error)}.`,
        { hint: `Check that the node is running ("swarm-molecule list") and that sshd answers on ${host}:${port}.` },
      );
    }
  }

  #connectOnce(privateKey: Buffer, readyTimeout: number): Promise<Client> {
    const { host, port, user, hostKey, name } = this.target;
    const expected = hostKey ? Buffer.from(hostKey.trim().split(/\s+/)[1] ?? '', 'base64') : undefined;
    return new Promise<Client>((resolve, reject) => {
      const client = new ssh2.Client();
      let mismatch = false;
      client.once('ready', () => resolve(client));
      // `on`, not `once`: ssh2 may emit a second error for the same failed attempt (a port
      // forwarder that accepts and then drops the connection: "Connection lost before
      // handshake" after the first), which would otherwise crash the process.
      client.on('error', (error) => {
        client.end();
        reject(mismatch ? new HostKeyMismatch(name, host, port) : error);
      });
      client.connect({
        host,
        port,
        username: user,
        privateKey,
        readyTimeout,
        keepaliveInterval: KEEPALIVE_INTERVAL_MS,
        keepaliveCountMax: KEEPALIVE_COUNT_MAX,
        hostVerifier: (key: Buffer) => {
          if (!expected) {
            this.#options.onFirstHostKey?.(hostKeyLine(key));
            return true;
          }
          if (key.equals(expected)) return true;
          mismatch = true;
          return false;
        },
      });
    });
  }

  /** Listeners on this connection's current client, for leak checks. */
  listenerCounts(): { close: number; inFlight: number } {
    const client = this.#client;
    return { close: client?.listenerCount('close') ?? 0, inFlight: client ? (this.#inFlight.get(client)?.size ?? 0) : 0 };
  }

  #exec(client: Client, argv: readonly string[], options: RunOptions): Promise<CommandResult> {
    const command = remoteCommand(argv);
    const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const started = performance.now();
    const shown = secrets.mask(quoteCommand(argv));
    const inFlight = this.#inFlight.get(client) ?? new Set<(reason: string) => void>();
    return new Promise<CommandResult>((resolve, reject) => {
      let stream: ClientChannel | undefined;
      let settled = false;
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      /** The first stderr line (the remote pid) until it is complete. */
      let pidLine: Buffer | undefined = Buffer.alloc(0);
      let remotePid: number | undefined;
      let exitCode: number | undefined;
      /** Waiting for the remote pid: a command that timed out before it said its pid is still killed. */
      let pidWaiters: ((pid: number | undefined) => void)[] = [];
      const pidSaid = (pid: number | undefined) => {
        for (const waiter of pidWaiters) waiter(pid);
        pidWaiters = [];
      };
      const pidKnown = (): Promise<number | undefined> =>
        remotePid !== undefined || (stream === undefined && settled && !execPending)
          ? Promise.resolve(remotePid)
          : new Promise((resolve) => {
              // Bounded, and cleared once the pid is said: a pending timer would hold the harness's exit.
              const giveUp = setTimeout(() => resolve(undefined), KILL_TIMEOUT_MS);
              pidWaiters.push((pid) => {
                clearTimeout(giveUp);
                resolve(pid);
              });
            });
      let execPending = true;

      const finish = (error?: Error, stopRemote = false) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // A streamed stdin (an archive) is closed however the command ended: no file left open.
        if (options.stdin instanceof Readable) options.stdin.destroy();
        options.signal?.removeEventListener('abort', onAbort);
        inFlight.delete(onClientClose);
        if (error) {
          if (stopRemote) {
            // The command must not keep running on the node: once it has said its pid
            // (it may not have started yet), stop it, then report.
            void (async () => {
              const pid = await pidKnown();
              stream?.close();
              if (pid !== undefined) await this.#killRemote(client, pid);
            })().finally(() => reject(error));
          } else {
            stream?.close();
            reject(error);
          }
          return;
        }
        resolve({
          argv,
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
          exitCode: exitCode ?? 255,
          durationMs: performance.now() - started,
        });
      };
      const timer = setTimeout(() => {
        finish(new CommandTimedOut(`Command timed out after ${Math.round(timeoutMs / 1000)} s on ${this.target.name}: ${shown}`), true);
      }, timeoutMs);
      const onAbort = () => finish(new Interrupted(String(options.signal?.reason ?? 'signal')), true);
      if (options.signal?.aborted) {
        onAbort();
        return;
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const onClientClose = (reason: string) => finish(new TransportError(`The SSH connection to ${this.target.name} closed while running: ${shown} (${reason})`));
      inFlight.add(onClientClose);

      client.exec(wrapWithPid(command), (error, channel) => {
        execPending = false;
        if (error) {
          pidSaid(undefined);
          finish(new TransportError(`Could not run a command on ${this.target.name}: ${error.message}`));
          return;
        }
        stream = channel;
        if (settled && pidWaiters.length === 0) {
          channel.close();
          return;
        }
        channel.on('data', (chunk: Buffer) => stdout.push(chunk));
        channel.stderr.on('data', (chunk: Buffer) => {
          if (pidLine === undefined) {
            stderr.push(chunk);
            return;
          }
          pidLine = Buffer.concat([pidLine, chunk]);
          const end = pidLine.indexOf(10);
          if (end < 0) return;
          remotePid = Number.parseInt(pidLine.subarray(0, end).toString('ascii'), 10) || undefined;
          stderr.push(pidLine.subarray(end + 1));
          pidLine = undefined;
          pidSaid(remotePid);
        });
        channel.on('exit', (code: number | null, signalName?: string) => {
          exitCode = code ?? (signalName ? 128 : 255);
        });
        channel.on('close', () => {
          if (pidLine !== undefined) stderr.push(pidLine);
          pidSaid(remotePid);
          finish();
        });
        const input = options.stdin;
        if (input instanceof Readable) {
          // Backpressure: the file is read only as fast as the node takes it.
          input.once('error', (error: Error) => {
            finish(new TransportError(`Could not read what was sent to ${this.target.name} (${shown}): ${error.message}`));
            channel.close();
          });
          input.pipe(channel);
        } else if (input !== undefined) channel.end(input);
        else channel.end();
      });
    });
  }

  /** Kill a command's process group on its node over a new channel; bounded, never throws. */
  async #killRemote(client: Client, pid: number): Promise<void> {
    if (this.#client !== client) return;
    await new Promise<void>((resolve) => {
      const giveUp = setTimeout(resolve, KILL_TIMEOUT_MS);
      const done = () => {
        clearTimeout(giveUp);
        resolve();
      };
      try {
        client.exec(killGroupCommand(pid), (error, channel) => {
          if (error) {
            done();
            return;
          }
          channel.on('close', done);
          channel.resume();
          channel.stderr.resume();
          channel.end();
        });
      } catch {
        done();
      }
    });
  }
}

/** Status and body of a `Connection: close` HTTP/1.1 response (plain or chunked). */
export function parseHttpResponse(raw: Buffer): DockerApiResponse {
  const headerEnd = raw.indexOf('\r\n\r\n');
  if (headerEnd < 0) throw new Error('no header end');
  const head = raw.subarray(0, headerEnd).toString('latin1').split('\r\n');
  const status = Number((head[0] ?? '').split(' ')[1]);
  if (!Number.isInteger(status)) throw new Error(`bad status line "${head[0] ?? ''}"`);
  let body = raw.subarray(headerEnd + 4);
  if (head.some((line) => /^transfer-encoding:\s*chunked/i.test(line))) {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const lineEnd = body.indexOf('\r\n', at);
      if (lineEnd < 0) break;
      const size = Number.parseInt(body.subarray(at, lineEnd).toString('latin1'), 16);
      if (!size) break;
      parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  return { status, body: body.toString('utf8') };
}

class HostKeyMismatch extends InfraError {
  constructor(name: string, host: string, port: number) {
    super(`The SSH host key of ${name} (${host}:${port}) is not the one recorded for it.`, {
      hint: 'If the node was recreated outside swarm-molecule, run "swarm-molecule reset" and create it again.',
    });
  }
}
