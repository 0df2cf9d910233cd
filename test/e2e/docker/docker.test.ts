import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { repoRoot, swarmMolecule } from '../support/cli.js';
import { objectsOn, startTestEngine, type TestEngine } from './support/engine.js';

/**
 * The docker driver end to end on a real engine: the project's own dockerd in
 * a network namespace with no route out, reached over its unix socket (nodes
 * at their addresses) or over tcp (nodes through published ports).
 */

const ACTIONS = ['destroy', 'syntax', 'create', 'converge', 'idempotence', 'lint', 'verify', 'destroy'];
const VERIFY_STEPS = ['swarm/node-roles', 'swarm/rolling-update', 'swarm/published-port', 'swarm/failover-workers', 'swarm/failover-leader'];

let engine: TestEngine;
let env: Record<string, string>;

beforeAll(async () => {
  engine = await startTestEngine();
  env = { DOCKER_HOST: `unix://${engine.socket}` };
});
afterAll(async () => {
  await engine?.stop();
});

/** Run the CLI until its output shows `marker`, then interrupt it as Ctrl-C would; what was on the engine then, and the result. */
async function interruptAt(marker: RegExp, args: string[], cwd = repoRoot) {
  const run = swarmMolecule(args, cwd, env);
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    run.all?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (marker.test(seen)) resolve();
    });
    run.then(() => reject(new Error(`The run ended before ${String(marker)}:\n${seen}`)), reject);
  });
  const objectsThen = await objectsOn(engine.docker);
  run.kill('SIGINT');
  return { objectsThen, result: await run };
}

