import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerPartitionRules } from '../../../src/drivers/docker/partition.js';
import { repoRoot, startPausedAtPartition, swarmMolecule } from '../support/cli.js';
import { objectsOn, startTestEngine, type TestEngine } from './support/engine.js';

/**
 * The chaos steps on the docker driver, on the project's own engine: the
 * partition is applied inside the node containers (their iptables), so the
 * tests look for it there, through the engine, while the steps run.
 */
let engine: TestEngine;
let env: Record<string, string>;
const project = mkdtempSync(join(tmpdir(), 'sm-docker-chaos-'));
const NODES = ['manager-01', 'manager-02', 'manager-03', 'worker-01', 'worker-02'];

const chaosScenario = readFileSync(join(repoRoot, 'scenarios', 'chaos', 'scenario.yml'), 'utf8').replace(
  'driver:\n  name: netns',
  // This machine's engine refuses privileged containers (see scenarios/docker).
  'driver:\n  name: docker\n  options:\n    privileged: false',
);
const withVerify = (verify: string) => chaosScenario.replace(/\nverify:\n[\s\S]*$/, `\nverify:\n${verify}`);

function writeScenario(text: string): void {
  mkdirSync(join(project, 'scenarios', 'chaos'), { recursive: true });
  writeFileSync(join(project, 'scenarios', 'chaos', 'scenario.yml'), text);
}

interface DockerState {
  runId: string;
  partition?: { sides: [string[], string[]] };
  containers: Record<string, string>;
  addresses: Record<string, string>;
}
function stateOf(): DockerState {
  const state = JSON.parse(readFileSync(join(project, '.swarm-molecule', 'chaos', 'state.json'), 'utf8')) as {
    driverState: { data: { runId: string; partition?: DockerState['partition'] }; nodes: { name: string; host: string; address?: string; data: { container: string } }[] };
  };
  return {
    runId: state.driverState.data.runId,
    ...(state.driverState.data.partition ? { partition: state.driverState.data.partition } : {}),
    containers: Object.fromEntries(state.driverState.nodes.map((n) => [n.name, n.data.container])),
    addresses: Object.fromEntries(state.driverState.nodes.map((n) => [n.name, n.address ?? n.host])),
  };
}

/** The partition chain in each node container, as `iptables -S` lists it (nodes without one are left out). */
async function partitionRules(containers: Record<string, string>): Promise<Record<string, string>> {
  const rules: Record<string, string> = {};
  for (const [name, container] of Object.entries(containers)) {
    const listed = await containerPartitionRules(engine.docker, container);
    if (listed !== undefined) rules[name] = listed;
  }
  return rules;
}

const run = (args: string[], extra: Record<string, string> = {}) => swarmMolecule(args, project, { ...env, ...extra });
const onNode = (node: string, argv: string[]) => run(['exec', '-s', 'chaos', '-h', node, '--', ...argv]);

/** TCP connects to Swarm's raft and gossip ports: `open`, `silent` (dropped), or the refusal. */
const TCP_PROBE = `
import socket, sys
for port in (2377, 7946):
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect((sys.argv[1], port))
        print(f"tcp/{port} open")
    except socket.timeout:
        print(f"tcp/{port} silent")
    except OSError as e:
        print(f"tcp/{port} {e.strerror}")
    finally:
        s.close()
`;
/**
 * Datagrams: a listener that counts what arrives for a while, and a sender. The
 * listener says it is bound by making a file (argv[1]) on its node, and the
 * sender starts only once that file is there: on a loaded machine the
 * listener's own start can take longer than the sender's 10 s (CI saw "no
 * datagram" between two nodes on the same side).
 */
const UDP_LISTEN = `
import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("", 47946))
s.settimeout(0.5)
open(sys.argv[1], "w").close()
end, got = time.time() + 30, 0
try:
    while time.time() < end and got < 3:
        try:
            s.recvfrom(64)
            got += 1
        except socket.timeout:
            pass
finally:
    os.remove(sys.argv[1])
print(f"udp received {got}")
`;
const UDP_SEND = `
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(10):
    s.sendto(b"x", (sys.argv[1], 47946))
    time.sleep(1)
`;

/** What `from` sees of `to` over TCP (2377, 7946) and UDP (a datagram port). */
async function reach(from: string, to: string, address: string): Promise<string> {
  const tcp = await onNode(from, ['python3', '-c', TCP_PROBE, address]);
  expect(tcp.exitCode, tcp.all).toBe(0);
  const ready = `/tmp/sm-udp-listening-${randomBytes(4).toString('hex')}`;
  const listener = onNode(to, ['python3', '-c', UDP_LISTEN, ready]);
  let done = false;
  void listener.then(() => {
    done = true;
  });
  // The listener is bound before anything is sent (or it ended: its output says why).
  while (!done && (await onNode(to, ['test', '-e', ready])).exitCode !== 0) await sleep(500);
  if (!done) {
    const sent = await onNode(from, ['python3', '-c', UDP_SEND, address]);
    expect(sent.exitCode, sent.all).toBe(0);
  }
  const heard = await listener;
  expect(heard.exitCode, heard.all).toBe(0);
  // Some datagram, or none: not how many.
  return `${tcp.stdout.trim().split('\n').join(', ')}, ${/udp received 0$/.test(heard.stdout.trim()) ? 'no datagram' : 'datagrams'}`;
}

