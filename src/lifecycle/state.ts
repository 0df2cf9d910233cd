import type { Stats } from 'node:fs';
import { lstat, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
// Not the config index: reading a state file needs neither the YAML parser nor the scenario schema.
import { readBoundedFile } from '../config/read.js';
import type { DriverState } from '../drivers/index.js';
import { HarnessError, ExitCode, messageOf } from '../errors.js';
import { secrets } from '../secrets/index.js';
import { parseScenarioName } from './scenario-name.js';
import type { StateFile } from './state-schema.js';

export const STATE_VERSION = 1;

/** Largest state file read; real ones are a few KiB. */
const STATE_FILE_LIMIT = 4 * 1024 * 1024;

/** What the harness knows about a scenario's nodes between commands. */
export type State = Omit<StateFile, 'driverState'> & { driverState?: DriverState };

/** A state file that cannot be trusted: the user must reset. */
export class StateError extends HarnessError {
  readonly exitCode = ExitCode.usage;
}

/** `.swarm-molecule/<scenario>/`; a name that would lead elsewhere is refused, as it gets deleted. */
export function stateDirOf(projectDir: string, scenario: string): string {
  return join(projectDir, '.swarm-molecule', parseScenarioName(scenario));
}

export function emptyState(scenario: string, driver: string): State {
  return { version: STATE_VERSION, scenario, driver, created: false, converged: false, updatedAt: new Date().toISOString() };
}

/**
 * `.swarm-molecule/<scenario>/state.json`, written atomically (temp file +
 * rename) on every change, so an interrupted run leaves a file the next
 * command can read.
 */
export class StateStore {
  readonly dir: string;
  readonly file: string;
  #writes: Promise<void> = Promise.resolve();

  constructor(projectDir: string, readonly scenario: string) {
    this.dir = stateDirOf(projectDir, scenario);
    this.file = join(this.dir, 'state.json');
  }

  /** The saved state, or undefined when there is none. Throws StateError when it is unreadable. */
  async read(): Promise<State | undefined> {
    const reset = `Run "swarm-molecule reset -s ${this.scenario}" to clean up what can be found and start over.`;
    const stats = await lstat(this.file).catch(() => undefined);
    if (!stats) return undefined;
    this.#refuseNonFile(stats);
    let text: string;
    try {
      // Bounded: a state file is small, whatever replaced it must not fill memory.
      text = await readBoundedFile(this.file, 'state file', STATE_FILE_LIMIT);
    } catch (error) {
      throw new StateError(messageOf(error), { hint: reset });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new StateError(`The state file ${this.file} is corrupt (not JSON).`, { hint: reset });
    }
    const version = (json as { version?: unknown } | null)?.version;
    if (version !== STATE_VERSION) {
      throw new StateError(`The state file ${this.file} is from another version of swarm-molecule (version ${String(version)}, expected ${STATE_VERSION}).`, { hint: reset });
    }
    // The schema (and zod) is loaded by the first state file read: `list` of scenarios without nodes reads none.
    const { stateFileSchema } = await import('./state-schema.js');
    const parsed = stateFileSchema.safeParse(json);
    if (!parsed.success) {
      const where = parsed.error.issues[0]?.path.join('.') ?? '';
      throw new StateError(`The state file ${this.file} is damaged (at "${where}").`, { hint: reset });
    }
    return parsed.data;
  }

  /** Save the whole state; writes are serialised so the last one wins. */
  write(state: State): Promise<void> {
    const snapshot = secrets.mask(JSON.stringify({ ...state, updatedAt: new Date().toISOString() }, null, 2));
    this.#writes = this.#writes.then(async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const temp = `${this.file}.${process.pid}.tmp`;
      await writeFile(temp, `${snapshot}\n`, { mode: 0o600 });
      await rename(temp, this.file);
    });
    return this.#writes;
  }

  async remove(): Promise<void> {
    await this.#writes;
    const stats = await lstat(this.file).catch(() => undefined);
    if (stats) this.#refuseNonFile(stats);
    await rm(this.file, { force: true });
  }

  // Something else where the state file belongs was not made by us: say so, never delete it.
  #refuseNonFile(stats: Stats): void {
    if (stats.isFile()) return;
    const kind = stats.isDirectory() ? 'a directory' : stats.isSymbolicLink() ? 'a symlink' : 'not a regular file';
    throw new StateError(`The state file ${this.file} is ${kind}, which swarm-molecule did not write.`, {
      hint: `Move it out of the way (e.g. "mv ${this.file} ${this.file}.bak"), then run "swarm-molecule reset -s ${this.scenario}".`,
    });
  }
}
