import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startPausedAtPartition, swarmMolecule } from './support/cli.js';
import { findLeftovers, leftoversSince, NOTHING_LEFT, type Leftovers } from './support/leaks.js';

const project = join(repoRoot, 'fixtures', 'projects', 'existing');
const fleetDir = join(project, 'scenarios', 'fleet');
const cutDir = join(project, 'scenarios', 'cut');
let hosts: { name: string; host: string; identityFile: string }[] = [];
/** Where the partition's apply command (in the cut scenario) writes the rules it put in place, on each host. */
const SEEN = '/var/tmp/sm-cut.seen';

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
    hosts = state.driverState.nodes;
    const [manager, worker] = hosts;
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
    for (const name of ['fleet', 'cut']) {
      rmSync(join(project, 'scenarios', name), { recursive: true, force: true });
      rmSync(join(project, '.swarm-molecule', name), { recursive: true, force: true });
    }
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
  it('partitions the hosts only with the commands the scenario gives: swarm/partition-worker passes, with their rules on the hosts while it runs; a killed harness leaves the cut recorded and destroy takes it off the hosts', async () => {
    // The user's way to cut a host off: a chain of theirs in INPUT, fed the addresses to drop; heal removes it (and succeeds when there is none).
    // Once its rules are in place, it writes them to a file on the host: the proof that they were, read after the run.
    const apply = ['sh', '-c', `iptables -w -N SM_CUT; for a in "$@"; do iptables -w -A SM_CUT -s "$a" -j DROP; done; iptables -w -I INPUT 1 -j SM_CUT; iptables -w -S SM_CUT > ${SEEN}`, 'sh'];
    const heal = ['sh', '-c', 'while iptables -w -D INPUT -j SM_CUT 2>/dev/null; do :; done; iptables -w -F SM_CUT 2>/dev/null; iptables -w -X SM_CUT 2>/dev/null; true'];
    const [manager, ...workers] = hosts;
    const platform = (host: (typeof hosts)[number] | undefined, group: string) => `  - name: ${host?.name}\n    groups: [${group}]\n    address: ${host?.host}\n    identityFile: ${host?.identityFile}\n`;
    mkdirSync(cutDir, { recursive: true });
    writeFileSync(
      join(cutDir, 'scenario.yml'),
      `driver:\n  name: existing\n  options:\n    leaveSwarmOnDestroy: true\n    partition:\n      apply: ${JSON.stringify(apply)}\n      heal: ${JSON.stringify(heal)}\n` +
        `platforms:\n${platform(manager, 'swarm-leader, swarm-manager')}${workers.map((w) => platform(w, 'swarm-worker')).join('')}` +
        'converge:\n  - step: swarm/init\n  - step: swarm/join-workers\nverify:\n  - step: swarm/partition-worker\n  - step: swarm/node-roles\n',
    );
    /** The user's chain on each host (read through the hosts' own scenario), hosts without one left out. */
    const rules = async () => onEach(['iptables', '-w', '-S', 'SM_CUT']);
    /** What each host's apply wrote once its rules were in place (see `apply`). */
    const applied = async () => onEach(['cat', SEEN]);
    /** `argv` on each host: the output of each where it succeeded. */
    const onEach = async (argv: string[]) => {
      const found: Record<string, string> = {};
      for (const host of hosts) {
        const listed = await swarmMolecule(['exec', '-s', 'hosts', '-h', host.name, '--', ...argv], project);
        if (listed.exitCode === 0) found[host.name] = listed.stdout.trim();
      }
      return found;
    };
    const isolatedIn = (sample: Record<string, string>) => workers.find((w) => sample[w.name]?.match(/-j DROP/g)?.length === 2)?.name;

    const converge = await swarmMolecule(['converge', '-s', 'cut'], project);
    expect(converge.exitCode, converge.all).toBe(0);
    await onEach(['rm', '-f', SEEN]);
    expect(await applied()).toEqual({});
    const result = await swarmMolecule(['verify', '-s', 'cut'], project);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toMatch(/passed +swarm\/partition-worker/);
    // The fault happened with the user's commands: one worker dropped the 2 other hosts, and they dropped it.
    // (Proved by what apply wrote on each host, not by sampling the rules while the step ran: a loaded
    // machine can sample too slowly to see the cut.)
    const cut = await applied();
    expect(Object.keys(cut).sort(), JSON.stringify(cut)).toEqual(hosts.map((h) => h.name).sort());
    const isolated = isolatedIn(cut);
    expect(isolated, JSON.stringify(cut)).toBeDefined();
    for (const host of hosts.filter((h) => h.name !== isolated)) expect(cut[host.name]?.match(/-j DROP/g)).toHaveLength(1);
    // And healed: no chain is left on any host.
    expect(await rules()).toEqual({});

    // Killed with the cut in place: it stays recorded, and destroy takes it off the hosts (they outlive the run).
    const { run: paused, paused: reached, seen } = await startPausedAtPartition(['verify', '-s', 'cut'], project);
    expect(reached, seen()).toBe(true);
    expect(isolatedIn(await rules())).toBeDefined();
    paused.kill('SIGKILL');
    expect((await paused).signal).toBe('SIGKILL');
    const state = JSON.parse(readFileSync(join(project, '.swarm-molecule', 'cut', 'state.json'), 'utf8')) as { driverState: { data?: { partition?: unknown } } };
    expect(state.driverState.data?.partition).toBeDefined();
    const destroy = await swarmMolecule(['destroy', '-s', 'cut'], project);
    expect(destroy.exitCode, destroy.all).toBe(0);
    expect(destroy.all).toMatch(/removing the partition .* left in place/);
    expect(await rules()).toEqual({});
  });
});
