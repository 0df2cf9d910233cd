import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { repoRoot, swarmMolecule } from '../support/cli.js';
import { findLeftovers, leftoversSince, NOTHING_LEFT, type Leftovers } from '../support/leaks.js';
import { machineGroupEntries } from '../support/machine.js';

// A Molecule scenario of a Galaxy-style Swarm role, moved over unchanged:
// requirements.yml (a collection from a local tarball), prepare.yml,
// converge.yml (include_role), verify.yml, molecule-notest tags.
const fixture = join(repoRoot, 'fixtures', 'projects', 'molecule-role');

/** The group the role creates (its defaults/main.yml), as its entries would start. */
const ROLE_GROUP = 'swarmapp:';

/** What else the role would change were the nodes this machine: apt's lists, root's home, the motd. */
function machineFiles(): Record<string, string> {
  const files = ['/etc/motd'];
  const under = (dir: string): string[] =>
    existsSync(dir)
      ? readdirSync(dir).flatMap((name) => {
          const path = join(dir, name);
          const stat = statSync(path, { throwIfNoEntry: false });
          if (stat === undefined) return [];
          return stat.isDirectory() ? under(path) : [path];
        })
      : [];
  // Root's home holds this very checkout's caches on some machines: its top level only, and the apt lists whole.
  const home = readdirSync('/root').map((name) => join('/root', name)).filter((p) => statSync(p, { throwIfNoEntry: false })?.isFile());
  const all = [...files, ...under('/var/lib/apt/lists'), ...home, '/root/.swarm_app'];
  return Object.fromEntries(all.map((f) => [f, existsSync(f) ? createHash('sha256').update(readFileSync(f)).digest('hex') : 'absent']));
}

