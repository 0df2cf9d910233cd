import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sshPartitionRules } from '../../../src/drivers/host/ssh-partition.js';
import type { SshTarget } from '../../../src/transport/index.js';
import { repoRoot, startPausedAtPartition, swarmMolecule } from '../support/cli.js';
import { findLeftovers, leftoversSince, NOTHING_LEFT, type Leftovers } from '../support/leaks.js';

/**
 * The vagrant driver end to end, with real Vagrant and its docker provider (this
 * machine has no virtualisation): nodes are containers of a dockerd the driver
 * runs in a network namespace with no route out.
 */

const SCENARIO = 'vagrant-docker';
const stateDir = join(repoRoot, '.swarm-molecule', SCENARIO);
/** The driver's default driver.options.dataDir. */
const DATA_DIR = '/var/lib/sm-vagrant';
const IMAGE_CACHE = process.env.SWARM_MOLECULE_CACHE ?? '/var/cache/swarm-molecule';
/** Every kernel object of the docker provider is named with this prefix. */
const PREFIX = 'smvg-';

/** What the vagrant driver could leave behind, beyond what leaks.ts checks for the netns driver. */
interface VagrantLeftovers {
  /** The provider's dockerd and its PID 1, and any container process (by cgroup). */
  processes: string[];
  namespaces: string[];
  links: string[];
  routes: string[];
  mounts: string[];
  cgroups: string[];
  /** Run directories of provider dockerds (data root, socket, logs). */
  runDirs: string[];
  /** Debootstrap work directories and build locks. */
  buildLeftovers: string[];
  /** The scenario's Vagrant project: node list, keys, Vagrant's home and machine data. */
  vagrantProject: string[];
}

const list = (dir: string, filter: (name: string) => boolean = () => true) => (existsSync(dir) ? readdirSync(dir).filter(filter) : []);

function findVagrantLeftovers(): VagrantLeftovers {
  const processes: string[] = [];
  for (const pid of list('/proc', (p) => /^\d+$/.test(p))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      const cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      if (args.includes(DATA_DIR) || args.includes('provider-dockerd') || cgroup.includes(`/${PREFIX}`)) processes.push(`${pid} ${args}`);
    } catch {
      // exited while we looked
    }
  }
  const links: string[] = [];
  const routes: string[] = [];
  const ip = (args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });
  for (const line of ip(['-o', 'link', 'show']).split('\n')) {
    const name = line.split(':')[1]?.trim().split('@')[0] ?? '';
    if (name.startsWith(PREFIX)) links.push(name);
  }
  for (const line of ip(['-4', 'route', 'show']).split('\n')) if (line.includes(PREFIX)) routes.push(line);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.includes(DATA_DIR) || line.includes(PREFIX) || line.includes(`${IMAGE_CACHE}/.build-`));
  const cgroups: string[] = [];
  for (const hierarchy of ['.', ...list('/sys/fs/cgroup')]) {
    const dir = join('/sys/fs/cgroup', hierarchy);
    try {
      cgroups.push(...readdirSync(dir).filter((n) => n.startsWith(PREFIX)).map((n) => join(dir, n)));
    } catch {
      // not a directory
    }
  }
  return {
    processes,
    namespaces: list('/run/netns', (n) => n.startsWith(PREFIX)),
    links,
    routes,
    mounts,
    cgroups,
    runDirs: list(DATA_DIR),
    buildLeftovers: list(IMAGE_CACHE, (n) => n.startsWith('.build-') || n.endsWith('.lock')),
    vagrantProject: list(join(stateDir, 'vagrant')),
  };
}

const NO_VAGRANT_LEFTOVERS: VagrantLeftovers = {
  processes: [],
  namespaces: [],
  links: [],
  routes: [],
  mounts: [],
  cgroups: [],
  runDirs: [],
  buildLeftovers: [],
  vagrantProject: [],
};

const stateOf = () => JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as Record<string, unknown>;

