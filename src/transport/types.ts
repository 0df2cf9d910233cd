import type { Readable } from 'node:stream';
/** Where and how to reach a node over SSH: the same for every driver. */
export interface SshTarget {
  /** Node name, used in messages and logs. */
  name: string;
  host: string;
  port: number;
  user: string;
  /** Path of the private key file (mode 0600). */
  identityFile: string;
  /**
   * Expected host key, `ssh-ed25519 AAAA...` (as in known_hosts). When set, a
   * server presenting another key is refused.
   */
  hostKey?: string;
}

export interface RunOptions {
  /** Kill the command after this long; default 120 s. */
  timeoutMs?: number;
  /**
   * Bytes written to the command's stdin, then closed; a stream is piped as it
   * is read (an image archive), never held whole in memory.
   */
  stdin?: string | Buffer | Readable;
  signal?: AbortSignal;
  /**
   * The command only reads: on a dropped connection it is run again on a new
   * one instead of failing.
   */
  readOnly?: boolean;
  /**
   * The command prints a secret (a token, a password): its whole stdout is
   * masked before any of it reaches a log, `-v` or a report.
   */
  secret?: boolean;
  /** Values known before the command runs (e.g. passed on stdin) that must never be shown. */
  secrets?: readonly string[];
}

export interface CommandResult {
  /** The command as the user wrote it (arguments, not a shell string). */
  argv: readonly string[];
  stdout: string;
  stderr: string;
  exitCode: number;
  durationMs: number;
}

/** Receives every command run on a node, for the per-node logs and `-v`. */
export type CommandListener = (node: string, result: CommandResult) => void;

/** A request to a node's Docker Engine API. */
export interface DockerApiRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** e.g. `/swarm/join`; unversioned paths get the daemon's own API version. */
  path: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Values in the body that must never be shown (the body itself is never logged). */
  secrets?: readonly string[];
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface DockerApiResponse {
  status: number;
  body: string;
}
