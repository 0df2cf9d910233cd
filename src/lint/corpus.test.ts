import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../cli.js';
import { loadScenario } from '../config/load.js';
import { ConfigError, exitCodeOf } from '../errors.js';
import { checkSyntax } from '../syntax/index.js';
import { lintScenario } from './index.js';

/** A small deterministic PRNG (mulberry32), so a failing mutant can be reproduced by its number. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const valid = readFileSync(fileURLToPath(new URL('../../scenarios/default/scenario.yml', import.meta.url)), 'utf8');
const nasty = ['$(touch /tmp/sm-pwned)', '`id`', "'; rm -rf / #", '\u0000', '💥', 'é\u0301', '\u202e', '{{ lookup }}', '9'.repeat(400), '-1', '[', '{', ':', '- ', '\t', '&anchor', '*alias', '!!binary', '%YAML 1.1', '? ', '\n  '];

function mutate(text: string, next: () => number): string {
  const lines = text.split('\n');
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const line = Math.floor(next() * lines.length);
  switch (Math.floor(next() * 7)) {
    case 0: // delete a character
      return text.slice(0, Math.floor(next() * text.length)) + text.slice(Math.floor(next() * text.length) + 1);
    case 1: // insert something nasty
      lines[line] = `${lines[line] ?? ''}${pick(nasty)}`;
      return lines.join('\n');
    case 2: // replace a value with another type or a huge one
      lines[line] = (lines[line] ?? '').replace(/: .*$/, `: ${pick(['123', '[1, 2]', '{a: 1}', 'null', 'true', '1e309', pick(nasty)])}`);
      return lines.join('\n');
    case 3: // drop a line
      lines.splice(line, 1);
      return lines.join('\n');
    case 4: // duplicate a line
      lines.splice(line, 0, lines[line] ?? '');
      return lines.join('\n');
    case 5: // a name with shell metacharacters
      return text.replace(/name: [\w-]+/, `name: "${pick(nasty)}"`);
    default: // re-indent a line
      lines[line] = `${' '.repeat(Math.floor(next() * 5))}${(lines[line] ?? '').trimStart()}`;
      return lines.join('\n');
  }
}

/** The CLI's exit code for `command -s name` in `project`, its output swallowed. */
async function exitCodeOfCli(project: string, command: 'syntax' | 'lint', name: string): Promise<number> {
  const cwd = process.cwd();
  const quiet = [vi.spyOn(process.stdout, 'write').mockImplementation(() => true), vi.spyOn(process.stderr, 'write').mockImplementation(() => true)];
  process.chdir(project);
  try {
    return await main(['node', 'swarm-molecule', command, '-s', name]);
  } finally {
    process.chdir(cwd);
    for (const spy of quiet) spy.mockRestore();
  }
}

describe('a generated corpus of malformed scenario files', () => {
  it('gives every mutant either a clean load or diagnostics with file:line:col, the exit code that says which, and never crashes', async () => {
    const project = mkdtempSync(join(tmpdir(), 'sm-corpus-'));
    let rejected = 0;
    let loaded = 0;
    for (let n = 0; n < 300; n++) {
      const next = random(n + 1);
      let text = valid;
      for (let k = 1 + Math.floor(next() * 3); k > 0; k--) text = mutate(text, next);
      const name = `mutant-${n}`;
      mkdirSync(join(project, 'scenarios', name, 'steps'), { recursive: true });
      writeFileSync(join(project, 'scenarios', name, 'scenario.yml'), text);
      let syntaxExit: number;
      let loads = false;
      try {
        const scenario = await loadScenario(project, name);
        // Loaded: syntax and lint must still answer with diagnostics, not throw.
        const syntax = await checkSyntax(scenario);
        for (const d of [...syntax, ...(await lintScenario(scenario))]) {
          expect(d.line, `mutant ${n}`).toBeGreaterThanOrEqual(1);
          expect(d.col, `mutant ${n}`).toBeGreaterThanOrEqual(1);
        }
        syntaxExit = syntax.some((d) => d.severity === 'error') ? 2 : 0;
        loads = true;
        loaded++;
      } catch (error) {
        expect(error, `mutant ${n} threw ${String(error)}`).toBeInstanceOf(ConfigError);
        expect(exitCodeOf(error), `mutant ${n}`).toBe(2);
        syntaxExit = 2;
        const { diagnostics } = error as ConfigError;
        expect(diagnostics.length, `mutant ${n}`).toBeGreaterThan(0);
        for (const d of diagnostics) {
          expect(d.file, `mutant ${n}`).toContain(`${name}/scenario.yml`);
          expect(d.line, `mutant ${n}`).toBeGreaterThanOrEqual(1);
          expect(d.col, `mutant ${n}`).toBeGreaterThanOrEqual(1);
          expect(d.hint ?? d.message, `mutant ${n}`).not.toBe('');
        }
        rejected++;
      }
      // What a user sees: "syntax" exits 2 for what does not load or has a syntax error, 0 otherwise;
      // "lint" exits 2 for what does not load, and never 3 (a crash).
      expect(await exitCodeOfCli(project, 'syntax', name), `mutant ${n}: swarm-molecule syntax`).toBe(syntaxExit);
      if (n % 5 === 0) {
        const lintExit = await exitCodeOfCli(project, 'lint', name);
        expect(loads ? [0, 1, 2] : [2], `mutant ${n}: swarm-molecule lint exited ${lintExit}`).toContain(lintExit);
      }
    }
    // The corpus really is malformed, mostly.
    expect(rejected).toBeGreaterThan(150);
    // And some mutants are harmless: both verdicts were exercised.
    expect(loaded).toBeGreaterThan(0);
    expect(() => readFileSync('/tmp/sm-pwned')).toThrow();
  }, 120_000);
});
