import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// What a command loads before it does anything is its static import graph: every
// module reached by `import ... from` (not `import type`, not `import()`). These
// tests walk that graph in the sources, so a new static import that drags a heavy
// library or every step into a cheap command fails here, not in a stopwatch.

const src = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// `import x from 'y'`, `import { a, type B } from 'y'`, `export { a } from 'y'`, `import 'y'`; not `import type`/`export type`.
const STATIC = /^\s*(import|export)\s+(?!type\s)([^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

/** Named bindings that are all `type X`: the compiler drops the import. */
function typeOnly(clause: string | undefined): boolean {
  const named = clause?.match(/^\s*\{([^}]*)\}\s*from\s*$/)?.[1];
  if (named === undefined) return false;
  const names = named.split(',').map((n) => n.trim()).filter(Boolean);
  return names.length > 0 && names.every((n) => n.startsWith('type '));
}

/** Every module (src-relative path) and package the entries load statically, each with the chain that reaches it. */
function staticGraph(...entries: string[]): Map<string, string[]> {
  const reached = new Map<string, string[]>();
  const queue = entries.map((entry) => ({ file: resolve(src, entry), chain: [entry] }));
  while (queue.length > 0) {
    const { file, chain } = queue.shift()!;
    const name = relative(src, file);
    if (reached.has(name)) continue;
    reached.set(name, chain);
    for (const [, , clause, spec] of readFileSync(file, 'utf8').matchAll(STATIC)) {
      if (spec === undefined || typeOnly(clause)) continue;
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
        if (existsSync(target)) queue.push({ file: target, chain: [...chain, relative(src, target)] });
      } else if (!spec.startsWith('node:')) {
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!reached.has(pkg)) reached.set(pkg, [...chain, pkg]);
      }
    }
  }
  return reached;
}

/** What of `unwanted` the entries load, each as its chain (empty: none). */
function loads(entries: string[], unwanted: (name: string) => boolean): string[] {
  return [...staticGraph(...entries)].filter(([name]) => unwanted(name)).map(([, chain]) => chain.join(' → '));
}

const HEAVY = new Set(['dockerode', 'ssh2', 'execa', 'jiti', 'typescript', 'p-map']);
const stepModule = (name: string) => name.startsWith('steps/builtin/') && name !== 'steps/builtin/index.ts';
const driverModule = (name: string) => /^drivers\/(netns|docker|vagrant|existing)\//.test(name);

describe('start-up: what a command loads before it runs', () => {
  it('the CLI and the command table load no command, step or driver', () => {
    expect(loads(['cli.ts'], (n) => HEAVY.has(n) || stepModule(n) || driverModule(n) || n === 'zod' || n === 'yaml')).toEqual([]);
  });

  it('list, syntax and lint load no step module, no driver and no heavy library', () => {
    for (const command of ['commands/list.ts', 'commands/check.ts', 'commands/scenarios.ts']) {
      expect(loads([command], (n) => HEAVY.has(n) || stepModule(n) || driverModule(n)), command).toEqual([]);
    }
  });

  it('list reads names and state files: no YAML parser, no schema (zod comes with the first state file)', () => {
    expect(loads(['commands/list.ts', 'commands/scenarios.ts'], (n) => n === 'yaml' || n === 'zod' || n === 'config/load.ts' || n === 'config/schema.ts')).toEqual([]);
  });

  it('exec and login load SSH, not the Engine API client, steps or drivers', () => {
    for (const command of ['commands/exec.ts', 'commands/login.ts']) {
      expect(loads([command], (n) => (HEAVY.has(n) && n !== 'ssh2') || stepModule(n) || driverModule(n)), command).toEqual([]);
    }
  });

  it('a lifecycle command loads the steps and the driver its scenario names, not all of them', () => {
    expect(loads(['commands/sequence.ts'], (n) => stepModule(n) || driverModule(n) || ['dockerode', 'execa', 'jiti', 'typescript'].includes(n))).toEqual([]);
  });

  it('the built-in step registry imports no step module until a step is resolved', () => {
    expect(loads(['steps/builtin/index.ts'], (n) => n !== 'steps/builtin/index.ts')).toEqual([]);
  });

  it('sees the imports it guards against (the walk itself works)', () => {
    expect(loads(['transport/ssh.ts'], (n) => n === 'ssh2')).not.toEqual([]);
    expect(loads(['steps/builtin/init.ts'], stepModule).length).toBeGreaterThan(1);
  });
});
