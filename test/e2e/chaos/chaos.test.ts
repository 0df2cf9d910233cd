import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARTITION_TABLE } from '../../../src/drivers/host/partition.js';
import { repoRoot, startPausedAtPartition, startUntilSaid, swarmMolecule } from '../support/cli.js';
import { leftoversOfRuns, machineLeftovers, NOTHING_LEFT } from '../support/leaks.js';

/**
 * The chaos steps on real nodes (netns driver). One cluster (3 managers, 2
 * workers) serves every case but the Ctrl-C one, which needs `test` to make
 * and destroy its own: the steps pass on it, a service pinned to the isolated
 * worker fails swarm/partition-worker with the task table, and a harness
 * killed while a partition is in place leaves it recorded until `converge`
 * heals it and `destroy` removes everything.
 */
const root = mkdtempSync(join(tmpdir(), 'sm-chaos-'));
const chaosScenario = readFileSync(join(repoRoot, 'scenarios', 'chaos', 'scenario.yml'), 'utf8');

function writeScenario(project: string, name: string, text: string): void {
  mkdirSync(join(project, 'scenarios', name), { recursive: true });
  writeFileSync(join(project, 'scenarios', name, 'scenario.yml'), text);
}

/** The chaos scenario with another verify list. */
const withVerify = (verify: string) => chaosScenario.replace(/\nverify:\n[\s\S]*$/, `\nverify:\n${verify}`);

interface NodeNs {
  name: string;
  netns: string;
}
function stateOf(project: string, scenario: string): { runId: string; nodes: (NodeNs & { pid?: number })[]; partition?: unknown } {
  const state = JSON.parse(readFileSync(join(project, '.swarm-molecule', scenario, 'state.json'), 'utf8')) as {
    driverState: { data: { runId: string; partition?: unknown }; nodes: { name: string; data: { netns: string; process?: { pid: number } } }[] };
  };
  return {
    runId: state.driverState.data.runId,
    nodes: state.driverState.nodes.map((n) => ({ name: n.name, netns: n.data.netns, ...(n.data.process ? { pid: n.data.process.pid } : {}) })),
    partition: state.driverState.data.partition,
  };
}

/** Run the CLI and, while it runs, `sample` what the machine shows about once a second: the samples, and the result. */
async function watching<T>(args: string[], project: string, sample: () => T) {
  const run = swarmMolecule(args, project);
  let done = false;
  void run.then(() => {
    done = true;
  });
  const samples: T[] = [];
  while (!done) {
    samples.push(sample());
    await sleep(1000);
  }
  return { result: await run, samples };
}

/** Run a command on a manager until it succeeds (the swarm may still be electing a Leader after a failed step). */
async function onManagerUntilDone(project: string, argv: string[], manager = 'manager-01'): Promise<void> {
  let last = '';
  for (let attempt = 0; attempt < 30; attempt++) {
    const result = await swarmMolecule(['exec', '-s', 'chaos', '-h', manager, '--', ...argv], project);
    if (result.exitCode === 0) return;
    last = result.all;
    await sleep(2000);
  }
  throw new Error(`${argv.join(' ')} never succeeded: ${last}`);
}

const MANAGERS = ['manager-01', 'manager-02', 'manager-03'];

/** The manager that is Leader now: earlier steps (failovers, partitions) move the leadership. */
async function currentLeader(project: string): Promise<string> {
  for (const manager of MANAGERS) {
    const result = await swarmMolecule(['exec', '-s', 'chaos', '-h', manager, '--', 'docker', 'node', 'ls', '--format', '{{.Hostname}} {{.ManagerStatus}}'], project);
    const leader = /^(\S+) Leader$/m.exec(result.stdout)?.[1];
    if (result.exitCode === 0 && leader) return leader;
  }
  throw new Error('No manager names a Leader.');
}

/**
 * Wait until a manager lists exactly these managers as Leader or Reachable, one
 * of them Leader: after a demote or a healed partition Swarm may still be
 * settling, and a step started meanwhile measures the election, not its claim.
 */
