import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as TS from 'typescript';
import { codeFrame, displayPath } from '../config/positions.js';
import type { Scenario } from '../config/types.js';
import { messageOf, type Diagnostic } from '../errors.js';
import { isModuleReference } from '../steps/loader.js';
import { ReadRecorder, readTypeCheckCache, typeCheckCacheFile, writeTypeCheckCache, type TypeCheckKey } from './typecheck-cache.js';

/** What type-checking a scenario's TypeScript step modules found, or why it did not run. */
export interface TypeCheck {
  diagnostics: Diagnostic[];
  /** One line for the `syntax` output: what was checked with what, or why it was skipped. */
  note?: string;
}

const TS_MODULE = /\.(ts|mts|cts|tsx)$/;

/** What a project without a tsconfig.json gets: what `init` scaffolds a step for. */
const DEFAULTS = { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', skipLibCheck: true, esModuleInterop: true } as const;

// A project's steps import 'swarm-molecule'; when the project cannot resolve it
// (a scenario outside a package that has it), its types are this very copy's.
const selfTypes = (() => {
  for (const candidate of ['../index.d.ts', '../index.ts']) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  return undefined;
})();

/** Where the project's own TypeScript is, resolved from the scenario's directory; never this package's. */
function projectTypeScript(scenarioDir: string): { path: string; version: string } | undefined {
  const require = createRequire(join(scenarioDir, 'package.json'));
  let path: string;
  try {
    path = require.resolve('typescript');
  } catch {
    return undefined;
  }
  // Its package.json says the version without loading it (a cache hit never does).
  let version: unknown;
  try {
    version = (JSON.parse(readFileSync(require.resolve('typescript/package.json'), 'utf8')) as { version?: unknown }).version;
  } catch {
    // Unknown: the result is not cached (see check()).
  }
  return { path, version: typeof version === 'string' ? version : '' };
}

/** What the options of a tsconfig.json (or the defaults) are overridden with: a check emits nothing. */
const OVERRIDES = { noEmit: true, declaration: false, declarationMap: false, emitDeclarationOnly: false, composite: false, incremental: false } as const;

// What decides a result besides the files read: this package's version, this
// very module (a changed filter or message is a miss), the defaults and overrides.
const CHECKER = (() => {
  const stat = (url: URL) => {
    const stats = statSync(fileURLToPath(url), { throwIfNoEntry: false });
    return stats ? `${fileURLToPath(url)}:${stats.size}:${stats.mtimeMs}` : '';
  };
  return JSON.stringify([stat(new URL('../../package.json', import.meta.url)), stat(new URL(import.meta.url)), DEFAULTS, OVERRIDES]);
})();

/** ts.findConfigFile's walk, without TypeScript: the nearest tsconfig.json up from the scenario. */
function nearestTsconfig(dir: string): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, 'tsconfig.json');
    if (statSync(candidate, { throwIfNoEntry: false })?.isFile()) return candidate;
    if (dirname(at) === at) return undefined;
  }
}

