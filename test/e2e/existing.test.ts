import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, swarmMolecule } from './support/cli.js';
import { findLeftovers, leftoversSince, NOTHING_LEFT, type Leftovers } from './support/leaks.js';

const project = join(repoRoot, 'fixtures', 'projects', 'existing');
const fleetDir = join(project, 'scenarios', 'fleet');

describe('the existing driver', () => {
  let before: Leftovers;
  beforeAll(async () => {
    before = findLeftovers();
    // Hosts created outside the scenario under test.
    const created = await swarmMolecule(['create', '-s', 'hosts'], project);
    expect(created.exitCode, created.all).toBe(0);
    const state = JSON.parse(readFileSync(join(project, '.swarm-molecule', 'hosts', 'state.json'), 'utf8')) as {
      driverState: { nodes: { name: string; host: string; identityFile: string }[] };
    };
    const [manager, worker] = state.driverState.nodes;
    mkdirSync(fleetDir, { recursive: true });
    writeFileSync(
      join(fleetDir, 'scenario.yml'),
      `driver:
  name: existing
  options:
    leaveSwarmOnDestroy: true
platforms:
  - name: ${manager?.name}
    groups: [swarm-leader, swarm-manager]
    address: ${manager?.host}
    identityFile: ${manager?.identityFile}
  - name: ${worker?.name}
    groups: [swarm-worker]
    address: ${worker?.host}
    identityFile: ${worker?.identityFile}
converge:
  - step: swarm/init
  - step: swarm/join-workers
verify:
  - step: swarm/node-roles
`,
    );
  });
  afterAll(async () => {
    await swarmMolecule(['destroy', '-s', 'hosts'], project);
    rmSync(fleetDir, { recursive: true, force: true });
    rmSync(join(project, '.swarm-molecule', 'fleet'), { recursive: true, force: true });
    expect(leftoversSince(before)).toEqual(NOTHING_LEFT);
  });

  it('converges and verifies hosts it did not create, trusts their keys on first use, and leaves the swarm on destroy', async () => {
    const result = await swarmMolecule(['test', '-s', 'fleet'], project);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toMatch(/trusting host key on first use: ssh-ed25519/);
    expect(result.all).toMatch(/changed\s+fleet-worker .*swarm: inactive → worker/);
    const known = JSON.parse(readFileSync(join(project, '.swarm-molecule', 'fleet', 'known_hosts.json'), 'utf8')) as Record<string, string>;
    expect(Object.values(known)).toHaveLength(2);
    // destroy made them leave: a second run joins them again, and the keys are now checked, not trusted anew.
    const again = await swarmMolecule(['test', '-s', 'fleet'], project);
    expect(again.exitCode, again.all).toBe(0);
    expect(again.all).not.toMatch(/trusting host key/);
    expect(again.all).toMatch(/changed\s+fleet-manager .*swarm: inactive → manager/);
  });

  it('refuses a host whose key changed', async () => {
    const file = join(project, '.swarm-molecule', 'fleet', 'known_hosts.json');
    const known = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    // Each address recorded with the other host's key: what a man in the middle would present.
    const [[addressA, keyA], [addressB, keyB]] = Object.entries(known) as [[string, string], [string, string]];
    writeFileSync(file, JSON.stringify({ [addressA]: keyB, [addressB]: keyA }));
    const result = await swarmMolecule(['create', '-s', 'fleet'], project);
    expect(result.exitCode, result.all).toBe(3);
    expect(result.all).toMatch(/host key of fleet-(manager|worker) \(10\.[\d.]+:22\) is not the one recorded/);
  });
});