async function untilManagersSettle(project: string, managers: readonly string[]): Promise<void> {
  let last = '';
  for (let attempt = 0; attempt < 45; attempt++) {
    const result = await swarmMolecule(['exec', '-s', 'chaos', '-h', 'manager-01', '--', 'docker', 'node', 'ls', '--format', '{{.Hostname}} {{.ManagerStatus}}'], project);
    last = result.all;
    const status = new Map(result.stdout.split('\n').map((line): [string, string] => [line.trim().split(' ')[0] ?? '', line.trim().split(' ')[1] ?? '']));
    const listed = [...status].filter(([, s]) => s === 'Leader' || s === 'Reachable').map(([name]) => name).sort();
    if (result.exitCode === 0 && [...status.values()].filter((s) => s === 'Leader').length === 1 && listed.join() === [...managers].sort().join()) return;
    await sleep(2000);
  }
  throw new Error(`The managers did not settle as ${managers.join(', ')} with one Leader: ${last}`);
}

/**
 * Make a demoted manager a manager again, as a new member: it leaves the swarm,
 * the Leader removes its entry, and converge joins it as a manager. Not
 * `docker node promote`: on the nodes' Docker 20.10, a node promoted again
 * after the managers lost and regained quorum can crash its dockerd (a panic in
 * swarmkit's raft, stepFollower, on the Leader's first heartbeat; seen in CI
 * with the dockerd.log tail), which is Docker's bug and not what these cases test.
 */
async function rejoinAsManager(project: string, node: string, leader: string): Promise<void> {
  await swarmMolecule(['exec', '-s', 'chaos', '-h', node, '--', 'docker', 'swarm', 'leave', '--force'], project);
  await onManagerUntilDone(project, ['docker', 'node', 'rm', '--force', node], leader);
  const converge = await swarmMolecule(['converge', '-s', 'chaos'], project);
  expect(converge.exitCode, converge.all).toBe(0);
  expect(converge.all).toMatch(new RegExp(`changed +${node} .*swarm: inactive → manager`));
  // The next case starts from 3 managers, each one Reachable, one Leader.
  await untilManagersSettle(project, MANAGERS);
}

