import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { repoRoot, swarmMolecule } from './support/cli.js';
import { findLeftovers, leftoversSince, NOTHING_LEFT, type Leftovers } from './support/leaks.js';

// Playbook steps with Debian's ansible-core (scripts/install-ansible-packages).
const fixture = (name: string) => join(repoRoot, 'fixtures', 'projects', name);

/** Every file a run left in a state directory, but the SSH keys: logs, inventory, state, reports. */
function stateFiles(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'ssh') continue;
    if (statSync(path).isDirectory()) files.push(...stateFiles(path));
    else files.push(path);
  }
  return files;
}

function expectNoJoinToken(dir: string): void {
  const files = stateFiles(dir);
  expect(files.length).toBeGreaterThan(0);
  for (const file of files) expect(readFileSync(file, 'utf8'), file).not.toMatch(/SWMTKN/);
}

describe('Ansible playbook steps on real nodes (netns driver)', () => {
  let before: Leftovers;
  beforeEach(() => {
    before = findLeftovers();
  });
  afterEach(() => {
    // Whatever happened in the test, nothing it made may remain on the machine.
    expect(leftoversSince(before)).toEqual(NOTHING_LEFT);
  });

  it('converges the ansible scenario with one playbook, then passes idempotence and verify', async () => {
    const stateDir = join(repoRoot, '.swarm-molecule', 'ansible');
    rmSync(join(stateDir, 'logs'), { recursive: true, force: true });
    const result = await swarmMolecule(['test', '-s', 'ansible', '--json', join(stateDir, 'run.json'), '--junit', join(stateDir, 'report.xml')]);
    const output = result.all;
    expect(result.exitCode, output).toBe(0);
    for (const action of ['syntax', 'create', 'converge', 'idempotence', 'lint', 'verify', 'destroy']) {
      expect(output).toMatch(new RegExp(`^ {2}${action}\\s+passed`, 'm'));
    }
    // Converge: each role's acting task changed its host, named by Ansible's task name.
    expect(output).toMatch(/changed\s+manager-01 .*task "swarm_leader : Initialise the swarm": changed/);
    expect(output).toMatch(/changed\s+manager-03 .*task "swarm_manager : Join the swarm as a manager": changed/);
    expect(output).toMatch(/changed\s+worker-01 .*task "swarm_worker : Join the swarm as a worker": changed/);
    // Idempotence: the rerun reported ok everywhere (the state checks ran, the actions were skipped).
    const idempotence = output.slice(output.indexOf('── idempotence'), output.indexOf('── lint'));
    expect(idempotence).toMatch(/ok\s+worker-01 .*1 ok, 2 skipped/);
    expect(idempotence).not.toMatch(/changed/);
    expect(idempotence).toContain('no changes');
    // Verify: the built-in step and the scenario's verify.yml.
    expect(output).toMatch(/passed\s+swarm\/node-roles/);
    expect(output).toMatch(/passed\s+verify\.yml/);
    // Ansible's output is kept: the whole run, and each task in its node's log.
    expect(readFileSync(join(stateDir, 'logs', 'ansible.log'), 'utf8')).toMatch(/PLAY RECAP[\s\S]*worker-01 +: ok=3 +changed=1/);
    const workerLog = readFileSync(join(stateDir, 'logs', 'worker-01.log'), 'utf8');
    expect(workerLog).toContain('ansible converge.yml: task "swarm_worker : Join the swarm as a worker" changed');
    expect(workerLog).toContain('(output hidden by no_log)');
    // Join tokens never appear: not in the output, the logs, the inventory, the state or the reports.
    expect(output).not.toMatch(/SWMTKN/);
    expectNoJoinToken(stateDir);
  });

  it('fails idempotence naming the task and host that changed, with the diff, and still destroys', async () => {
    const project = fixture('ansible-changed');
    const result = await swarmMolecule(['test'], project);
    const output = result.all;
    expect(result.exitCode, output).toBe(1);
    expect(output).toMatch(/^ {2}idempotence\s+failed/m);
    expect(output).toMatch(/step "converge\.yml" on ansible-worker: task "Stamp the run time": changed \(\/run\/swarm-molecule-stamp: "[^"]+" → "[^"]+"\)/);
    // Only that host changed on the rerun.
    expect(output).not.toMatch(/step "[^"]+" on ansible-manager/);
    expect(output).toMatch(/^ {2}verify\s+skipped/m);
    expect(output).toMatch(/^ {2}destroy\s+passed/m);
    expect(output).not.toMatch(/SWMTKN/);
    expectNoJoinToken(join(project, '.swarm-molecule', 'default'));
  });

  it('fails syntax at the playbook\'s file and line, before any node exists', async () => {
    const project = fixture('ansible-syntax');
    const syntax = await swarmMolecule(['syntax'], project);
    expect(syntax.exitCode, syntax.all).toBe(2);
    expect(syntax.all).toContain('scenarios/default/converge.yml:8:20 error syntax Syntax Error while loading YAML. mapping values are not allowed in this context');
    expect(syntax.all).toContain('> 8 |        changed_when: false');

    const test = await swarmMolecule(['test'], project);
    expect(test.exitCode, test.all).toBe(2);
    // Refused before the sequence starts: the same position, and nothing touched.
    expect(test.all).toContain('Scenario "default" fails the syntax check (1 error): nothing was touched.');
    expect(test.all).toContain('scenarios/default/converge.yml:8:20 error syntax');
    expect(existsSync(join(project, '.swarm-molecule', 'default', 'state.json'))).toBe(false);
  });
});
