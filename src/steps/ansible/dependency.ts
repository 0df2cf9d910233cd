import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import type { Scenario } from '../../config/index.js';
import { Interrupted, UsageError } from '../../errors.js';
import { INSTALL, which } from './tools.js';

/** Where a project's installed dependencies live: one directory per distinct set of requirements. */
export const DEPENDENCY_CACHE = join('.swarm-molecule', '.dependencies');
const DONE = '.installed';

/** The project a scenario belongs to: the directory above `scenarios/`. */
export function projectDirOf(scenario: Pick<Scenario, 'dir'>): string {
  return resolve(scenario.dir, '..', '..');
}

/** The scenario's requirements file: `dependency.requirements`, else requirements.yml when it exists. */
export function requirementsFileOf(scenario: Pick<Scenario, 'dir' | 'dependency'>): string | undefined {
  if (scenario.dependency.requirements !== undefined) return resolve(scenario.dir, scenario.dependency.requirements);
  const file = resolve(scenario.dir, 'requirements.yml');
  return existsSync(file) ? file : undefined;
}

/** One entry of a requirements file, as ansible-galaxy reads it. */
export interface Requirement {
  kind: 'role' | 'collection';
  /** `src` (roles) or `source`/`name` (collections): a Galaxy name, a URL or a local path. */
  source: string;
}

/**
 * The roles and collections a requirements file asks for: the old format (a
 * list of roles) or `roles:` and `collections:` lists of names or mappings.
 */
export function parseRequirements(text: string): Requirement[] {
  const data: unknown = parse(text);
  const entries = (list: unknown, kind: Requirement['kind']): Requirement[] =>
    (Array.isArray(list) ? list : []).flatMap((item: unknown): Requirement[] => {
      if (typeof item === 'string') return [{ kind, source: item }];
      if (typeof item !== 'object' || item === null) return [];
      const record = item as Record<string, unknown>;
      const source = [record.source, record.src, record.name].find((v): v is string => typeof v === 'string' && v !== '');
      return source === undefined ? [] : [{ kind, source }];
    });
  if (Array.isArray(data)) return entries(data, 'role');
  if (typeof data !== 'object' || data === null) return [];
  const record = data as Record<string, unknown>;
  return [...entries(record.roles, 'role'), ...entries(record.collections, 'collection')];
}

