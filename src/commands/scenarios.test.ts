import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { selectedScenarios } from './scenarios.js';

function project(scenarios: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sm-select-'));
  for (const [name, text] of Object.entries(scenarios)) {
    mkdirSync(join(dir, 'scenarios', name), { recursive: true });
    writeFileSync(join(dir, 'scenarios', name, 'scenario.yml'), text);
  }
  return dir;
}

const GOOD = 'platforms:\n  - name: m1\n    groups: [swarm-leader, swarm-manager]\n';

describe('selectedScenarios', () => {
  it('reports every broken scenario of --all, each with its positions', async () => {
    const dir = project({ alpha: 'platforms: 3\n', beta: GOOD, gamma: 'driver: { name: nope }\n' + GOOD });
    const error = await selectedScenarios(dir, { all: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/^2 scenarios are not valid:\n {2}Scenario "alpha".*\n {2}Scenario "gamma"/);
    expect(new Set((error as ConfigError).diagnostics.map((d) => d.file.split('/').at(-2)))).toEqual(new Set(['alpha', 'gamma']));
  });

  it('passes one broken scenario on as it is', async () => {
    const dir = project({ alpha: 'platforms: 3\n', beta: GOOD });
    await expect(selectedScenarios(dir, { all: true })).rejects.toThrow(/^Scenario "alpha" is not valid/);
  });
});