describe('the docker driver on a local engine (unix socket)', () => {
  afterEach(async () => {
    // Whatever happened in the test, nothing of its runs remains on the engine.
    expect(await objectsOn(engine.docker)).toEqual([]);
  });

  it('passes test -s docker: 3 managers and 3 workers, every built-in verify step', async () => {
    const result = await swarmMolecule(['test', '-s', 'docker'], repoRoot, env);
    const output = result.all;
    expect(result.exitCode, output).toBe(0);
    for (const action of ACTIONS) expect(output).toMatch(new RegExp(`^ {2}${action}\\s+passed`, 'm'));
    for (const step of VERIFY_STEPS) expect(output).toMatch(new RegExp(`passed\\s+${step}`));
    expect(output).toMatch(/network smd-[0-9a-f]+ \(10\.215\.\d+\.0\/24\) on unix:\/\/.* \(DOCKER_HOST\); nodes reached at their addresses/);
    expect(output).toMatch(/^ {3}manager-01\s+up at 10\.215\.\d+\.11:22$/m);
    expect(output).toMatch(/changed\s+manager-01 .*swarm: inactive → manager \(leader/);
    expect(output).toMatch(/swarm\/failover-leader: stopped manager-01 \(Leader\); manager-0[23] is Leader/);
    expect(output).not.toMatch(/SWMTKN/);
  });

  it('gives nodes no route out: only their network and the harness', async () => {
    const create = await swarmMolecule(['create', '-s', 'docker'], repoRoot, env);
    try {
      expect(create.exitCode, create.all).toBe(0);
      const routes = await swarmMolecule(['exec', '-s', 'docker', '-h', 'worker-01', '--', 'ip', '-4', 'route'], repoRoot, env);
      expect(routes.exitCode, routes.all).toBe(0);
      expect(routes.stdout).toMatch(/^10\.215\.\d+\.0\/24 dev eth0/m);
      expect(routes.stdout).not.toMatch(/^default/m);
      // The engine's containers: one per node, each with its labels and its own volume for /var/lib/docker.
      const containers = await engine.docker.listContainers({ filters: { label: ['io.swarm-molecule.scenario=docker'] } });
      expect(containers).toHaveLength(6);
      for (const c of containers) {
        expect(c.Labels).toMatchObject({ 'io.swarm-molecule.project': repoRoot.replace(/\/$/, ''), 'io.swarm-molecule.run': expect.stringMatching(/^[0-9a-f]{6}$/) as unknown });
        expect(c.Mounts.find((m) => m.Destination === '/var/lib/docker')).toMatchObject({ Type: 'volume' });
      }
    } finally {
      const destroy = await swarmMolecule(['destroy', '-s', 'docker'], repoRoot, env);
      expect(destroy.exitCode, destroy.all).toBe(0);
    }
  });

  it('leaves nothing on the engine after an interrupt during create', async () => {
    // The first node up: the network, volumes and containers exist.
    const { objectsThen, result } = await interruptAt(/^ {3}\S+\s+up at /m, ['test', '-s', 'docker']);
    expect(objectsThen.filter((o) => o.startsWith('container '))).not.toEqual([]);
    expect(result.exitCode, result.all).toBe(130);
    expect(result.all).toMatch(/^ {2}create\s+failed/m);
    expect(result.all).toMatch(/^ {2}destroy\s+passed/m);
  });

  it('leaves nothing on the engine after an interrupt during verify', async () => {
    const { objectsThen, result } = await interruptAt(/^── verify/m, ['test', '-s', 'docker']);
    expect(objectsThen.filter((o) => o.startsWith('container '))).toHaveLength(6);
    expect(result.exitCode, result.all).toBe(130);
    expect(result.all).toMatch(/^ {2}verify\s+failed/m);
    expect(result.all).toMatch(/^ {2}destroy\s+passed/m);
  });

  it('puts the nodes on a network of the user\'s (driver.options.network) and leaves that network alone', async () => {
    const name = 'sm-users-net';
    const network = await engine.docker.createNetwork({ Name: name, Driver: 'bridge', IPAM: { Config: [{ Subnet: '10.215.250.0/24' }] } });
    const project = mkdtempSync(join(tmpdir(), 'sm-docker-net-'));
    try {
      cpSync(join(repoRoot, 'scenarios', 'docker'), join(project, 'scenarios', 'docker'), { recursive: true });
      const file = join(project, 'scenarios', 'docker', 'scenario.yml');
      const scenario = parse(readFileSync(file, 'utf8')) as { driver: { options: Record<string, unknown> }; platforms: unknown[] };
      const write = (options: Record<string, unknown>) =>
        writeFileSync(
          file,
          stringify({ ...scenario, driver: { name: 'docker', options: { ...scenario.driver.options, ...options } }, platforms: scenario.platforms.slice(0, 1), converge: [{ step: 'swarm/init' }], verify: [{ step: 'swarm/node-roles' }] }),
        );

      // A network that is not there: said before any node is made, with how to make it.
      write({ network: 'sm-absent-net' });
      const absent = await swarmMolecule(['create', '-s', 'docker'], project, env);
      expect(absent.exitCode, absent.all).toBe(3);
      expect(absent.all).toMatch(/The network sm-absent-net \(driver.options.network\) is not on the engine/);
      expect(absent.all).toMatch(/docker network create --subnet/);
      expect((await swarmMolecule(['destroy', '-s', 'docker'], project, env)).exitCode).toBe(0);

      write({ network: name });
      const result = await swarmMolecule(['test', '-s', 'docker', '--destroy', 'never'], project, env);
      expect(result.exitCode, result.all).toBe(0);
      expect(result.all).toMatch(/network sm-users-net \(10\.215\.250\.0\/24\)/);
      expect(result.all).toMatch(/^ {3}manager-01\s+up at 10\.215\.250\.11:22$/m);
      // The node really is on the user's network.
      const attached = (await network.inspect()) as { Containers?: Record<string, { Name: string; IPv4Address: string }> };
      expect(Object.values(attached.Containers ?? {}).map((c) => `${c.Name} ${c.IPv4Address}`)).toEqual([expect.stringMatching(/^smd-[0-9a-f]+-manager-01 10\.215\.250\.11\/24$/)]);

      const destroy = await swarmMolecule(['destroy', '-s', 'docker'], project, env);
      expect(destroy.exitCode, destroy.all).toBe(0);
      // Its nodes are gone; the network is the user's and stays.
      const after = (await network.inspect()) as { Name: string; Containers?: Record<string, unknown> };
      expect(after.Name).toBe(name);
      expect(Object.keys(after.Containers ?? {})).toEqual([]);
    } finally {
      await network.remove().catch(() => undefined);
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('says what to do when the engine refuses privileged containers', async () => {
    const project = mkdtempSync(join(tmpdir(), 'sm-docker-priv-'));
    try {
      cpSync(join(repoRoot, 'scenarios', 'docker'), join(project, 'scenarios', 'docker'), { recursive: true });
      const file = join(project, 'scenarios', 'docker', 'scenario.yml');
      const scenario = parse(readFileSync(file, 'utf8')) as { driver: { options: Record<string, unknown> }; platforms: unknown[]; converge: unknown[]; verify: unknown[] };
      writeFileSync(file, stringify({ ...scenario, driver: { name: 'docker', options: { privileged: true } }, platforms: scenario.platforms.slice(0, 1), converge: [], verify: [] }));
      // This machine lacks CAP_SYS_RESOURCE, so its engine cannot make a privileged container.
      expect(readFileSync('/proc/self/status', 'utf8')).toMatch(/^CapBnd:\s+0*1fffeffffff$/m);
      const result = await swarmMolecule(['create', '-s', 'docker'], project, env);
      expect(result.exitCode, result.all).toBe(3);
      expect(result.all).toMatch(/The engine refused to start manager-01 as a privileged container/);
      expect(result.all).toMatch(/privileged: false/);
      const destroy = await swarmMolecule(['destroy', '-s', 'docker'], project, env);
      expect(destroy.exitCode, destroy.all).toBe(0);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});

describe('the docker driver on a remote engine (tcp)', () => {
  afterEach(async () => {
    expect(await objectsOn(engine.docker)).toEqual([]);
  });

  it('reaches the nodes through ports published on the engine host, not their addresses', async () => {
    // The same scenario; the published-port step needs node addresses, which a remote engine's nodes do not have here.
    const project = mkdtempSync(join(tmpdir(), 'sm-docker-remote-'));
    try {
      cpSync(join(repoRoot, 'scenarios'), join(project, 'scenarios'), { recursive: true });
      const file = join(project, 'scenarios', 'docker', 'scenario.yml');
      const scenario = parse(readFileSync(file, 'utf8')) as { verify: { step: string }[] };
      writeFileSync(file, stringify({ ...scenario, verify: scenario.verify.filter((s) => s.step !== 'swarm/published-port') }));
      const host = new URL(engine.tcpHost).hostname;
      const result = await swarmMolecule(['test', '-s', 'docker'], project, { DOCKER_HOST: engine.tcpHost });
      const output = result.all;
      expect(result.exitCode, output).toBe(0);
      for (const action of ACTIONS) expect(output).toMatch(new RegExp(`^ {2}${action}\\s+passed`, 'm'));
      expect(output).toContain(`on ${engine.tcpHost} (DOCKER_HOST); nodes reached at ports published on ${host}`);
      expect(output).toMatch(new RegExp(`^ {3}worker-03\\s+up at ${host.replace(/\./g, '\\.')}:\\d+$`, 'm'));
      expect(output).not.toMatch(/up at 10\.215\./);
      expect(output).toMatch(/passed\s+swarm\/failover-leader/);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
