import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from './support/cli.js';

/** One untrusted input and what the CLI must do with it (format: fixtures/inputs/README.md). */
interface InputCase {
  name: string;
  finding: number;
  /** The branch whose fix this case waits for: an expected failure until it is merged. */
  awaits?: string;
  files?: Record<string, string>;
  make?: ({ fifo: string } | { dir: string } | { symlink: string; to: string } | { generate: string; start: string; repeat: string; times: number; end: string })[];
  args: string[];
  exit: number;
  first: string;
  contains?: string[];
  excludes?: string[];
  absent?: string[];
  kept?: string[];
  maxSeconds?: number;
}

const corpus = parse(readFileSync(join(repoRoot, 'fixtures', 'inputs', 'cases.yml'), 'utf8'), { maxAliasCount: 1000 }) as { cases: InputCase[] };
const bin = join(repoRoot, 'bin', 'swarm-molecule.js');
/** The child's caps: a regression that loops or allocates fails its case, not the machine. */
const HEAP_MB = 256;
// RLIMIT_DATA (`ulimit -d`), not an address-space cap: V8 and WebAssembly reserve far more address space than they use.
const DATA_BYTES = 1024 ** 3;

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** `{root}/project` with the case's files and special files, beside an untouched `{root}/victim`. */
function projectOf(input: InputCase): string {
  const root = mkdtempSync(join(tmpdir(), 'sm-inputs-'));
  roots.push(root);
  const project = join(root, 'project');
  mkdirSync(project);
  mkdirSync(join(root, 'victim'));
  const at = (path: string): string => {
    const full = join(project, path);
    mkdirSync(dirname(full), { recursive: true });
    return full;
  };
  for (const [path, text] of Object.entries(input.files ?? {})) writeFileSync(at(path), text.replaceAll('{root}', root));
  for (const special of input.make ?? []) {
    if ('fifo' in special) execFileSync('mkfifo', [at(special.fifo)]);
    else if ('dir' in special) mkdirSync(at(special.dir), { recursive: true });
    else if ('symlink' in special) symlinkSync(special.to.replaceAll('{root}', root), at(special.symlink));
    else writeFileSync(at(special.generate), special.start + special.repeat.repeat(special.times) + special.end);
  }
  return project;
}

describe('untrusted inputs (fixtures/inputs/cases.yml, issue 14)', () => {
  for (const input of corpus.cases) {
    // Expected to fail until the branch named in `awaits` is merged; then drop `awaits`.
    const test = input.awaits === undefined ? it : it.fails;
    test(`[${input.finding}] ${input.name}${input.awaits ? ` (awaits ${input.awaits})` : ''}`, async () => {
      const project = projectOf(input);
      const seconds = input.maxSeconds ?? 30;
      const result = await execa('prlimit', [`--data=${DATA_BYTES}`, '--', 'node', `--max-old-space-size=${HEAP_MB}`, bin, ...input.args], {
        cwd: project,
        reject: false,
        all: true,
        stdin: 'ignore',
        timeout: seconds * 1000,
        env: { CI: 'true', NO_COLOR: '1' },
      });
      const output = result.all;
      expect(result.timedOut, `still running after ${seconds} s:\n${output.slice(0, 2000)}`).toBe(false);
      expect(result.exitCode, output.slice(0, 4000)).toBe(input.exit);
      const first = output.split('\n').find((line) => line.trim() !== '') ?? '';
      expect(first).toMatch(new RegExp(input.first));
      for (const pattern of input.contains ?? []) expect(output).toMatch(new RegExp(pattern));
      for (const pattern of input.excludes ?? []) expect(output).not.toMatch(new RegExp(pattern));
      // Nothing printed may drive the terminal: no raw ESC, BEL or other control character.
      // eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
      expect(output).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
      for (const path of input.absent ?? []) expect(existsSync(join(project, path)), `${path} exists`).toBe(false);
      for (const path of input.kept ?? []) expect(existsSync(join(project, path)), `${path} is gone`).toBe(true);
    });
  }
});
