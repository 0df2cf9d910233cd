import { execa } from 'execa';
import { InfraError, Interrupted } from '../../errors.js';

/**
 * A small typed client over `vagrant ... --machine-readable`, run through execa
 * with arguments as arrays. Vagrant's human output is for people; its
 * machine-readable output is a stable `timestamp,target,type,data...` format.
 */

/** One line of `--machine-readable` output. */
export interface MachineReadableLine {
  timestamp: number;
  /** The machine the line is about; empty for the whole environment. */
  target: string;
  /** e.g. `ui`, `state`, `ssh-config`, `action`, `metadata`, `error-exit`. */
  type: string;
  /** The data fields, commas and newlines restored. */
  data: string[];
}

/** Vagrant writes `,` inside a field as this, and a newline as a literal `\n`. */
const COMMA = '%!(VAGRANT_COMMA)';

export function unescapeField(field: string): string {
  return field.replaceAll(COMMA, ',').replaceAll('\\n', '\n').replaceAll('\\r', '\r');
}

/** A line that is not machine-readable (Ruby warnings, a command's own human output) gives undefined. */
export function parseLine(line: string): MachineReadableLine | undefined {
  const match = /^(\d+),([^,]*),([^,]+)(?:,(.*))?$/.exec(line.replace(/\r$/, ''));
  if (!match) return undefined;
  const [, timestamp = '0', target = '', type = '', rest] = match;
  return {
    timestamp: Number(timestamp),
    target,
    type,
    data: rest === undefined ? [] : rest.split(',').map(unescapeField),
  };
}

export function parseMachineReadable(output: string): MachineReadableLine[] {
  return output.split('\n').flatMap((line) => {
    const parsed = parseLine(line);
    return parsed ? [parsed] : [];
  });
}

/** Vagrant's `error-exit` line: the Ruby error class and its message. */
export interface VagrantErrorExit {
  errorClass: string;
  message: string;
}

export function errorExitOf(lines: readonly MachineReadableLine[]): VagrantErrorExit | undefined {
  const line = lines.findLast((l) => l.type === 'error-exit');
  if (!line) return undefined;
  return { errorClass: line.data[0] ?? '', message: (line.data.slice(1).join(',') || '').trim() };
}

/**
 * What to do about the errors users meet, by Vagrant error class. Vagrant's own
 * message says what went wrong; the hint says what to do in swarm-molecule terms.
 */
const HINTS: [RegExp, string][] = [
  [/ProviderNotFound|ProviderNotUsable|ProviderNotDefined/, 'Install the provider (see "swarm-molecule create" sanity check output), or pick another with driver.options.provider.'],
  [/BoxNotFound|BoxAddShortNotFound|BoxAddNoMatchingProvider|BoxAddNoMatchingVersion|DownloaderError/, 'Check the box name (platforms[].box or driver.options.box) and that it exists for this provider.'],
  [/VagrantfileLoadError|VagrantfileSyntaxError|ConfigInvalid/, 'The Vagrantfile or the node list it reads is wrong; see the message above.'],
  [/DockerProvider::Errors::ExecuteError/, 'A docker command run by Vagrant failed; its stderr is above.'],
  [/EnvironmentLockedError|MachineLocked/, 'Another Vagrant command is running on these machines; wait for it, or stop it.'],
  [/VirtualBox|VBox/, 'See VirtualBox\'s message above; "VBoxManage list vms" shows the VMs it knows.'],
  [/Libvirt/, 'See libvirt\'s message above; "virsh list --all" shows the domains it knows.'],
];

/** A Vagrant command failed; `errorClass` is Vagrant's error class when it said one. */
export class VagrantError extends InfraError {
  constructor(
    message: string,
    readonly errorClass: string | undefined,
    /** Vagrant's exit status. */
    readonly vagrantExitCode: number,
    hint?: string,
  ) {
    super(message, hint === undefined ? undefined : { hint });
  }
}

