import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { z } from 'zod';
import { messageOf } from '../errors.js';

/*
 * The result of type-checking a scenario's step modules, kept in
 * `.swarm-molecule/.cache/typecheck/<scenario>.json` with what it depended on,
 * the way `tsc --incremental` and ESLint's cache do: an unchanged project is
 * answered from the file without loading TypeScript.
 *
 * What invalidates it: the key (TypeScript's path and version, this checker,
 * the option overrides, the root files, the tsconfig.json found), and every
 * file TypeScript read (sources, lib files, .d.ts files, tsconfig.json and what
 * it extends, package.json files): a sha256 of the text of the project's own
 * files; size and mtime of files under node_modules and TypeScript's own
 * directory (hashing those ~300 files cost ~35-50 ms per run, stat ~3-7 ms).
 * A path TypeScript looked for and did not find must still be absent; for a
 * lookup inside node_modules, the node_modules directory (and @scope
 * directory) must keep its size and mtime, as installing a package changes it.
 *
 * What it does not see: a file added inside an existing package directory
 * (without touching node_modules/ or the package's package.json); an edit of an
 * installed file that keeps its size and mtime; environment that TypeScript
 * reads outside files. `rm -r .swarm-molecule/.cache` starts over.
 */

/** Bumped when the file's shape or what a hit means changes: another version is a miss. */
export const TYPECHECK_CACHE_VERSION = 1;

/** Largest cache file read; a real one is tens of KiB. */
const CACHE_FILE_LIMIT = 32 * 1024 * 1024;

const fingerprintSchema = z.union([
  z.strictObject({ path: z.string(), sha256: z.string() }),
  z.strictObject({ path: z.string(), size: z.number(), mtimeMs: z.number() }),
  z.strictObject({ path: z.string(), absent: z.literal(true) }),
]);
type Fingerprint = z.infer<typeof fingerprintSchema>;

const keySchema = z.strictObject({
  typescript: z.strictObject({ path: z.string(), version: z.string() }),
  /** This checker: its version and what decides its result (overrides, defaults, filters). */
  checker: z.string(),
  roots: z.array(z.string()),
  configFile: z.string().nullable(),
});
export type TypeCheckKey = z.infer<typeof keySchema>;

const diagnosticSchema = z.strictObject({
  file: z.string(),
  line: z.number(),
  col: z.number(),
  severity: z.enum(['error', 'warning']),
  code: z.string(),
  message: z.string(),
  hint: z.string().optional(),
  frame: z.string().optional(),
});

const entrySchema = z.strictObject({
  version: z.literal(TYPECHECK_CACHE_VERSION),
  key: keySchema,
  /** The compiler options the program had (after the overrides): a record, decided by the key and the files. */
  options: z.record(z.string(), z.unknown()),
  checkedAt: z.string(),
  files: z.array(fingerprintSchema),
  /** With absolute paths: shown relative to wherever the next command runs. */
  diagnostics: z.array(diagnosticSchema),
});
export type TypeCheckEntry = z.infer<typeof entrySchema>;

/**
 * `.swarm-molecule/.cache/typecheck/<scenario>.json` of the project that has `scenarios/<name>/`;
 * dotted like `.dependencies/`, so that a scenario named "cache" keeps `.swarm-molecule/cache/` to itself.
 */
export function typeCheckCacheFile(scenario: { name: string; dir: string }): string {
  return join(dirname(dirname(scenario.dir)), '.swarm-molecule', '.cache', 'typecheck', `${scenario.name}.json`);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** TypeScript's reader drops a BOM; so does the check, to hash the same text. */
const textOf = (path: string) => readFileSync(path, 'utf8').replace(/^\uFEFF/, '');

function statOf(path: string): Fingerprint {
  try {
    const stats = statSync(path);
    return { path, size: stats.size, mtimeMs: stats.mtimeMs };
  } catch {
    return { path, absent: true };
  }
}

const NODE_MODULES = `${sep}node_modules${sep}`;

/**
 * What a program read and looked for, as the fingerprints a cache entry keeps.
 * Hooked into the compiler host (and the tsconfig parser's host).
 */
export class ReadRecorder {
  readonly #files = new Map<string, Fingerprint>();

  /** @param installed directories whose files are taken by size and mtime (TypeScript's own). */
  constructor(private readonly installed: readonly string[] = []) {}

  #isInstalled(path: string): boolean {
    return path.includes(NODE_MODULES) || this.installed.some((dir) => path.startsWith(dir + sep));
  }

  /** A file read: its text as TypeScript got it, or undefined when there was none. */
  read(path: string, text: string | undefined): void {
    if (text === undefined) this.missing(path);
    else this.#files.set(path, this.#isInstalled(path) ? statOf(path) : { path, sha256: sha256(text.replace(/^\uFEFF/, '')) });
  }

  /** A directory listed (automatic @types): a package added to it changes its mtime. */
  listed(path: string): void {
    if (!this.#files.has(path)) this.#files.set(path, statOf(path));
  }

  /** A file or directory looked for and not found. */
  missing(path: string): void {
    const at = path.lastIndexOf(NODE_MODULES);
    if (at === -1) {
      if (!this.#files.has(path)) this.#files.set(path, { path, absent: true });
      return;
    }
    // Inside node_modules, a path is one of hundreds of probes: installing a
    // package changes node_modules/ (or its @scope/), which stands for them all.
    const root = path.slice(0, at + NODE_MODULES.length - 1);
    const [first = ''] = path.slice(root.length + 1).split(sep);
    this.listed(root);
    if (first.startsWith('@')) this.listed(join(root, first));
  }

  fingerprints(): Fingerprint[] {
    return [...this.#files.values()];
  }
}

function unchanged(fingerprint: Fingerprint): boolean {
  if ('absent' in fingerprint) return 'absent' in statOf(fingerprint.path);
  if ('sha256' in fingerprint) {
    try {
      return sha256(textOf(fingerprint.path)) === fingerprint.sha256;
    } catch {
      return false;
    }
  }
  const now = statOf(fingerprint.path);
  return 'size' in now && now.size === fingerprint.size && now.mtimeMs === fingerprint.mtimeMs;
}

/**
 * The stored result when it was made with this key and nothing it read has
 * changed since; undefined otherwise. A file that is missing, unreadable,
 * not JSON, of another version or shape is a miss: the check runs again and
 * overwrites it. Ignoring it is safe because the cache names nothing we made
 * (no node, no process): it only stands in for a check that can always be
 * run again.
 */
export function readTypeCheckCache(file: string, key: TypeCheckKey): TypeCheckEntry | undefined {
  let json: unknown;
  try {
    if (statSync(file).size > CACHE_FILE_LIMIT) return undefined;
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  const parsed = entrySchema.safeParse(json);
  if (!parsed.success) return undefined;
  const entry = parsed.data;
  if (JSON.stringify(entry.key) !== JSON.stringify(keySchema.parse(key))) return undefined;
  return entry.files.every(unchanged) ? entry : undefined;
}

/** Write the entry atomically (temp file + rename); the error's message when it could not be. */
export function writeTypeCheckCache(file: string, entry: Omit<TypeCheckEntry, 'version'>): string | undefined {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(temp, `${JSON.stringify({ version: TYPECHECK_CACHE_VERSION, ...entry })}\n`);
    renameSync(temp, file);
    return undefined;
  } catch (error) {
    try {
      rmSync(temp, { force: true });
    } catch {
      // The message below says what failed; a temp file left behind is overwritten next time.
    }
    return messageOf(error);
  }
}