beforeAll(async () => {
  engine = await startTestEngine();
  env = { DOCKER_HOST: `unix://${engine.socket}` };
  writeScenario(chaosScenario);
  const converge = await run(['converge', '-s', 'chaos']);
  expect(converge.exitCode, converge.all).toBe(0);
});
afterAll(async () => {
  try {
    const destroy = await run(['destroy', '-s', 'chaos']);
    expect(destroy.exitCode, destroy.all).toBe(0);
    // Nothing of the run is left on the engine: containers (and their rules), volumes, network.
    expect(await objectsOn(engine.docker)).toEqual([]);
  } finally {
    await engine?.stop();
    rmSync(project, { recursive: true, force: true });
  }
});

describe('chaos on the docker driver (real engine)', () => {
  it('cuts a node off both ways, TCP and UDP, while the harness reaches every node; a killed harness leaves it recorded and converge heals it', async () => {
    writeScenario(withVerify('  - step: swarm/partition-worker\n'));
    const { run: paused, paused: reached, seen } = await startPausedAtPartition(['verify', '-s', 'chaos'], project, env);
    expect(reached, seen()).toBe(true);
    // Recorded, and in place in every node: the isolated worker drops the 4 others, each other node drops the worker.
    const state = stateOf();
    const isolated = state.partition?.sides[0][0] ?? '';
    expect(['worker-01', 'worker-02']).toContain(isolated);
    const rules = await partitionRules(state.containers);
    expect(Object.keys(rules).sort()).toEqual(NODES);
    expect(rules[isolated]?.match(/-j DROP/g)).toHaveLength(4);
    for (const node of NODES.filter((n) => n !== isolated)) expect(rules[node]?.match(/-j DROP/g)).toHaveLength(1);
    paused.kill('SIGKILL');
    await paused;

    // The harness still reaches every node (SSH), and the cut holds both ways for TCP and UDP.
    const addresses = state.addresses;
    for (const n of NODES) expect((await onNode(n, ['hostname'])).stdout.trim()).toBe(n);
    expect(await reach(isolated, 'manager-01', addresses['manager-01'] ?? '')).toBe('tcp/2377 silent, tcp/7946 silent, no datagram');
    expect(await reach('manager-01', isolated, addresses[isolated] ?? '')).toBe('tcp/2377 silent, tcp/7946 silent, no datagram');
    // Nodes on the same side still reach each other.
    expect(await reach('manager-02', 'manager-01', addresses['manager-01'] ?? '')).toBe('tcp/2377 open, tcp/7946 open, datagrams');

    const converge = await run(['converge', '-s', 'chaos']);
    expect(converge.exitCode, converge.all).toBe(0);
    expect(converge.all).toMatch(/removing the partition .* left in place/);
    expect(stateOf().partition).toBeUndefined();
    expect(await partitionRules(state.containers)).toEqual({});
    expect(await reach(isolated, 'manager-01', addresses['manager-01'] ?? '')).toBe('tcp/2377 open, tcp/7946 open, datagrams');
    expect(await reach('manager-01', isolated, addresses[isolated] ?? '')).toBe('tcp/2377 Connection refused, tcp/7946 open, datagrams');
    // The probe service the killed step made is the step's to remove next time; remove it now.
    await onNode('manager-01', ['docker', 'service', 'rm', 'sm-partition-worker']);
  });

  // swarm/partition-minority is left out here: on container nodes under CI's load its cut Leader's
  // writes were seen to hang (no answer within 20 s) rather than be refused, in 2 of 4 runs (README, Chaos).
  it('passes swarm/partition-worker and swarm/quorum-loss, with the rules seen in the containers while they ran, and heals every partition', async () => {
    writeScenario(withVerify('  - step: swarm/node-roles\n  - step: swarm/partition-worker\n  - step: swarm/quorum-loss\n  - step: swarm/node-roles\n'));
    // Whatever the case before left (a failure there leaves its partition recorded), converge heals it first.
    const converge = await run(['converge', '-s', 'chaos']);
    expect(converge.exitCode, converge.all).toBe(0);
    const state = stateOf();
    const verify = run(['verify', '-s', 'chaos']);
    let done = false;
    void verify.then(() => {
      done = true;
    });
    const samples: Record<string, string>[] = [];
    while (!done) {
      samples.push(await partitionRules(state.containers));
      await sleep(1000);
    }
    const result = await verify;
    expect(result.exitCode, result.all).toBe(0);
    for (const step of ['swarm/partition-worker', 'swarm/quorum-loss']) expect(result.all).toMatch(new RegExp(`passed +${step}`));
    expect(result.all).toMatch(/task\(s\) still running on the workers, same task IDs/);
    // The fault happened in the containers: a worker cut from the 4 others.
    expect(samples.some((s) => s['worker-01']?.match(/-j DROP/g)?.length === 4 || s['worker-02']?.match(/-j DROP/g)?.length === 4)).toBe(true);
    expect(stateOf().partition).toBeUndefined();
    expect(await partitionRules(state.containers)).toEqual({});
  });
});
