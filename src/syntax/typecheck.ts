import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as TS from 'typescript';
import { codeFrame, displayPath } from '../config/positions.js';
import type { Scenario } from '../config/types.js';
import { messageOf, type Diagnostic } from '../errors.js';
import { isModuleReference } from '../steps/loader.js';

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

/** The project's own TypeScript, resolved from the scenario's directory; never this package's. */
function projectTypeScript(scenarioDir: string): { ts: typeof TS; path: string } | undefined {
  let path: string;
  try {
    path = createRequire(join(scenarioDir, 'package.json')).resolve('typescript');
  } catch {
    return undefined;
  }
  return { ts: createRequire(import.meta.url)(path) as typeof TS, path };
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
  const found = projectTypeScript(scenario.dir);
  if (!found) {
    return {
      diagnostics: [],
      note: `type-checking of ${files.length} TypeScript step module${files.length === 1 ? '' : 's'} skipped: TypeScript is not installed in this project (npm i -D typescript to have syntax check the types).`,
    };
  }
  const { ts } = found;
  const configFile = ts.findConfigFile(scenario.dir, (f) => ts.sys.fileExists(f));
  let options: TS.CompilerOptions;
  if (configFile) {
    const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
    options = parsed?.options ?? ts.convertCompilerOptionsFromJson(DEFAULTS, scenario.dir).options;
  } else {
    options = ts.convertCompilerOptionsFromJson(DEFAULTS, scenario.dir).options;
  }
  options = { ...options, noEmit: true, declaration: false, declarationMap: false, emitDeclarationOnly: false, composite: false, incremental: false };
  const host = ts.createCompilerHost(options);
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
    return { diagnostics: [], note: `type-checking skipped: TypeScript failed: ${messageOf(error)}` };
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
      diagnostics.push({ file: configFile ? displayPath(configFile) : displayPath(scenario.dir), line: 1, col: 1, severity: 'error', code: 'typescript', message, hint: 'Fix the TypeScript setup.' });
      continue;
    }
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    const position = { line: line + 1, col: character + 1 };
    diagnostics.push({
      file: displayPath(d.file.fileName),
      ...position,
      severity: 'error',
      code: 'typescript',
      message,
      hint: 'Fix the type error in the step module: at run time it would fail, or do what you did not mean.',
      frame: codeFrame(readFileSync(d.file.fileName, 'utf8'), position),
    });
  }
  const tsconfig = configFile ? displayPath(configFile) : 'strict NodeNext defaults, no tsconfig.json';
  const count = `${files.length} TypeScript step module${files.length === 1 ? '' : 's'}`;
  return { diagnostics, note: `type-checked ${count} with TypeScript ${ts.version} from ${displayPath(dirname(dirname(found.path)))} (${tsconfig})` };
}