/** Our partition table in each node's netns, as nft lists it (nodes without one are left out). */
function partitionRules(nodes: readonly NodeNs[]): Record<string, string> {
  const rules: Record<string, string> = {};
  for (const node of nodes) {
    if (!existsSync(`/run/netns/${node.netns}`)) continue;
    try {
      rules[node.name] = execFileSync('nsenter', [`--net=/run/netns/${node.netns}`, 'nft', 'list', 'table', 'inet', PARTITION_TABLE], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      // no such table
    }
  }
  return rules;
}

describe('chaos steps (real nodes)', () => {
  it('syntax refuses a partition step the scenario cannot serve, with the reason at file:line:col', async () => {
    const project = join(root, 'syntax');
    writeScenario(project, 'ok', chaosScenario);
    writeScenario(project, 'two-managers', chaosScenario.replace('  - name: manager-03\n    groups: [swarm-manager]\n', ''));
    // The user's own hosts are not ours to filter: existing cannot partition.
    writeScenario(project, 'existing', chaosScenario.replace('driver:\n  name: netns', 'driver:\n  name: existing').replace(/( {4}groups: \[[^\]]*\]\n)/g, '$1    address: 192.0.2.10\n'));
    expect((await swarmMolecule(['syntax', '-s', 'ok'], project)).exitCode).toBe(0);
    const two = await swarmMolecule(['syntax', '-s', 'two-managers'], project);
    expect(two.exitCode).toBe(2);
    expect(two.all).toMatch(/scenario\.yml:\d+:\d+.*swarm\/partition-minority needs at least 3 managers .*this scenario has 2 \(manager-01, manager-02\)/);
    expect(two.all).toMatch(/swarm\/quorum-loss needs at least 3 managers/);
    const existing = await swarmMolecule(['syntax', '-s', 'existing'], project);
    expect(existing.exitCode).toBe(2);
    expect(existing.all).toMatch(/scenario\.yml:\d+:\d+.*swarm\/partition-minority needs a driver that can partition the node network; the existing driver cannot unless its options say how/);
    expect(existing.all).toMatch(/swarm\/partition-worker needs a driver that can partition/);
    expect(existing.all).toMatch(/Set driver\.options\.partition: "iptables"/);
  });

  describe('on one cluster of 3 managers and 2 workers', () => {
    const project = join(root, 'cluster');
    let runId = '';
    beforeAll(async () => {
      writeScenario(project, 'chaos', chaosScenario);
      const converge = await swarmMolecule(['converge', '-s', 'chaos'], project);
      expect(converge.exitCode, converge.all).toBe(0);
      runId = stateOf(project, 'chaos').runId;
    });
    afterAll(async () => {
      const destroy = await swarmMolecule(['destroy', '-s', 'chaos'], project);
      expect(destroy.exitCode, destroy.all).toBe(0);
      expect(leftoversOfRuns(machineLeftovers(), [runId])).toEqual(NOTHING_LEFT);
    });

    it('passes swarm/partition-minority, swarm/partition-worker and swarm/quorum-loss, and heals every partition', async () => {
      const verify = await swarmMolecule(['verify', '-s', 'chaos'], project);
      expect(verify.exitCode, verify.all).toBe(0);
      for (const step of ['swarm/partition-minority', 'swarm/partition-worker', 'swarm/quorum-loss']) expect(verify.all).toMatch(new RegExp(`passed +${step}`));
      // The minority and the quorum-less survivor answered with Swarm's own error.
      expect(verify.all).toMatch(/manager-0\d \(minority\) refused a write: .*The swarm does not have a leader/);
      expect(verify.all).toMatch(/refused a write: .*The swarm does not have a leader/);
      expect(verify.all).toMatch(/task\(s\) still running on the workers, same task IDs/);
      const state = stateOf(project, 'chaos');
      expect(state.partition).toBeUndefined();
      expect(partitionRules(state.nodes)).toEqual({});
    });

    it('fails swarm/partition-worker with the task table when the service is pinned to the isolated worker', async () => {
      // The image is on the nodes since the first case (its steps load the test images); run the file, not this case alone.
      const create = await swarmMolecule(
        ['exec', '-s', 'chaos', '-h', 'manager-01', '--', 'docker', 'service', 'create', '--detach', '--no-resolve-image', '--name', 'pinned', '--constraint', 'node.hostname==worker-01', '--stop-grace-period', '1s', 'swarm-molecule/web:v1'],
        project,
      );
      expect(create.exitCode, create.all).toBe(0);
      writeScenario(project, 'chaos', withVerify('  - step: swarm/partition-worker\n    with: { service: pinned, worker: worker-01, timeout: 20s }\n'));
      const worker = stateOf(project, 'chaos').nodes.filter((n) => n.name === 'worker-01');
      const { result: verify, samples } = await watching(['verify', '-s', 'chaos'], project, () => partitionRules(worker)['worker-01']);
      // The fault happened: worker-01's netns dropped what came from the other nodes while the step ran.
      expect(samples.some((rules) => /ip saddr \{[\d.,\s]+\} drop/.test(rules ?? '')), `${samples.join('\n')}\n${verify.all}`).toBe(true);
      expect(verify.exitCode, verify.all).toBe(1);
      expect(verify.all).toMatch(/isolated worker-01 \(1 task\(s\) of pinned\)/);
      expect(verify.all).toMatch(/expected[\s\S]*1 task\(s\) of pinned Running swarm-molecule\/web:v1, none on worker-01/);
      // The observed task table: the one replica can go nowhere but worker-01.
      expect(verify.all).toMatch(/observed[\s\S]*NAME +IMAGE +NODE +DESIRED +CURRENT[\s\S]*pinned\.1/);
      // Failed, but healed on its way out.
      expect(partitionRules(stateOf(project, 'chaos').nodes)).toEqual({});
      const remove = await swarmMolecule(['exec', '-s', 'chaos', '-h', 'manager-01', '--', 'docker', 'service', 'rm', 'pinned'], project);
      expect(remove.exitCode, remove.all).toBe(0);
    });

    it('fails swarm/partition-minority when a manager was demoted behind the scenario\'s back: the cut Leader leaves one manager, no majority', async () => {
      // The scenario says 3 managers; the swarm has 2 after this. Cutting the Leader leaves the other one alone of 2.
      const leaderName = await currentLeader(project);
      const majority = MANAGERS.filter((m) => m !== leaderName);
      const [alone, demoted] = majority as [string, string];
      await onManagerUntilDone(project, ['docker', 'node', 'demote', demoted], leaderName);
      try {
        writeScenario(project, 'chaos', withVerify('  - step: swarm/partition-minority\n    with: { timeout: 20s }\n'));
        const leader = stateOf(project, 'chaos').nodes.filter((n) => n.name === leaderName);
        const { result: verify, samples } = await watching(['verify', '-s', 'chaos'], project, () => partitionRules(leader)[leaderName]);
        // The fault happened: the Leader, cut, dropped what came from the 4 other nodes.
        expect(samples.some((rules) => /ip saddr \{\s*[\d.]+,\s*[\d.]+,\s*[\d.]+,\s*[\d.]+\s*\} drop/.test(rules ?? '')), `${samples.join('\n')}\n${verify.all}`).toBe(true);
        expect(verify.all).toContain(`partition: ${leaderName} | `);
        expect(verify.exitCode, verify.all).toBe(1);
        expect(verify.all).toContain(`No manager of the majority (${majority.join(', ')}) answers as part of a swarm with a Leader`);
        expect(verify.all).toMatch(new RegExp(`expected[\\s\\S]*one of ${majority.join(', ')} Leader`));
        // Swarm's own answers: the one left has no quorum of 2, the demoted one is no manager at all.
        // (It either knows it has no Leader, or still forwards to the one it cannot reach and times out.)
        expect(verify.all).toMatch(new RegExp(`observed[\\s\\S]*${alone}: .*(The swarm does not have a leader|context deadline exceeded)`));
        expect(verify.all).toMatch(new RegExp(`${demoted}: .*This node is not a swarm manager`));
        expect(stateOf(project, 'chaos').partition).toBeUndefined();
        expect(partitionRules(stateOf(project, 'chaos').nodes)).toEqual({});
      } finally {
        await rejoinAsManager(project, demoted, leaderName);
      }
    });

    it('fails swarm/quorum-loss when the manager left running was demoted: no manager is left to refuse the write', async () => {
      await onManagerUntilDone(project, ['docker', 'node', 'demote', 'manager-03']);
      try {
        await untilManagersSettle(project, ['manager-01', 'manager-02']);
        writeScenario(project, 'chaos', withVerify('  - step: swarm/quorum-loss\n    with: { timeout: 45s }\n'));
        const before = stateOf(project, 'chaos').nodes.filter((n) => n.name === 'manager-01' || n.name === 'manager-02');
        expect(before.every((n) => n.pid !== undefined && existsSync(`/proc/${n.pid}`))).toBe(true);
        const { result: verify, samples } = await watching(['verify', '-s', 'chaos'], project, () =>
          stateOf(project, 'chaos')
            .nodes.filter((n) => n.pid === undefined)
            .map((n) => n.name)
            .join(','),
        );
        // Which of the two it stops first is Swarm's order (the Leader first); the whole output shows when it never got there.
        expect(verify.all).toMatch(/stopped (manager-01, manager-02|manager-02, manager-01) \(2 of 3 managers\)/);
        // The fault happened: the state recorded manager-01 and manager-02 stopped at once, and their node processes died.
        expect(samples, `${samples.join('\n')}\n${verify.all}`).toContain('manager-01,manager-02');
        expect(before.filter((n) => existsSync(`/proc/${n.pid}`))).toEqual([]);
        expect(verify.exitCode, verify.all).toBe(1);
        expect(verify.all).toMatch(/manager-03 has not refused a write with Swarm's no-quorum error yet/);
        expect(verify.all).toMatch(/expected[\s\S]*The swarm does not have a leader/);
        expect(verify.all).toMatch(/observed[\s\S]*This node is not a swarm manager/);
        // Restored on its way out: both stopped managers are back.
        expect(verify.all).toMatch(/restarted (manager-01, manager-02|manager-02, manager-01): back in the swarm/);
      } finally {
        await rejoinAsManager(project, 'manager-03', 'manager-01');
        await swarmMolecule(['exec', '-s', 'chaos', '-h', 'manager-01', '--', 'docker', 'service', 'rm', 'sm-quorum-loss'], project);
      }
    });

    it('a harness killed (-9) while a partition is in place leaves it recorded; converge heals it', async () => {
      writeScenario(project, 'chaos', withVerify('  - step: swarm/partition-worker\n'));
      const { run, paused, seen } = await startPausedAtPartition(['verify', '-s', 'chaos'], project);
      expect(paused, seen()).toBe(true);
      // The partition is in place: worker-01 (or worker-02) against every other node, in each node's netns.
      const state = stateOf(project, 'chaos');
      expect(state.partition).toBeDefined();
      const rules = partitionRules(state.nodes);
      expect(Object.keys(rules).sort()).toEqual(['manager-01', 'manager-02', 'manager-03', 'worker-01', 'worker-02']);
      expect(Object.values(rules).every((r) => /ip saddr .*drop/.test(r))).toBe(true);
      run.kill('SIGKILL');
      await run;
      expect(Object.keys(partitionRules(state.nodes))).toHaveLength(5);
      const converge = await swarmMolecule(['converge', '-s', 'chaos'], project);
      expect(converge.exitCode, converge.all).toBe(0);
      expect(converge.all).toMatch(/removing the partition .* left in place/);
      expect(stateOf(project, 'chaos').partition).toBeUndefined();
      expect(partitionRules(state.nodes)).toEqual({});
      // The probe service the killed step made is the step's to remove next time; remove it now.
      await swarmMolecule(['exec', '-s', 'chaos', '-h', 'manager-01', '--', 'docker', 'service', 'rm', 'sm-partition-worker'], project);
    });

    it('converge waits for a worker whose join is still pending (its managers out of reach), then finds it a worker', async () => {
      writeScenario(project, 'chaos', chaosScenario);
      const exec = (node: string, argv: string[]) => swarmMolecule(['exec', '-s', 'chaos', '-h', node, '--', ...argv], project);
      // exec masks the token in what it prints, as it should: read it encoded.
      const token = Buffer.from((await exec('manager-01', ['sh', '-c', 'docker swarm join-token -q worker | base64 -w0'])).stdout.trim(), 'base64').toString().trim();
      const leaderAddress = (await exec('manager-01', ['docker', 'info', '--format', '{{.Swarm.NodeAddr}}'])).stdout.trim();
      expect(token).toMatch(/^SWMTKN-/);
      const left = await exec('worker-02', ['docker', 'swarm', 'leave', '--force']);
      expect(left.exitCode, left.all).toBe(0);
      // worker-02 cannot reach any manager's raft port: its join stays pending.
      const netns = `--net=/run/netns/${stateOf(project, 'chaos').nodes.find((n) => n.name === 'worker-02')?.netns ?? ''}`;
      const nft = (...args: string[]) => execFileSync('nsenter', [netns, 'nft', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      nft('add', 'table', 'inet', 'sm_test_block');
      nft('add', 'chain', 'inet', 'sm_test_block', 'out', '{ type filter hook output priority 0; policy accept; }');
      nft('add', 'rule', 'inet', 'sm_test_block', 'out', 'tcp', 'dport', '2377', 'drop');
      try {
        const joining = exec('worker-02', ['docker', 'swarm', 'join', '--token', token, `${leaderAddress}:2377`]);
        let state = '';
        for (const deadline = Date.now() + 15_000; state !== 'pending' && Date.now() < deadline; ) {
          state = (await exec('worker-02', ['docker', 'info', '--format', '{{.Swarm.LocalNodeState}}'])).stdout.trim();
        }
        // The fault happened: worker-02 is pending, on its way into the swarm.
        expect(state).toBe('pending');
        const { run: converge, said: waiting, seen } = await startUntilSaid(['converge', '-s', 'chaos'], project, 'worker-02 is "pending" in a swarm');
        // converge saw it pending (it would have joined it, and been refused, before the fix): now let the join through.
        expect(waiting, seen()).toBe(true);
        nft('delete', 'table', 'inet', 'sm_test_block');
        const result = await converge;
        expect(result.exitCode, result.all).toBe(0);
        expect(result.all).toMatch(/worker-02 settled as "active" after \d+\.\d s/);
        expect(result.all).toMatch(/ok +worker-02 +[\d.]+s +already a worker/);
        expect((await joining).all).toContain('This node joined a swarm as a worker.');
      } finally {
        try {
          nft('delete', 'table', 'inet', 'sm_test_block');
        } catch {
          // deleted above
        }
      }
    });
  });

  it('Ctrl-C while a partition is in place: test stops, heals, destroys; no filter rule and no node left', async () => {
    const project = join(root, 'interrupt');
    writeScenario(
      project,
      'small',
      [
        'driver:\n  name: netns',
        'platforms:',
        '  - name: manager-01\n    groups: [swarm-leader, swarm-manager]',
        '  - name: worker-01\n    groups: [swarm-worker]',
        '  - name: worker-02\n    groups: [swarm-worker]',
        'converge:\n  - step: swarm/init\n  - step: swarm/join-workers\n  - step: swarm/drain-managers',
        'verify:\n  - step: swarm/partition-worker\n',
      ].join('\n'),
    );
    const { run, paused, seen } = await startPausedAtPartition(['test', '-s', 'small'], project);
    expect(paused, seen()).toBe(true);
    const state = stateOf(project, 'small');
    expect(Object.keys(partitionRules(state.nodes)).sort()).toEqual(['manager-01', 'worker-01', 'worker-02']);
    run.kill('SIGINT');
    const result = await run;
    expect(result.exitCode, result.all).toBe(130);
    expect(partitionRules(state.nodes)).toEqual({});
    expect(leftoversOfRuns(machineLeftovers(), [state.runId])).toEqual(NOTHING_LEFT);
  });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));
