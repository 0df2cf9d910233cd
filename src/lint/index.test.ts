import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario, type Scenario } from '../config/index.js';
import { lintRules, lintScenario } from './index.js';

const project = await mkdtemp(join(tmpdir(), 'swarm-molecule-lint-'));
let count = 0;

async function load(text: string): Promise<Scenario> {
  const name = `s${count++}`;
  await mkdir(join(project, 'scenarios', name), { recursive: true });
  await writeFile(join(project, 'scenarios', name, 'scenario.yml'), text);
  return loadScenario(project, name);
}

const found = async (text: string) => (await lintScenario(await load(text))).map((d) => `${d.line}:${d.col} ${d.severity} ${d.code}`);

const PLATFORMS = `platforms:
  - name: manager-01
    groups: [swarm-leader]
  - name: worker-01
    groups: [swarm-worker]
`;

describe('lintScenario', () => {
  it('finds nothing in a clean scenario', async () => {
    expect(await found(PLATFORMS)).toEqual([]);
  });

  it('reports with the rule id as code, a message, a hint and a frame', async () => {
    const [d] = await lintScenario(await load(`${PLATFORMS}converge: [] \n`));
    expect(d).toMatchObject({ line: 6, col: 13, severity: 'warning', code: 'yaml-trailing-spaces', message: 'Trailing whitespace.' });
    expect(d?.hint).toBeTruthy();
    expect(d?.frame).toContain('> 6 | converge: [] ');
  });

  it('sorts findings by line and column', async () => {
    // yaml-truthy runs after yaml-trailing-spaces but finds the first problem.
    const text = `${PLATFORMS}verify:\n  - step: swarm/node-roles \n    name: on\n`.replace('[swarm-worker]', '[swarm-worker]\n    labels: { ssd: yes }');
    expect(await found(text)).toEqual(['6:20 warning yaml-truthy', '8:27 warning yaml-trailing-spaces', '9:11 warning yaml-truthy']);
  });

  it('honours lint.rules: off, and a changed severity', async () => {
    const text = `${PLATFORMS}verify:\n  - step: swarm/node-roles \n    name: on\nlint:\n  rules:\n    yaml-trailing-spaces: off\n    yaml-truthy: error\n`;
    expect(await found(text)).toEqual(['8:11 error yaml-truthy']);
  });

  it('honours disable comments on the line and on the line before', async () => {
    const text = `${PLATFORMS}verify:
  - step: swarm/node-roles
    name: on # swarm-molecule-lint-disable-line yaml-truthy
  # swarm-molecule-lint-disable-next-line yaml-truthy
  - step: swarm/node-roles
    name: off
  - step: swarm/node-roles
    name: yes # swarm-molecule-lint-disable-line yaml-tabs
`;
    expect(await found(text)).toEqual(['11:11 warning yaml-truthy', '13:11 warning yaml-truthy']);
  });

  it('has one-line reasons and kebab-case ids for the docs', () => {
    for (const [id, rule] of Object.entries(lintRules)) {
      expect(rule.id).toBe(id);
      expect(id).toMatch(/^[a-z]+(-[a-z]+)+$/);
      expect(rule.reason).not.toContain('\n');
      expect(rule.reason.length).toBeLessThan(120);
    }
  });

  // Speed is measured by `npm run bench`, never asserted here: the machine is shared and noisy.
  it('lints a large scenario (9 managers, 50 verify entries)', async () => {
    const managers = Array.from({ length: 9 }, (_, i) => `  - name: m${i}\n    groups: [${i === 0 ? 'swarm-leader' : 'swarm-manager'}]\n`).join('');
    const verify = Array.from({ length: 50 }, () => '  - step: swarm/rolling-update\n    with: { replicas: 2, parallelism: 2, constraints: [node.labels.zone==a] }\n').join('');
    const scenario = await load(`platforms:\n${managers}verify:\n${verify}`);
    expect((await lintScenario(scenario)).length).toBeGreaterThan(50);
  });
});
