import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Scenario } from '../config/types.js';
import { typeCheckCacheFile } from './typecheck-cache.js';
import { typeCheckSteps } from './typecheck.js';

const require = createRequire(import.meta.url);
const realTypeScript = require.resolve('typescript');
const { version } = require('typescript/package.json') as { version: string };

const root = mkdtempSync(join(tmpdir(), 'swarm-molecule-typecheck-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;

/**
 * A project whose TypeScript is the real one behind a wrapper that counts the
 * programs it creates: a check answered from the cache creates none.
 */
function project(files: Record<string, string>) {
  const dir = join(root, `p${count++}`);
  const ts = join(dir, 'node_modules', 'typescript');
  mkdirSync(ts, { recursive: true });
  writeFileSync(join(ts, 'package.json'), JSON.stringify({ name: 'typescript', version, main: 'index.js' }));
  writeFileSync(
    join(ts, 'index.js'),
    `const ts = require(${JSON.stringify(realTypeScript)});\nconst counted = { ...ts, programs: 0 };\ncounted.createProgram = (...args) => { counted.programs++; return ts.createProgram(...args); };\nmodule.exports = counted;\n`,
  );
  write(dir, { 'scenarios/default/scenario.yml': 'platforms: []\n', ...files });
  const scenario = () => ({ name: 'default', dir: join(dir, 'scenarios', 'default'), converge: [{ step: './steps/step.ts' }], verify: [] }) as unknown as Scenario;
  return {
    dir,
    programs: () => (require(join(ts, 'index.js')) as { programs: number }).programs,
    // A new scenario object each time: typeCheckSteps remembers a result per object.
    check: () => typeCheckSteps(scenario()),
    cacheFile: typeCheckCacheFile(scenario()),
  };
}

function write(dir: string, files: Record<string, string>): void {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
}

const STEP = "import { double } from './helper.js';\n\nconst n: number = double(2);\nexport default { name: 'step', n };\n";
const HELPER = 'export function double(x: number): number {\n  return x * 2;\n}\n';
const TSCONFIG = '{ "compilerOptions": { "strict": true, "module": "NodeNext", "moduleResolution": "NodeNext", "target": "ES2022", "types": [] } }\n';

describe('typeCheckSteps cache', { timeout: 120_000 }, () => {
  it('answers an unchanged project from the cache, without a program, with the same diagnostics and frames', async () => {
    const p = project({ 'scenarios/default/steps/step.ts': STEP.replace('double(2)', "double('2')"), 'scenarios/default/steps/helper.ts': HELPER, 'tsconfig.json': TSCONFIG });
    const first = await p.check();
    expect(p.programs()).toBe(1);
    expect(first.note).toMatch(/^type-checked 1 TypeScript step module with TypeScript \d+\.\d+\.\d+ from .*\(.*tsconfig\.json\)$/);
    expect(first.diagnostics).toHaveLength(1);
    expect(first.diagnostics[0]?.frame).toContain("double('2')");
    const second = await p.check();
    expect(p.programs()).toBe(1);
    expect(second.diagnostics).toEqual(first.diagnostics);
    expect(second.note?.startsWith(`${first.note ?? ''} (cached: unchanged since `)).toBe(true);
    expect(second.note).toMatch(/\(cached: unchanged since \d\d:\d\d\)$/);
  });

  it('checks again when the step, the module it imports or tsconfig.json changes', async () => {
    const p = project({ 'scenarios/default/steps/step.ts': STEP, 'scenarios/default/steps/helper.ts': HELPER, 'tsconfig.json': TSCONFIG });
    expect((await p.check()).diagnostics).toEqual([]);
    expect((await p.check()).diagnostics).toEqual([]);
    expect(p.programs()).toBe(1);

    write(p.dir, { 'scenarios/default/steps/step.ts': STEP.replace('const n: number', 'const n: string') });
    expect((await p.check()).diagnostics.map((d) => `${d.line}:${d.col} ${d.message.slice(0, 7)}`)).toEqual(['3:7 TS2322:']);
    expect(p.programs()).toBe(2);

    write(p.dir, { 'scenarios/default/steps/step.ts': STEP, 'scenarios/default/steps/helper.ts': HELPER.replace('number {', 'string {').replace('x * 2', 'String(x)') });
    expect((await p.check()).diagnostics.map((d) => `${d.line}:${d.col} ${d.message.slice(0, 7)}`)).toEqual(['3:7 TS2322:']);
    expect(p.programs()).toBe(3);

    write(p.dir, { 'scenarios/default/steps/helper.ts': `${HELPER}const unused = 1;\n` });
    expect((await p.check()).diagnostics).toEqual([]);
    write(p.dir, { 'tsconfig.json': TSCONFIG.replace('"strict": true', '"strict": true, "noUnusedLocals": true') });
    expect((await p.check()).diagnostics.map((d) => `${d.file.split('/').pop() ?? ''}:${d.line}:${d.col} ${d.message.slice(0, 7)}`)).toEqual(['helper.ts:4:7 TS6133:']);
    expect(p.programs()).toBe(5);
    expect((await p.check()).note).toContain('(cached: ');
    expect(p.programs()).toBe(5);
  });

  it('checks again when a module that was not found appears', async () => {
    const p = project({ 'scenarios/default/steps/step.ts': STEP });
    expect((await p.check()).diagnostics.map((d) => d.message.slice(0, 7))).toEqual(['TS2307:']);
    write(p.dir, { 'scenarios/default/steps/helper.ts': HELPER });
    expect((await p.check()).diagnostics).toEqual([]);
    expect(p.programs()).toBe(2);
  });

  it('takes a corrupt or foreign cache file as a miss, and rewrites it', async () => {
    const p = project({ 'scenarios/default/steps/step.ts': STEP, 'scenarios/default/steps/helper.ts': HELPER });
    await p.check();
    for (const damage of ['{ not json', JSON.stringify({ version: 999 }), JSON.stringify({ ...JSON.parse(readFileSync(p.cacheFile, 'utf8')), files: 'none' })]) {
      const before = p.programs();
      writeFileSync(p.cacheFile, damage);
      const checked = await p.check();
      expect(checked.note).not.toContain('cached');
      expect(p.programs()).toBe(before + 1);
      expect((JSON.parse(readFileSync(p.cacheFile, 'utf8')) as { version: number }).version).toBe(1);
      expect((await p.check()).note).toContain('(cached: ');
      expect(p.programs()).toBe(before + 1);
    }
  });

  it('still checks when the cache cannot be written, and says so', async () => {
    const p = project({ 'scenarios/default/steps/step.ts': STEP.replace('const n: number', 'const n: string'), 'scenarios/default/steps/helper.ts': HELPER });
    // A file where the cache directory would be: as a read-only project, the write fails.
    write(p.dir, { '.swarm-molecule/.cache': 'not a directory' });
    const checked = await p.check();
    expect(checked.diagnostics).toHaveLength(1);
    expect(checked.note).toMatch(/^type-checked 1 TypeScript step module .* \(not cached: .+\)$/);
    expect((await p.check()).diagnostics).toEqual(checked.diagnostics);
    expect(p.programs()).toBe(2);
  });
});
