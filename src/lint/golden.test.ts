import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listScenarios, loadScenario } from '../config/index.js';
import { sortDiagnostics } from '../config/positions.js';
import { ConfigError, type Diagnostic } from '../errors.js';
import { checkSyntax } from '../syntax/index.js';
import { lintRules, lintScenario } from './index.js';

// Each fixtures/scenarios/<case> is loaded, checked and linted as `swarm-molecule
// lint` would; the findings must equal <case>/expected.json (messages aside).
// Rewrite the expectations with UPDATE_GOLDEN=1 and review the diff.
const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = join(root, 'fixtures');
const cases = await listScenarios(fixtures);
const update = process.env.UPDATE_GOLDEN === '1';

interface Finding {
  code: string;
  file: string;
  line: number;
  col: number;
  severity: Diagnostic['severity'];
}

async function diagnose(name: string): Promise<Diagnostic[]> {
  try {
    const scenario = await loadScenario(fixtures, name);
    return sortDiagnostics([...(await checkSyntax(scenario)), ...(await lintScenario(scenario))]);
  } catch (error) {
    if (error instanceof ConfigError) return error.diagnostics;
    throw error;
  }
}

const findingOf = (d: Diagnostic): Finding => ({
  code: d.code,
  file: relative(root, resolve(process.cwd(), d.file)),
  line: d.line,
  col: d.col,
  severity: d.severity,
});

async function expected(name: string): Promise<Finding[]> {
  return JSON.parse(await readFile(join(fixtures, 'scenarios', name, 'expected.json'), 'utf8')) as Finding[];
}

describe('golden scenarios', () => {
  it.each(cases)('%s', async (name) => {
    const diagnostics = await diagnose(name);
    for (const d of diagnostics) {
      expect(d.message, `${name}: a message`).toMatch(/\S/);
      expect(d.hint, `${name} ${d.code} ${d.line}:${d.col}: a hint`).toMatch(/\S/);
      expect(d.frame, `${name}: a frame`).toContain('^');
    }
    const actual = diagnostics.map(findingOf);
    const file = join(fixtures, 'scenarios', name, 'expected.json');
    if (update) await writeFile(file, `${JSON.stringify(actual, null, 2)}\n`);
    // A missing expectation fails: writing it here would make the test pass without checking anything.
    expect(existsSync(file), `${file} is missing: write it with UPDATE_GOLDEN=1 and review it`).toBe(true);
    expect(actual).toEqual(await expected(name));
  });

  it('cover every lint rule and every kind of problem', async () => {
    const codes = new Set((await Promise.all(cases.map(expected))).flat().map((f) => f.code));
    for (const code of ['yaml', 'schema', 'syntax', ...Object.keys(lintRules)]) expect(codes, code).toContain(code);
    expect(await expected('clean')).toEqual([]);
  });
});
