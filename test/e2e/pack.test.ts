import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/cli.js';
import { findLeftovers, leftoversSince, NOTHING_LEFT } from './support/leaks.js';

/**
 * "Use it in your repo", as the README says: the packed package installed into
 * a fresh project, a scenario scaffolded there, then `syntax` and `test`.
 */
describe('swarm-molecule installed from its npm pack into a new project', () => {
  const before = findLeftovers();
  const work = mkdtempSync(join(tmpdir(), 'sm-pack-'));
  const project = join(work, 'my-swarm');
  const run = (file: string, args: string[]) => execa(file, args, { cwd: project, reject: false, all: true, env: { CI: 'true', NO_COLOR: '1' } });

  afterAll(async () => {
    if (existsSync(join(project, 'node_modules', '.bin', 'swarm-molecule'))) await run('npx', ['swarm-molecule', 'destroy', '-s', 'demo']);
    expect(leftoversSince(before)).toEqual(NOTHING_LEFT);
    rmSync(work, { recursive: true, force: true });
  });

  it('installs, scaffolds a scenario whose $schema resolves, passes syntax, and passes test on real nodes', async () => {
    const pack = await execa('npm', ['pack', '--ignore-scripts', '--pack-destination', work, '--json'], { cwd: repoRoot });
    const tarball = join(work, (JSON.parse(pack.stdout) as { filename: string }[])[0]?.filename ?? '');
    await execa('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-swarm', private: true, type: 'module' }, null, 2));
    const install = await run('npm', ['i', '-D', '--no-audit', '--no-fund', '--prefer-offline', tarball]);
    expect(install.exitCode, install.all).toBe(0);

    const init = await run('npx', ['swarm-molecule', 'init', 'scenario', 'demo']);
    expect(init.exitCode, init.all).toBe(0);
    const scenarioFile = join(project, 'scenarios', 'demo', 'scenario.yml');
    const schemaRef = /\$schema=(\S+)/.exec(readFileSync(scenarioFile, 'utf8'))?.[1] ?? '';
    expect(schemaRef).toBe('../../node_modules/swarm-molecule/schema/scenario.schema.json');
    expect(existsSync(resolve(dirname(scenarioFile), schemaRef))).toBe(true);

    const syntax = await run('npx', ['swarm-molecule', 'syntax', '-s', 'demo']);
    expect(syntax.exitCode, syntax.all).toBe(0);

    const test = await run('npx', ['swarm-molecule', 'test', '-s', 'demo', '--junit', 'report.xml']);
    expect(test.exitCode, test.all).toBe(0);
    expect(readFileSync(join(project, 'report.xml'), 'utf8')).toMatch(/<testsuite name="demo" [^>]*failures="0" errors="0"/);
  });
});
