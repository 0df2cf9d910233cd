/**
 * npm run bench:engine — the reads the built-in steps make, timed on real nodes
 * both ways over the same SSH connection: a `docker` CLI process per call (a
 * shell and the CLI start on the node, as `host.docker()` does) against a
 * Docker Engine API request (dockerode over a channel sshd forwards to the
 * node's socket, as the built-in steps now do). Per read: the median latency of
 * a call, and CPU per 100 calls on the node (every process of its PID namespace,
 * exited children included) and in the harness. Calls alternate in blocks so
 * both ways see the same machine load. BENCH_ENGINE_CALLS sets the calls per
 * read and way (default 100).
 */
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { loadScenario } from '../dist/config/index.js';
import { StateStore } from '../dist/lifecycle/state.js';
import { SshConnection, type SshTarget } from '../dist/transport/index.js';
import { act } from './act.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = join(root, 'bench', 'projects', 'engine');
const calls = Number(process.env.BENCH_ENGINE_CALLS ?? 100);
const BLOCK = 10;
const TICK_MS = 10; // USER_HZ 100: /proc times are in 10 ms ticks

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** CPU time (ms) of every process in the PID namespace of a node, children that exited and were reaped included. */
function nodeCpuMs(namespace: string): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/pid`) !== namespace) continue;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      // After "(comm) ": state is field 3, so utime..cstime (14..17) are at 11..14.
      ticks += [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
    } catch {
      // gone meanwhile
    }
  }
  return ticks * TICK_MS;
}

/** The PID namespace of a netns node: that of its init, the child of the recorded unshare. */
function pidNamespace(unsharePid: number): string {
  const init = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim().split(' ')[0];
  return readlinkSync(`/proc/${init}/ns/pid`);
}

interface Read {
  name: string;
  cli: string[];
  engine: { label: string; call: (docker: Docker) => Promise<unknown> };
}

interface Figures {
  latencies: number[];
  nodeCpuMs: number;
  harnessCpuMs: number;
}

const scenario = await loadScenario(dir, 'default');
rmSync(join(dir, '.swarm-molecule'), { recursive: true, force: true });
process.stderr.write('create + converge (3 nodes)\n');
await act(scenario, dir, ['create', 'converge']);
let connection: SshConnection | undefined;
try {
  const state = await new StateStore(dir, 'default').read();
  const nodes = (state?.driverState?.nodes ?? []) as unknown as ({ name: string; data: { process?: { pid: number } } } & SshTarget)[];
  const leader = nodes.find((n) => n.name === 'engine-m1');
  if (!leader?.data.process) throw new Error('no leader node in the state');
  const namespace = pidNamespace(leader.data.process.pid);
  connection = new SshConnection(leader);
  await connection.connect();
  const engine = connection.engine();
  const selfId = (await connection.run(['docker', 'info', '--format', '{{.Swarm.NodeID}}'])).stdout.trim();
  // A service to inspect (no replicas: nothing to schedule, no image to pull).
  await connection.run(['docker', 'service', 'create', '--detach', '--no-resolve-image', '--replicas', '0', '--name', 'sm-bench', 'busybox:none', 'true']);

  const reads: Read[] = [
    { name: 'swarm state (docker info)', cli: ['docker', 'info', '--format', '{{json .Swarm}}'], engine: { label: 'GET /info', call: (d) => d.info() } },
    { name: 'node list (docker node ls)', cli: ['docker', 'node', 'ls', '--format', '{{json .}}'], engine: { label: 'GET /nodes', call: (d) => d.listNodes() } },
    { name: 'node inspect', cli: ['docker', 'node', 'inspect', selfId], engine: { label: `GET /nodes/${selfId}`, call: (d) => d.getNode(selfId).inspect() } },
    { name: 'service inspect', cli: ['docker', 'service', 'inspect', 'sm-bench'], engine: { label: 'GET /services/sm-bench', call: (d) => d.getService('sm-bench').inspect() } },
    { name: 'join token', cli: ['docker', 'swarm', 'join-token', '--quiet', 'worker'], engine: { label: 'GET /swarm', call: (d) => d.swarmInspect() } },
  ];

  const results: { name: string; cli: Figures; engine: Figures }[] = [];
  const load: number[] = [];
  for (const read of reads) {
    process.stderr.write(`${read.name}: ${calls} calls each way\n`);
    const figures = { cli: { latencies: [], nodeCpuMs: 0, harnessCpuMs: 0 } as Figures, engine: { latencies: [], nodeCpuMs: 0, harnessCpuMs: 0 } as Figures };
    const block = async (way: 'cli' | 'engine') => {
      const cpuBefore = nodeCpuMs(namespace);
      const harnessBefore = process.cpuUsage();
      for (let i = 0; i < BLOCK; i++) {
        const started = performance.now();
        if (way === 'cli') {
          const result = await connection!.run(read.cli, { readOnly: true });
          if (result.exitCode !== 0) throw new Error(`${read.cli.join(' ')}: ${result.stderr}`);
        } else if ((await engine.request(read.engine)) === undefined) throw new Error(`the Engine API was not used: ${engine.refused ?? ''}`);
        figures[way].latencies.push(performance.now() - started);
      }
      const harness = process.cpuUsage(harnessBefore);
      figures[way].harnessCpuMs += (harness.user + harness.system) / 1000;
      figures[way].nodeCpuMs += nodeCpuMs(namespace) - cpuBefore;
    };
    for (let done = 0; done < calls; done += BLOCK) {
      // Alternate which way goes first, so neither always follows the other.
      const order: ('cli' | 'engine')[] = (done / BLOCK) % 2 === 0 ? ['cli', 'engine'] : ['engine', 'cli'];
      for (const way of order) await block(way);
      load.push(loadavg()[0] ?? NaN);
    }
    results.push({ name: read.name, ...figures });
  }

  const per100 = (ms: number, n: number) => ((ms * 100) / n / 1000).toFixed(2);
  const rows = [
    ['read', 'CLI median', 'API median', 'CLI/API', 'node CPU /100: CLI', 'API', 'harness CPU /100: CLI', 'API'],
    ...results.map((r) => [
      r.name,
      `${median(r.cli.latencies).toFixed(1)} ms`,
      `${median(r.engine.latencies).toFixed(1)} ms`,
      `${(median(r.cli.latencies) / median(r.engine.latencies)).toFixed(1)}×`,
      `${per100(r.cli.nodeCpuMs, r.cli.latencies.length)} s`,
      `${per100(r.engine.nodeCpuMs, r.engine.latencies.length)} s`,
      `${per100(r.cli.harnessCpuMs, r.cli.latencies.length)} s`,
      `${per100(r.engine.harnessCpuMs, r.engine.latencies.length)} s`,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  console.log(`\nEngine API against the docker CLI, over the same SSH connection to one manager (${calls} calls per read and way, medians;`);
  console.log(`${cpus().length} cores, load average during the runs ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}: a shared machine, so read latencies as upper bounds)`);
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  '));
} finally {
  connection?.close();
  process.stderr.write('destroy\n');
  await act(scenario, dir, ['destroy']);
  rmSync(join(dir, '.swarm-molecule'), { recursive: true, force: true });
}
