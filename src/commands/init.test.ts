import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadScenario } from '../config/index.js';
import { optionsSchema } from '../drivers/docker/options.js';
import { checkSyntax } from '../syntax/index.js';
import { scaffoldScenario } from './init.js';

describe('init scenario', () => {
  const projects: string[] = [];
  const project = () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-init-'));
    projects.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of projects.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('writes a netns scenario by default, and a docker one with --driver docker, each loading as written', async () => {
    const dir = project();
    await scaffoldScenario(dir, 'local');
    await scaffoldScenario(dir, 'laptop', 'docker');
    const local = await loadScenario(dir, 'local');
    const laptop = await loadScenario(dir, 'laptop');
    expect(local.driver.name).toBe('netns');
    expect(laptop.driver).toEqual({ name: 'docker', options: { privileged: true } });
    expect(optionsSchema.safeParse(laptop.driver.options).success).toBe(true);
    expect(laptop.platforms.map((p) => p.name)).toEqual(local.platforms.map((p) => p.name.replace('local', 'laptop')));
  });

  it('writes Molecule\'s files with --ansible: a scenario of playbooks that loads and passes the syntax check, with no swarm-leader group', async () => {
    const dir = project();
    const files = await scaffoldScenario(dir, 'from-molecule', 'netns', 'ansible');
    expect(files.map((f) => f.slice(f.lastIndexOf('/') + 1))).toEqual(['scenario.yml', 'requirements.yml', 'prepare.yml', 'converge.yml', 'verify.yml']);
    const scenario = await loadScenario(dir, 'from-molecule');
    expect(scenario.prepare.map((e) => e.playbook)).toEqual(['prepare.yml']);
    expect(scenario.converge.map((e) => e.playbook)).toEqual(['converge.yml']);
    expect(scenario.verify.map((e) => e.playbook ?? e.step)).toEqual(['swarm/node-roles', 'verify.yml']);
    expect((await checkSyntax(scenario)).filter((d) => d.severity === 'error')).toEqual([]);
  });
});