describe('the vagrant driver with the docker provider (real Vagrant)', () => {
  let before: Leftovers;
  beforeEach(() => {
    before = findLeftovers();
    // A run that starts from leftovers proves nothing about cleanup.
    expect(findVagrantLeftovers()).toEqual(NO_VAGRANT_LEFTOVERS);
  });
  afterEach(() => {
    // Whatever happened in the test, nothing it made may remain on the machine.
    expect(leftoversSince(before)).toEqual(NOTHING_LEFT);
    expect(findVagrantLeftovers()).toEqual(NO_VAGRANT_LEFTOVERS);
  });

  it(`passes scenario ${SCENARIO}: 1 manager and 2 workers, node roles and a rolling update`, async () => {
    const result = await swarmMolecule(['test', '-s', SCENARIO]);
    const output = result.all;
    expect(result.exitCode, output).toBe(0);
    for (const action of ['destroy', 'syntax', 'create', 'converge', 'idempotence', 'lint', 'verify', 'destroy']) {
      expect(output).toMatch(new RegExp(`^ {2}${action}\\s+passed`, 'm'));
    }
    // Vagrant's own progress, prefixed by node; the machines were made by Vagrant's docker provider.
    expect(output).toMatch(/^ {3}worker-02\s+Creating the container\.\.\./m);
    expect(output).toMatch(/^ {3}manager-01\s+Machine booted and ready!/m);
    expect(output).toMatch(/vagrant up: 3 machine\(s\) in [\d.]+ s/);
    // Reached over SSH at the container addresses of the run's leased subnet.
    expect(output).toMatch(/^ {3}manager-01\s+up at 10\.214\.\d+\.\d+$/m);
    expect(output).toMatch(/changed\s+manager-01 .*swarm: inactive → manager \(leader/);
    expect(output).toMatch(/changed\s+worker-01 .*swarm: inactive → worker/);
    expect(output).toMatch(/changed\s+worker-02 .*label zone: \(none\) → b/);
    expect(output).toMatch(/passed\s+swarm\/node-roles/);
    expect(output).toMatch(/passed\s+swarm\/rolling-update/);
    expect(output).toMatch(/^ {2}worker-01\s+ok=\d+\s+changed=2\s+failed=0/m);
    expect(output).not.toMatch(/SWMTKN/);
    expect(stateOf()).toMatchObject({ created: false, converged: false, lastAction: 'destroy' });
  });

  it('partitions inside its machines over SSH: in place while the step runs, recorded when the harness is killed, healed by converge; swarm/partition-worker passes', async () => {
    // A project of its own: the scenario with the partition step, its state beside it.
    const project = mkdtempSync(join(tmpdir(), 'sm-vagrant-chaos-'));
    const scenario = readFileSync(join(repoRoot, 'scenarios', SCENARIO, 'scenario.yml'), 'utf8').replace(/\nverify:\n[\s\S]*$/, '\nverify:\n');
    const writeVerify = (verify: string) => {
      mkdirSync(join(project, 'scenarios', SCENARIO), { recursive: true });
      writeFileSync(join(project, 'scenarios', SCENARIO, 'scenario.yml'), `${scenario}${verify}`);
    };
    const run = ([command = '', ...rest]: string[], env: Record<string, string> = {}) => swarmMolecule([command, '-s', SCENARIO, ...rest], project, env);
    const stateOfRun = () =>
      (JSON.parse(readFileSync(join(project, '.swarm-molecule', SCENARIO, 'state.json'), 'utf8')) as { driverState: { data: { partition?: { sides: [string[], string[]] } }; nodes: (SshTarget & { address?: string })[] } })
        .driverState;
    const rulesOnNodes = async (nodes: SshTarget[]) => {
      const rules: Record<string, string> = {};
      for (const node of nodes) {
        const listed = await sshPartitionRules(node, AbortSignal.timeout(60_000));
        if (listed !== undefined) rules[node.name] = listed;
      }
      return rules;
    };
    const NODES = ['manager-01', 'worker-01', 'worker-02'];
    try {
      writeVerify('  - step: swarm/partition-worker\n');
      const converge = await run(['converge']);
      expect(converge.exitCode, converge.all).toBe(0);
      const nodes = stateOfRun().nodes;

      // Held at the moment the cut is in place: recorded, and in every machine.
      const { run: paused, paused: reached, seen } = await startPausedAtPartition(['verify', '-s', SCENARIO], project);
      expect(reached, seen()).toBe(true);
      const isolated = stateOfRun().data.partition?.sides[0][0] ?? '';
      expect(['worker-01', 'worker-02']).toContain(isolated);
      const rules = await rulesOnNodes(nodes);
      expect(Object.keys(rules).sort()).toEqual(NODES);
      expect(rules[isolated]?.match(/-j DROP/g)).toHaveLength(2);
      for (const node of NODES.filter((n) => n !== isolated)) expect(rules[node]?.match(/-j DROP/g)).toHaveLength(1);
      // The cut holds (Swarm's raft port is silent from the isolated worker), while the harness still reaches it.
      const manager = nodes.find((n) => n.name === 'manager-01');
      const probe = await run(['exec', '-h', isolated, '--', 'python3', '-c', 'import socket,sys\ns=socket.socket();s.settimeout(3)\ntry:\n s.connect((sys.argv[1],2377));print("open")\nexcept socket.timeout:\n print("silent")', manager?.address ?? manager?.host ?? '']);
      expect(probe.exitCode, probe.all).toBe(0);
      expect(probe.stdout.trim()).toBe('silent');
      paused.kill('SIGKILL');
      const killed = await paused;
      expect(killed.signal).toBe('SIGKILL');
      expect(stateOfRun().data.partition?.sides[0]).toEqual([isolated]);

      const healed = await run(['converge']);
      expect(healed.exitCode, healed.all).toBe(0);
      expect(healed.all).toMatch(/removing the partition .* left in place/);
      expect(stateOfRun().data.partition).toBeUndefined();
      expect(await rulesOnNodes(nodes)).toEqual({});
      // The probe service the killed step made is the step's to remove next time; remove it now.
      await run(['exec', '-h', 'manager-01', '--', 'docker', 'service', 'rm', 'sm-partition-worker']);

      // The whole step, with the rules seen in the machines while it ran.
      writeVerify('  - step: swarm/partition-worker\n  - step: swarm/node-roles\n');
      const verify = run(['verify']);
      let done = false;
      void verify.then(() => {
        done = true;
      });
      const samples: Record<string, string>[] = [];
      while (!done) {
        samples.push(await rulesOnNodes(nodes));
        await sleep(1000);
      }
      const result = await verify;
      expect(result.exitCode, result.all).toBe(0);
      expect(result.all).toMatch(/passed +swarm\/partition-worker/);
      expect(samples.some((s) => s['worker-01']?.match(/-j DROP/g)?.length === 2 || s['worker-02']?.match(/-j DROP/g)?.length === 2)).toBe(true);
      expect(stateOfRun().data.partition).toBeUndefined();
      expect(await rulesOnNodes(nodes)).toEqual({});
    } finally {
      const destroy = await run(['destroy']);
      expect(destroy.exitCode, destroy.all).toBe(0);
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('cleans up after an interrupt while Vagrant is bringing the machines up', async () => {
    const run = swarmMolecule(['test', '-s', SCENARIO]);
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      run.all?.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('Creating the container...')) resolve();
      });
      run.then(() => reject(new Error(`The run ended before Vagrant created a container:\n${seen}`)), reject);
    });
    run.kill('SIGINT');
    const result = await run;
    expect(result.exitCode, result.all).toBe(130);
    expect(result.all).toMatch(/^ {2}create\s+failed/m);
    expect(result.all).toMatch(/^ {2}destroy\s+passed/m);
    expect(stateOf()).toMatchObject({ created: false });
  });
});
