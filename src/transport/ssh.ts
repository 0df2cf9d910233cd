import { readFile } from 'node:fs/promises';
import pRetry, { AbortError } from 'p-retry';
import ssh2, { type Client, type ClientChannel } from 'ssh2';
import { InfraError, Interrupted, messageOf } from '../errors.js';
import { quoteArg, quoteCommand } from './quote.js';
import { secrets } from '../secrets/index.js';
import type { CommandListener, CommandResult, RunOptions, SshTarget } from './types.js';

const DEFAULT_COMMAND_TIMEOUT_MS = 120_000;

export interface ConnectOptions {
  /** Give up connecting after this long in all (retries included); default 60 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
  onCommand?: CommandListener;
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

  constructor(target: SshTarget, options: ConnectOptions = {}) {
    this.target = target;
    this.#options = options;
  }

  /** Connects now (retrying until the node answers); later calls reuse the connection. */
  async connect(): Promise<void> {
    await this.#ready();
  }

  async run(argv: readonly string[], runOptions: RunOptions = {}): Promise<CommandResult> {
    // A command stops with the run unless the caller gives its own signal.
    const signal = runOptions.signal ?? this.#options.signal;
    const options: RunOptions = signal ? { ...runOptions, signal } : runOptions;
    const attempts = options.readOnly ? 2 : 1;
    for (let attempt = 1; ; attempt++) {
      const client = await this.#ready();
      try {
        const result = await this.#exec(client, argv, options);
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
    this.#client?.end();
    this.#client = undefined;
    this.#connecting = undefined;
  }

  #drop(client: Client): void {
    if (this.#client === client) {
      this.#client = undefined;
      this.#connecting = undefined;
    }
    client.end();
  }

  #ready(): Promise<Client> {
    if (this.#client) return Promise.resolve(this.#client);
    this.#connecting ??= this.#connectWithRetry().then(
      (client) => {
        this.#client = client;
        client.on('close', () => {
          if (this.#client === client) {
            this.#client = undefined;
            this.#connecting = undefined;
          }
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
    const timeoutMs = this.#options.timeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    const key = await readFile(this.target.identityFile);
    const { signal } = this.#options;
    let lastError: unknown;
    try {
      return await pRetry(
        async () => {
          if (signal?.aborted) throw new AbortError(new Interrupted(String(signal.reason ?? 'signal')));
          try {
            return await this.#connectOnce(key, Math.max(1000, Math.min(10_000, deadline - Date.now())));
          } catch (error) {
            lastError = error;
            if (error instanceof HostKeyMismatch) throw new AbortError(error);
            throw error;
          }
        },
        {
          retries: 1000,
          minTimeout: 50,
          maxTimeout: 1000,
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
      // Every command in flight listens for the connection closing.
      client.setMaxListeners(0);
      let mismatch = false;
      client.once('ready', () => resolve(client));
      client.once('error', (error) => {
        client.end();
        reject(mismatch ? new HostKeyMismatch(name, host, port) : error);
      });
      client.connect({
        host,
        port,
        username: user,
        privateKey,
        readyTimeout,
        keepaliveInterval: 5000,
        keepaliveCountMax: 3,
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

  #exec(client: Client, argv: readonly string[], options: RunOptions): Promise<CommandResult> {
    const command = remoteCommand(argv);
    const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const started = performance.now();
    const shown = secrets.mask(quoteCommand(argv));
    return new Promise<CommandResult>((resolve, reject) => {
      let stream: ClientChannel | undefined;
      let settled = false;
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let exitCode: number | undefined;

      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (error) {
          stream?.close();
          reject(error);
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
        finish(
          new InfraError(`Command timed out after ${Math.round(timeoutMs / 1000)} s on ${this.target.name}: ${shown}`),
        );
      }, timeoutMs);
      const onAbort = () => finish(new Interrupted(String(options.signal?.reason ?? 'signal')));
      if (options.signal?.aborted) {
        onAbort();
        return;
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const onClientClose = () =>
        finish(new TransportError(`The SSH connection to ${this.target.name} closed while running: ${shown}`));
      client.once('close', onClientClose);

      client.exec(command, (error, channel) => {
        if (error) {
          client.off('close', onClientClose);
          finish(new TransportError(`Could not run a command on ${this.target.name}: ${error.message}`));
          return;
        }
        stream = channel;
        channel.on('data', (chunk: Buffer) => stdout.push(chunk));
        channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        channel.on('exit', (code: number | null, signalName?: string) => {
          exitCode = code ?? (signalName ? 128 : 255);
        });
        channel.on('close', () => {
          client.off('close', onClientClose);
          finish();
        });
        if (options.stdin !== undefined) channel.end(options.stdin);
        else channel.end();
      });
    });
  }
}

class HostKeyMismatch extends InfraError {
  constructor(name: string, host: string, port: number) {
    super(`The SSH host key of ${name} (${host}:${port}) is not the one recorded for it.`, {
      hint: 'If the node was recreated outside swarm-molecule, run "swarm-molecule reset" and create it again.',
    });
  }
}