/** A local path of a requirement (relative to the scenario directory, where ansible-galaxy runs), when it is one. */
function localPath(dir: string, source: string): string | undefined {
  const path = resolve(dir, source.replace(/^file:\/\//, ''));
  return existsSync(path) ? path : undefined;
}

function hashTree(hash: ReturnType<typeof createHash>, path: string, root: string): void {
  const stat = statSync(path);
  if (stat.isDirectory()) {
    for (const name of readdirSync(path).sort()) hashTree(hash, join(path, name), root);
    return;
  }
  hash.update(`${relative(root, path)}\0${stat.size}\0`);
  hash.update(readFileSync(path));
}

/**
 * The cache key of a scenario's dependencies: its requirements file and the
 * content of every local tarball or directory it names, so a rebuilt tarball
 * is installed again and an unchanged one is not.
 */
export function dependencyKey(scenario: Pick<Scenario, 'dir'>, file: string): string {
  const hash = createHash('sha256');
  const text = readFileSync(file, 'utf8');
  hash.update(text);
  for (const requirement of parseRequirements(text)) {
    const path = localPath(scenario.dir, requirement.source);
    if (path !== undefined) hashTree(hash, path, path);
  }
  return hash.digest('hex').slice(0, 16);
}

/** The installed dependencies of a scenario, when they are in the project's cache. */
export interface DependencyPaths {
  roles: string;
  collections: string;
}

function cacheDirOf(scenario: Pick<Scenario, 'dir'>, key: string): string {
  return join(projectDirOf(scenario), DEPENDENCY_CACHE, key);
}

/** Where the scenario's dependencies are installed, or undefined (no requirements, or not installed yet). */
export function installedDependencies(scenario: Pick<Scenario, 'dir' | 'dependency'>): DependencyPaths | undefined {
  const file = requirementsFileOf(scenario);
  if (file === undefined || !existsSync(file)) return undefined;
  let key: string;
  try {
    key = dependencyKey(scenario, file);
  } catch {
    return undefined;
  }
  const dir = cacheDirOf(scenario, key);
  if (!existsSync(join(dir, DONE))) return undefined;
  return { roles: join(dir, 'roles'), collections: join(dir, 'collections') };
}

export interface DependencyOutcome {
  /** What was done, for the action's line. */
  message: string;
  paths?: DependencyPaths;
}

/**
 * Molecule's dependency action: `ansible-galaxy` installs the roles and
 * collections of the scenario's requirements file into the project's cache
 * (`.swarm-molecule/.dependencies/<key>/`), which every Ansible run of the
 * scenario then searches first. Installed once per distinct requirements (and
 * local tarballs); collections given only as local paths install with
 * `--offline`. A half-done install is never taken for a done one: it is made
 * in a temporary directory and renamed into place.
 */
export async function installDependencies(
  scenario: Pick<Scenario, 'name' | 'dir' | 'dependency'>,
  options: { signal?: AbortSignal; env?: Record<string, string> } = {},
): Promise<DependencyOutcome> {
  const file = requirementsFileOf(scenario);
  if (file === undefined) return { message: 'no requirements.yml: nothing to install' };
  if (!existsSync(file)) {
    throw new UsageError(`Scenario "${scenario.name}" names the requirements file ${relative(process.cwd(), file) || file}, which does not exist.`, {
      hint: 'Fix dependency.requirements in scenario.yml: it is relative to the scenario directory.',
    });
  }
  const installed = installedDependencies(scenario);
  if (installed !== undefined) return { message: `cached (${relative(projectDirOf(scenario), join(installed.roles, '..'))})`, paths: installed };
  if (which('ansible-galaxy') === undefined) {
    throw new UsageError(`Scenario "${scenario.name}" has ${relative(scenario.dir, file)}, but ansible-galaxy is not installed.`, {
      hint: `Install it: ${INSTALL['ansible-playbook']}`,
    });
  }
  const requirements = parseRequirements(readFileSync(file, 'utf8'));
  const key = dependencyKey(scenario, file);
  const target = cacheDirOf(scenario, key);
  const parent = join(projectDirOf(scenario), DEPENDENCY_CACHE);
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const work = await mkdtemp(join(parent, `.installing-${key}-`));
  try {
    const roles = requirements.filter((r) => r.kind === 'role');
    const collections = requirements.filter((r) => r.kind === 'collection');
    const done: string[] = [];
    const galaxy = async (args: string[]): Promise<void> => {
      const run = await execa('ansible-galaxy', args, {
        cwd: scenario.dir,
        env: { ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0', ...options.env },
        stdin: 'ignore',
        all: true,
        reject: false,
        timeout: 300_000,
        ...(options.signal ? { cancelSignal: options.signal } : {}),
      });
      if (run.isCanceled) throw new Interrupted(String(options.signal?.reason ?? 'signal'));
      if (run.exitCode === 0) return;
      const why = (run.all ?? run.shortMessage ?? '').split('\n').find((line) => line.startsWith('ERROR!')) ?? (run.all ?? '').trim().split('\n').at(-1) ?? '';
      throw new UsageError(`Dependency: "ansible-galaxy ${args.slice(0, 2).join(' ')}" failed for ${relative(scenario.dir, file)} (scenario "${scenario.name}"): ${why.replace(/^ERROR!\s*/, '')}`, {
        hint: 'Fix the requirements file; without network, name local tarballs or directories (e.g. "- name: ./files/ns-name-1.0.0.tar.gz").',
      });
    };
    if (collections.length > 0) {
      const offline = collections.every((c) => localPath(scenario.dir, c.source) !== undefined);
      await galaxy(['collection', 'install', '-r', file, '-p', join(work, 'collections'), ...(offline ? ['--offline'] : [])]);
      done.push(`${collections.length} collection${collections.length === 1 ? '' : 's'}`);
    }
    if (roles.length > 0) {
      await galaxy(['role', 'install', '-r', file, '-p', join(work, 'roles')]);
      done.push(`${roles.length} role${roles.length === 1 ? '' : 's'}`);
    }
    await mkdir(join(work, 'roles'), { recursive: true });
    await mkdir(join(work, 'collections'), { recursive: true });
    await writeFile(join(work, DONE), `${new Date().toISOString()}\n`);
    // Another run may have installed the same key meanwhile: theirs is as good as ours.
    await rm(target, { recursive: true, force: true });
    await rename(work, target);
    return {
      message: `installed ${done.join(' and ') || 'nothing (the file lists none)'} from ${relative(scenario.dir, file)}`,
      paths: { roles: join(target, 'roles'), collections: join(target, 'collections') },
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