describe('a Molecule scenario of a Galaxy-style role (netns driver)', () => {
  let project: string;
  let before: Leftovers;
  beforeAll(async () => {
    project = mkdtempSync(join(tmpdir(), 'sm-molecule-role-'));
    cpSync(fixture, project, { recursive: true });
    // The collection the role needs, as a Galaxy tarball beside requirements.yml.
    const build = await execa('ansible-galaxy', ['collection', 'build', join(project, 'collections', 'swarm_fixtures', 'docker'), '--output-path', join(project, 'scenarios', 'default', 'files')], { reject: false, all: true });
    expect(build.exitCode, build.all).toBe(0);
    // A third-party role, as a Galaxy role tarball.
    const tar = await execa('tar', ['-czf', join(project, 'scenarios', 'default', 'files', 'legacy_motd.tar.gz'), '-C', join(project, 'deps'), 'legacy_motd'], { reject: false, all: true });
    expect(tar.exitCode, tar.all).toBe(0);
  });
  afterAll(() => {
    rmSync(project, { recursive: true, force: true });
  });
  beforeEach(() => {
    before = findLeftovers();
  });
  afterEach(() => {
    expect(leftoversSince(before)).toEqual(NOTHING_LEFT);
  });

  it('passes test with the role unchanged: dependency from a tarball, prepare once, molecule-notest skipped, this machine untouched', async () => {
    const machine = machineFiles();
    expect(machineGroupEntries(ROLE_GROUP)).toEqual([]);
    const result = await swarmMolecule(['test', '--json', join(project, 'run.json')], project);
    const output = result.all;
    expect(result.exitCode, output).toBe(0);
    const run = JSON.parse(readFileSync(join(project, "run.json"), "utf8")) as { scenarios: { actions: { action: string; status: string; message?: string; converge?: { name: string; hosts: { host: string; status: string; changes: string[] }[] }[] }[] }[] };
    const actions = run.scenarios[0]?.actions ?? [];
    // Molecule's sequence; its side_effect and cleanup are left out: this scenario has none.
    expect(actions.map((a) => `${a.action}:${a.status}`)).toEqual([
      'dependency:passed',
      'destroy:passed',
      'syntax:passed',
      'create:passed',
      'prepare:passed',
      'converge:passed',
      'idempotence:passed',
      'lint:passed',
      'verify:passed',
      'destroy:passed',
    ]);
    // The collection came from the tarball, into the project's cache (the syntax check needed it first).
    expect(actions[0]?.message).toMatch(/^(installed 1 collection and 1 role from requirements\.yml|cached \(\.swarm-molecule\/\.dependencies\/[0-9a-f]{16}\))$/);
    const cache = join(project, '.swarm-molecule', '.dependencies');
    const [key] = readdirSync(cache);
    expect(existsSync(join(cache, key ?? '', 'collections', 'ansible_collections', 'swarm_fixtures', 'docker', 'plugins', 'modules', 'docker_network.py'))).toBe(true);
    // prepare ran once, on both nodes; idempotence did not run it again (it stamps the time).
    const prepare = actions.find((a) => a.action === 'prepare');
    expect(prepare?.converge?.[0]?.hosts.map((h) => `${h.host}:${h.status}`)).toEqual(['app-manager:changed', 'app-worker:changed']);
    // converge: the role's network task ran on the manager only (host_vars), the apt task on both.
    const converge = actions.find((a) => a.action === 'converge')?.converge?.find((s) => s.name === 'converge.yml');
    const manager = converge?.hosts.find((h) => h.host === 'app-manager');
    expect(manager?.changes.join('\n')).toMatch(/task "swarm_app : Create the application network on the managers": changed/);
    expect(manager?.changes.join('\n')).toMatch(/task "swarm_app : Create the application group": changed/);
    expect(converge?.hosts.find((h) => h.host === 'app-worker')?.changes.join('\n')).not.toMatch(/application network/);
    // Ansible's task lines came as they happened, before the host's summary at the playbook's end.
    const live = output.search(/· changed\s+app-manager\s+swarm_app : Create the application group/);
    expect(live, output).toBeGreaterThan(0);
    expect(output.search(/changed\s+app-manager\s+[\d.]+s\s+task "[^\n]*swarm_app : Create the application group"/)).toBeGreaterThan(live);
    // molecule-notest: the apt cache update (which needs the network) never ran.
    const log = readFileSync(join(project, '.swarm-molecule', 'default', 'logs', 'ansible.log'), 'utf8');
    expect(log).toContain('--skip-tags molecule-notest');
    expect(log).not.toMatch(/TASK \[swarm_app : Update the apt cache\]/);
    expect(log).toMatch(/TASK \[swarm_app : Install the tools the application needs\]/);
    // molecule-idempotence-notest: the time stamp changes every run, yet idempotence passed.
    expect(log).toContain('--skip-tags molecule-notest,molecule-idempotence-notest');
    expect(actions.find((a) => a.action === 'idempotence')?.message).toBe('no changes');
    // ansible-lint's findings in the third-party role: listed apart, as warnings, and lint passed.
    const lint = actions.find((a) => a.action === 'lint') as { message?: string; diagnostics?: { code: string; severity: string; file: string; message: string }[] } | undefined;
    expect(lint?.message).toMatch(/^clean; \d+ findings in dependencies \(lint\.dependencies: warning\)$/);
    const third = lint?.diagnostics?.filter((d) => d.code === 'ansible-lint-dependency') ?? [];
    expect(third.length).toBeGreaterThan(0);
    expect(third.every((d) => d.severity === 'warning' && d.file.includes('.swarm-molecule/.dependencies/') && d.file.includes('legacy_motd'))).toBe(true);
    expect(third.map((d) => d.message).join('\n')).toMatch(/in a dependency: (fqcn|no-free-form|name)/);
    expect(output).toContain('ansible-lint findings in dependencies (third-party code, listed apart, not failing):');
    // The role's group, root's marker and apt's lists are the nodes' own: this machine's are byte-identical.
    expect(machineFiles()).toEqual(machine);
    expect(machineGroupEntries(ROLE_GROUP)).toEqual([]);
    expect(output).not.toMatch(/SWMTKN/);
  });

  it('warns when a Molecule 3 converge applies nothing on fresh nodes', async () => {
    const result = await swarmMolecule(['test', '-s', 'noop'], project);
    const output = result.all;
    expect(result.exitCode, output).toBe(0);
    expect(output).toMatch(/warning: converge changed nothing on nodes never converged before/);
    expect(output).toMatch(/warning: no verify steps/);
  });
});