/** "14:31", or "2026-11-25 14:31" when it was not today. */
function since(iso: string): string {
  const at = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}`;
  return at.toDateString() === new Date().toDateString() ? time : `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${time}`;
}

const cache = new WeakMap<Scenario, Promise<TypeCheck>>();

/**
 * Type-check the scenario's TypeScript step modules (and what they import) with
 * the project's TypeScript and tsconfig.json (or strict NodeNext defaults), each
 * error at its file:line:col with a code frame. Without TypeScript in the
 * project, nothing is checked and the note says so. Once per scenario object.
 */
export function typeCheckSteps(scenario: Scenario): Promise<TypeCheck> {
  let result = cache.get(scenario);
  if (!result) {
    result = Promise.resolve().then(() => check(scenario));
    cache.set(scenario, result);
  }
  return result;
}

function check(scenario: Scenario): TypeCheck {
  const files = [...new Set([...scenario.converge, ...scenario.verify].flatMap((e) => (e.step && isModuleReference(e.step) && TS_MODULE.test(e.step) ? [resolve(scenario.dir, e.step)] : [])))].filter((f) =>
    existsSync(f),
  );
  if (files.length === 0) return { diagnostics: [] };
  const count = `${files.length} TypeScript step module${files.length === 1 ? '' : 's'}`;
  const found = projectTypeScript(scenario.dir);
  if (!found) {
    return {
      diagnostics: [],
      note: `type-checking of ${count} skipped: TypeScript is not installed in this project (npm i -D typescript to have syntax check the types).`,
    };
  }
  const configFile = nearestTsconfig(scenario.dir);
  const key: TypeCheckKey = { typescript: found, checker: CHECKER, roots: files, configFile: configFile ?? null };
  const note = (version: string) =>
    `type-checked ${count} with TypeScript ${version} from ${displayPath(dirname(dirname(found.path)))} (${configFile ? displayPath(configFile) : 'strict NodeNext defaults, no tsconfig.json'})`;
  // Stored with absolute paths: shown relative to this command's directory.
  const shown = (diagnostics: Diagnostic[]) => diagnostics.map((d) => ({ ...d, file: displayPath(d.file) }));
  const cacheFile = typeCheckCacheFile(scenario);
  const cached = readTypeCheckCache(cacheFile, key);
  if (cached) return { diagnostics: shown(cached.diagnostics), note: `${note(found.version)} (cached: unchanged since ${since(cached.checkedAt)})` };

  const checkedAt = new Date().toISOString();
  const ts = createRequire(import.meta.url)(found.path) as typeof TS;
  const recorder = new ReadRecorder([dirname(found.path)]);
  const checked = typeCheck(ts, scenario, files, configFile, recorder);
  if ('failed' in checked) return { diagnostics: [], note: `type-checking skipped: TypeScript failed: ${checked.failed}` };
  // A project whose key names another version than TypeScript reports is checked each time: its version is not what it says.
  const problem =
    found.version === ts.version
      ? writeTypeCheckCache(cacheFile, { key, options: checked.options, checkedAt, files: recorder.fingerprints(), diagnostics: checked.diagnostics })
      : undefined;
  return { diagnostics: shown(checked.diagnostics), note: `${note(ts.version)}${problem ? ` (not cached: ${problem})` : ''}` };
}

/** The program's errors, with absolute paths, and the options it had; what TypeScript read goes to the recorder. */
function typeCheck(
  ts: typeof TS,
  scenario: Scenario,
  files: string[],
  configFile: string | undefined,
  recorder: ReadRecorder,
): { diagnostics: Diagnostic[]; options: Record<string, unknown> } | { failed: string } {
  const readFile = (read: (path: string) => string | undefined) => (path: string) => {
    const text = read(path);
    recorder.read(path, text);
    return text;
  };
  const exists = (test: (path: string) => boolean) => (path: string) => {
    const yes = test(path);
    if (!yes) recorder.missing(path);
    return yes;
  };
  let options: TS.CompilerOptions;
  if (configFile) {
    const configHost = {
      ...ts.sys,
      readFile: readFile((path) => ts.sys.readFile(path)),
      fileExists: exists((path) => ts.sys.fileExists(path)),
      onUnRecoverableConfigFileDiagnostic: () => undefined,
    };
    const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, configHost);
    options = parsed?.options ?? ts.convertCompilerOptionsFromJson(DEFAULTS, scenario.dir).options;
  } else {
    options = ts.convertCompilerOptionsFromJson(DEFAULTS, scenario.dir).options;
  }
  options = { ...options, ...OVERRIDES };
  const host = ts.createCompilerHost(options);
  host.readFile = readFile(host.readFile.bind(host));
  host.fileExists = exists(host.fileExists.bind(host));
  const directoryExists = host.directoryExists?.bind(host);
  if (directoryExists) host.directoryExists = exists(directoryExists);
  const getDirectories = host.getDirectories?.bind(host);
  if (getDirectories) {
    host.getDirectories = (path) => {
      recorder.listed(path);
      return getDirectories(path);
    };
  }
  host.resolveModuleNameLiterals = (literals, containingFile, redirect, compilerOptions) =>
    literals.map((literal) => {
      const resolved = ts.resolveModuleName(literal.text, containingFile, compilerOptions, host, undefined, redirect);
      if (resolved.resolvedModule || literal.text !== 'swarm-molecule' || !selfTypes) return resolved;
      return { resolvedModule: { resolvedFileName: selfTypes, extension: selfTypes.endsWith('.d.ts') ? ts.Extension.Dts : ts.Extension.Ts, isExternalLibraryImport: true } };
    });
  let program: TS.Program;
  try {
    program = ts.createProgram({ rootNames: files, options, host });
  } catch (error) {
    return { failed: messageOf(error) };
  }
  const diagnostics: Diagnostic[] = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    if (d.category !== ts.DiagnosticCategory.Error) continue;
    // Errors of installed packages and of this package's own types are not the user's to fix.
    if (d.file && (d.file.fileName.includes('/node_modules/') || d.file.fileName === selfTypes)) continue;
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    const [first = '', ...rest] = text.split('\n');
    const message = `TS${d.code}: ${first.trim()}${rest.length > 0 ? ` ${rest.map((l) => l.trim()).join(' ')}` : ''}`;
    if (!d.file || d.start === undefined) {
      diagnostics.push({ file: configFile ?? scenario.dir, line: 1, col: 1, severity: 'error', code: 'typescript', message, hint: 'Fix the TypeScript setup.' });
      continue;
    }
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    const position = { line: line + 1, col: character + 1 };
    diagnostics.push({
      file: d.file.fileName,
      ...position,
      severity: 'error',
      code: 'typescript',
      message,
      hint: 'Fix the type error in the step module: at run time it would fail, or do what you did not mean.',
      frame: codeFrame(readFileSync(d.file.fileName, 'utf8'), position),
    });
  }
  // The source file of the tsconfig.json is not data: the options are kept for the record.
  const { configFile: _sourceFile, ...plain } = options;
  return { diagnostics, options: JSON.parse(JSON.stringify(plain)) as Record<string, unknown> };
}