/** A vagrant command that gave no answer within its timeout and was stopped. */
export class VagrantTimedOut extends VagrantError {}

export interface VagrantRunOptions {
  signal?: AbortSignal;
  /** Kill Vagrant after this long; default 30 min (a box download can be long). */
  timeoutMs?: number;
  /** Each `ui` message line as Vagrant prints it, with the machine it is about. */
  onProgress?: (line: string, target: string) => void;
  /** Failure is the caller's to handle: resolve with the result instead of throwing. */
  allowFailure?: boolean;
}

export interface VagrantResult {
  lines: MachineReadableLine[];
  exitCode: number;
  /** Output that was not machine-readable (stderr, Ruby warnings). */
  other: string[];
  error?: VagrantErrorExit;
}

/**
 * The text of a `ui` line without Vagrant's own machine prefix
 * (`==> worker-01: ` or `    worker-01: `): we prefix by node ourselves.
 */
export function progressText(line: MachineReadableLine): string[] {
  if (line.type !== 'ui') return [];
  const text = line.data.slice(1).join(',');
  const prefix = line.target ? new RegExp(`^(?:==> |\\s+)${line.target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ?`) : undefined;
  return text
    .split('\n')
    .map((part) => (prefix ? part.replace(prefix, '') : part).trimEnd())
    .filter((part) => part.trim() !== '');
}

/** Runs `vagrant` with a fixed environment (project, home, node list). */
export class VagrantClient {
  constructor(
    /** Added to the process environment for every call. */
    readonly env: Record<string, string>,
    readonly program = 'vagrant',
  ) {}

  async run(args: readonly string[], options: VagrantRunOptions = {}): Promise<VagrantResult> {
    const argv = [...args, '--machine-readable'];
    const subprocess = execa(this.program, argv, {
      env: this.env,
      reject: false,
      all: true,
      stdin: 'ignore',
      timeout: options.timeoutMs ?? 30 * 60_000,
      // Vagrant traps SIGINT to clean up; SIGTERM stops it.
      ...(options.signal ? { cancelSignal: options.signal } : {}),
      forceKillAfterDelay: 10_000,
    });
    const lines: MachineReadableLine[] = [];
    const other: string[] = [];
    for await (const raw of subprocess.iterable({ from: 'all' })) {
      const line = parseLine(raw);
      if (!line) {
        if (raw.trim() !== '') other.push(raw);
        continue;
      }
      lines.push(line);
      if (options.onProgress) for (const text of progressText(line)) options.onProgress(text, line.target);
    }
    const result = await subprocess;
    if (result.isCanceled) throw new Interrupted(String(options.signal?.reason ?? 'signal'));
    const error = errorExitOf(lines);
    const exitCode = result.exitCode ?? 255;
    const out: VagrantResult = { lines, exitCode, other, ...(error ? { error } : {}) };
    if (exitCode === 0 || options.allowFailure) return out;
    throw vagrantError(args, out, result.timedOut);
  }
}

/** A clear error from a failed run: the command, Vagrant's own message, what to do. */
export function vagrantError(args: readonly string[], result: Pick<VagrantResult, 'error' | 'exitCode' | 'other'>, timedOut = false): VagrantError {
  const command = `vagrant ${args.join(' ')}`;
  if (timedOut) return new VagrantTimedOut(`"${command}" did not finish in time and was stopped.`, undefined, result.exitCode);
  if (result.error) {
    const hint = HINTS.find(([pattern]) => pattern.test(result.error?.errorClass ?? ''))?.[1];
    return new VagrantError(`"${command}" failed (${result.error.errorClass}):\n${indent(result.error.message)}`, result.error.errorClass, result.exitCode, hint);
  }
  const tail = result.other.slice(-15).join('\n');
  return new VagrantError(
    `"${command}" failed with exit code ${result.exitCode}${tail ? `:\n${indent(tail)}` : ' and no message.'}`,
    undefined,
    result.exitCode,
    'Run the command by hand with VAGRANT_LOG=info for details.',
  );
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
