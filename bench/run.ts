/**
 * npm run bench: what users wait for, on real nodes, against the shell floor.
 * Prints tables and writes bench/results.json. Runs the harness in-process (the
 * same runner the CLI uses) so its memory can be read. BENCH_RUNS sets the runs.
 */
import { cpSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
// The built harness, as users run it (npm run bench builds it first).
import { loadScenario, type Scenario } from '../dist/config/index.js';
import { StateStore } from '../dist/lifecycle/state.js';
import { ConnectionPool, SshConnection } from '../dist/transport/index.js';
import { createHost } from '../dist/steps/host.js';
import { ensureTestImages, TEST_IMAGES } from '../dist/steps/builtin/images.js';
import { act } from './act.js';

import { startTestEngine } from '../test/e2e/docker/support/engine.js';
import { writeSaveArchive } from '../test/support/save-archive.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 3);
/**
 * BENCH_ONLY=docker: only the docker driver's column (no results.json); BENCH_ONLY=workloads: only the
 * workloads figures; BENCH_ONLY=six: only the 6 nodes against both floors; BENCH_ONLY=cli: only the four
 * commands as processes; BENCH_ONLY=test: only the default scenario's whole test; BENCH_ONLY=startup: only
 * the commands that touch no node, as processes (these four write bench/results.local.json);
 * BENCH_ONLY=images: only the test images onto the 6 nodes (also in bench/results.local.json).
 */
const only = process.env.BENCH_ONLY;
const project = (name: string) => join(root, 'bench', 'projects', name);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const s = (ms: number) => (ms / 1000).toFixed(2);

/** Peak RSS of the harness, sampled while it works. */
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

/** Memory of each node: the RSS of every process in its PID namespace, in MiB. */
function nodeMemory(dir: string): number[] {
  const state = JSON.parse(readFileSync(join(dir, '.swarm-molecule', 'default', 'state.json'), 'utf8')) as {
    driverState: { nodes: { data: { process?: { pid: number } } }[] };
  };
  const rssOf = (pid: string) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  const pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  return state.driverState.nodes.map((node) => {
    const unshare = node.data.process?.pid;
    if (!unshare) return 0;
    const init = readFileSync(`/proc/${unshare}/task/${unshare}/children`, 'utf8').trim().split(' ')[0];
    if (!init) return 0;
    let ns: string;
    try {
      ns = readlinkSync(`/proc/${init}/ns/pid`);
    } catch {
      return 0;
    }
    let total = 0;
    for (const pid of pids) {
      try {
        if (readlinkSync(`/proc/${pid}/ns/pid`) === ns) total += rssOf(pid);
      } catch {
        // gone
      }
    }
    return total;
  });
}

async function floor(dir: string, action: 'converge' | 'converge-pipelined' | 'idempotence' | 'node-roles' | 'leave'): Promise<number> {
  const state = await new StateStore(dir, 'default').read();
  const nodes = state?.driverState?.nodes ?? [];
  const ip = (prefix: string) => nodes.filter((n) => n.name.includes(prefix)).map((n) => n.host);
  const [leader, ...managers] = ip('-m');
  const started = performance.now();
  await execa(join(root, 'bench', 'floor.sh'), [action, nodes[0]?.identityFile ?? '', leader ?? '', managers.join(' '), ip('-w').join(' ')]);
  return performance.now() - started;
}

/** One command on a node over an open connection (what every step pays per command), in ms: median of 20. */
async function commandLatency(dir: string): Promise<number> {
  const state = await new StateStore(dir, 'default').read();
  const node = state?.driverState?.nodes[0];
  if (!node) throw new Error('no node to time a command on');
  const connection = new SshConnection(node);
  try {
    await connection.connect();
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      await connection.run(['true']);
      times.push(performance.now() - started);
    }
    return median(times);
  } finally {
    connection.close();
  }
}

const TEST_IMAGES_ROW = 'test images onto the nodes (3 images; drained managers left out)';

/**
 * The service steps' first need: the 3 test images onto the nodes that can
 * run a task (one load each), none there before; in ms.
 */
async function testImagesOnto(scenario: Scenario, dir: string): Promise<number> {
  const driverState = (await new StateStore(dir, scenario.name).read())?.driverState;
  if (!driverState) throw new Error('no nodes to put the test images on');
  const pool = new ConnectionPool(driverState, { signal: new AbortController().signal });
  try {
    const addressOf = (name: string) => driverState.nodes.find((n) => n.name === name)?.address ?? '';
    const hosts = scenario.platforms.map((p) => createHost(p, { platforms: scenario.platforms, addressOf, connections: pool, reads: new Map() }));
    const leader = hosts.find((h) => h.groups.includes('swarm-leader')) ?? hosts[0];
    if (!leader) throw new Error('no leader');
    await Promise.all(hosts.map((h) => h.run(['docker', 'image', 'rm', '--force', ...Object.values(TEST_IMAGES)])));
    const started = performance.now();
    await ensureTestImages({ hosts, leader: () => leader }, ['v1', 'v2', 'broken']);
    return performance.now() - started;
  } finally {
    pool.closeAll();
  }
}

interface Row {
  action: string;
  ours: number[];
  /** The shell floor: converge's is the barrier floor (each step waits for every host of the one before). */
  floor?: number[];
  /** Converge's floor ordered by the converge graph: the true critical path. */
  pipelined?: number[];
}

async function six(): Promise<{ rows: Row[]; nodeMiB: number[] }> {
  const dir = project('six');
  rmSync(join(dir, '.swarm-molecule'), { recursive: true, force: true });
  const scenario = await loadScenario(dir, 'default');
  const rows: Record<string, Row> = {};
  const add = (action: string, value: number, kind: 'ours' | 'floor' | 'pipelined' = 'ours') => {
    rows[action] ??= { action, ours: [] };
    (rows[action][kind] ??= []).push(value);
  };
  let nodeMiB: number[] = [];
  for (let run = 0; run < runs; run++) {
    process.stderr.write(`6 nodes, run ${run + 1}/${runs}\n`);
    const created = await act(scenario, dir, ['create']);
    add('create', created.get('create') ?? NaN);
    const converged = await act(scenario, dir, ['converge', 'idempotence', 'verify']);
    add('converge', converged.get('converge') ?? NaN);
    add('idempotence', converged.get('idempotence') ?? NaN);
    add('verify swarm/node-roles', converged.get('verify swarm/node-roles') ?? NaN);
    add(TEST_IMAGES_ROW, await testImagesOnto(scenario, dir));
    nodeMiB = nodeMemory(dir);
    add('one command on a node', await commandLatency(dir));
    // The floor on the same nodes, from the same starting point.
    await floor(dir, 'leave');
    add('converge', await floor(dir, 'converge'), 'floor');
    await floor(dir, 'leave');
    add('converge', await floor(dir, 'converge-pipelined'), 'pipelined');
    add('idempotence', await floor(dir, 'idempotence'), 'floor');
    add('verify swarm/node-roles', await floor(dir, 'node-roles'), 'floor');
    const destroyed = await act(scenario, dir, ['destroy']);
    add('destroy', destroyed.get('destroy') ?? NaN);
  }
  return { rows: Object.values(rows), nodeMiB };
}

/**
 * The six-node project on the docker driver, against the project's own engine
 * (a dockerd in a network namespace with no route out, as in the docker tests).
 * The node image is imported into the fresh engine before the first create.
 */
async function sixOnDocker(): Promise<Row[]> {
  const dir = project('six');
  rmSync(join(dir, '.swarm-molecule'), { recursive: true, force: true });
  const loaded = await loadScenario(dir, 'default');
  // This machine's engine cannot make privileged containers (no CAP_SYS_RESOURCE).
  const scenario: Scenario = { ...loaded, driver: { name: 'docker', options: { privileged: false } } };
  const engine = await startTestEngine();
  process.env.DOCKER_HOST = `unix://${engine.socket}`;
  const rows: Record<string, Row> = {};
  const add = (action: string, value: number) => (rows[action] ??= { action, ours: [] }).ours.push(value);
  try {
    for (let run = 0; run < runs; run++) {
      process.stderr.write(`6 nodes on the docker driver, run ${run + 1}/${runs}\n`);
      const created = await act(scenario, dir, ['create']);
      add(run === 0 ? 'create (first: image import)' : 'create', created.get('create') ?? NaN);
      const converged = await act(scenario, dir, ['converge', 'idempotence']);
      add('converge', converged.get('converge') ?? NaN);
      add('idempotence', converged.get('idempotence') ?? NaN);
      add('destroy', (await act(scenario, dir, ['destroy'])).get('destroy') ?? NaN);
    }
  } finally {
    delete process.env.DOCKER_HOST;
    await engine.stop();
  }
  return Object.values(rows);
}

const bin = join(root, 'bin', 'swarm-molecule.js');

/** One command as a user runs it (a whole process: Node's start-up, module loading, SSH handshakes), in ms. */
async function command(dir: string, args: string[]): Promise<number> {
  const started = performance.now();
  const run = await execa('node', [bin, ...args], { cwd: dir, reject: false, all: true, env: { NO_COLOR: '1', CI: 'true' } });
  const ms = performance.now() - started;
  if (run.exitCode !== 0) throw new Error(`swarm-molecule ${args.join(' ')} exited ${run.exitCode}:\n${run.all ?? ''}`);
  return ms;
}

/**
 * The 6-node check as four separate commands, each a process: syntax, converge,
 * idempotence and verify (a scenario whose only verify step is swarm/node-roles), and their sum.
 */
async function cli(): Promise<Row[]> {
  const dir = project('six');
  rmSync(join(dir, '.swarm-molecule'), { recursive: true, force: true });
  const rows: Record<string, Row> = {};
  const add = (action: string, value: number) => (rows[action] ??= { action, ours: [] }).ours.push(value);
  try {
    for (let run = 0; run < runs; run++) {
      process.stderr.write(`6 nodes, four commands, run ${run + 1}/${runs}\n`);
      await command(dir, ['create']);
      const times = [await command(dir, ['syntax']), await command(dir, ['converge']), await command(dir, ['idempotence']), await command(dir, ['verify'])];
      ['syntax', 'converge', 'idempotence', 'verify (node roles)'].forEach((name, i) => add(name, times[i] ?? NaN));
      add('sum of the four', times.reduce((a, b) => a + b, 0));
      await command(dir, ['destroy']);
    }
  } finally {
    await execa('node', [bin, 'destroy'], { cwd: dir, reject: false });
  }
  return Object.values(rows);
}

/**
 * What every command pays before it does anything (Node's start-up and module
 * loading), on commands that touch no node: --version, list, and syntax of a
 * scenario of built-in steps only (no TypeScript to type-check). No node is made.
 */
async function startup(): Promise<Row[]> {
  const dir = project('six');
  const rows: Row[] = [
    { action: '--version', ours: [] },
    { action: 'list', ours: [] },
    { action: 'syntax (built-in steps only)', ours: [] },
  ];
  const args = [['--version'], ['list'], ['syntax']];
  for (let run = 0; run < Math.max(runs, 5); run++) {
    for (const [i, row] of rows.entries()) row.ours.push(await command(dir, args[i] ?? []));
  }
  return rows;
}

/** The default scenario's whole test (every verify step), once, as a user runs it. */
async function defaultTest(): Promise<Row[]> {
  process.stderr.write('the default scenario\'s whole test\n');
  return [{ action: 'test (scenarios/default, every verify step)', ours: [await command(root, ['test'])] }];
}

const ratio = (ours: number[], floor: number[] | undefined) => (floor ? `${(median(ours) / median(floor)).toFixed(2)}×` : '-');

function printSix(rows: readonly Row[]): void {
  console.log('6 nodes (3 managers + 3 workers), seconds');
  console.log(
    table([
      ['action', 'median', 'spread', 'floor (barrier)', 'ours/barrier', 'floor (pipelined)', 'ours/pipelined'],
      ...rows.map((r) => [
        r.action,
        s(median(r.ours)),
        spread(r.ours),
        r.floor ? s(median(r.floor)) : '-',
        ratio(r.ours, r.floor),
        r.pipelined ? s(median(r.pipelined)) : '-',
        ratio(r.ours, r.pipelined),
      ]),
    ]),
  );
}

function printRows(title: string, rows: readonly Row[]): void {
  console.log(`\n${title}`);
  console.log(table([['command', 'median', 'spread'], ...rows.map((r) => [r.action, s(median(r.ours)), spread(r.ours)])]));
}

async function twenty(): Promise<Row[]> {
  const dir = project('twenty');
  rmSync(join(dir, '.swarm-molecule'), { recursive: true, force: true });
  const scenario = await loadScenario(dir, 'default');
  process.stderr.write('20 nodes\n');
  const created = await act(scenario, dir, ['create']);
  const converged = await act(scenario, dir, ['converge', 'idempotence']);
  const destroyed = await act(scenario, dir, ['destroy']);
  return [
    { action: 'create', ours: [created.get('create') ?? NaN] },
    { action: 'converge', ours: [converged.get('converge') ?? NaN] },
    { action: 'idempotence', ours: [converged.get('idempotence') ?? NaN] },
    { action: 'destroy', ours: [destroyed.get('destroy') ?? NaN] },
  ];
}

/**
 * Workloads: a ~100 MB image loaded onto 6 nodes (streamed; the harness's RSS
 * is sampled before and during the load), the second load (skipped on every
 * node), and scenarios/stack's actions.
 */
async function workloads(): Promise<{ rows: Row[]; image: { bytes: number; nodes: number; seconds: number; skipSeconds: number; rssBeforeMiB: number; rssPeakMiB: number } }> {
  const dir = project('images');
  rmSync(join(dir, '.swarm-molecule'), { recursive: true, force: true });
  const archive = join(dir, 'scenarios', 'images', 'image.tar');
  process.stderr.write('workloads: writing a 100 MB image archive\n');
  await writeSaveArchive(archive, { tag: 'bench/big:1', padBytes: 100 * 1e6 });
  const bytes = statSync(archive).size;
  const scenario = await loadScenario(dir, 'images');
  await act(scenario, dir, ['create']);
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const local = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
  const loaded = await act(scenario, dir, ['converge']);
  clearInterval(local);
  const skipped = await act(scenario, dir, ['converge']);
  await act(scenario, dir, ['destroy']);
  rmSync(archive, { force: true });

  const stackDir = project('stack');
  rmSync(stackDir, { recursive: true, force: true });
  cpSync(join(root, 'scenarios', 'stack'), join(stackDir, 'scenarios', 'stack'), { recursive: true });
  const stack = await loadScenario(stackDir, 'stack');
  process.stderr.write('workloads: scenarios/stack\n');
  const created = await act(stack, stackDir, ['create']);
  const converged = await act(stack, stackDir, ['converge', 'idempotence', 'verify']);
  const destroyed = await act(stack, stackDir, ['destroy']);
  rmSync(stackDir, { recursive: true, force: true });
  const rows: Row[] = [
    { action: 'stack create (3 nodes)', ours: [created.get('create') ?? NaN] },
    { action: 'stack converge (swarm, network, secret, config, stack)', ours: [converged.get('converge') ?? NaN] },
    { action: 'stack idempotence', ours: [converged.get('idempotence') ?? NaN] },
    { action: 'stack verify swarm/stack-healthy (stable 5s)', ours: [converged.get('verify swarm/stack-healthy') ?? NaN] },
    { action: 'stack destroy', ours: [destroyed.get('destroy') ?? NaN] },
  ];
  return {
    rows,
    image: {
      bytes,
      nodes: scenario.platforms.length,
      seconds: (loaded.get('converge') ?? NaN) / 1000,
      skipSeconds: (skipped.get('converge') ?? NaN) / 1000,
      rssBeforeMiB: rssBefore / 2 ** 20,
      rssPeakMiB: rssPeak / 2 ** 20,
    },
  };
}

function printWorkloads(w: Awaited<ReturnType<typeof workloads>>): void {
  const { image } = w;
  console.log(`\nworkloads: a ${(image.bytes / 1e6).toFixed(0)} MB image to ${image.nodes} nodes`);
  console.log(
    table([
      ['figure', 'value'],
      ['load (every node in parallel)', `${image.seconds.toFixed(2)} s`],
      ['throughput, all nodes', `${((image.bytes * image.nodes) / 1e6 / image.seconds).toFixed(1)} MB/s`],
      ['throughput, per node', `${(image.bytes / 1e6 / image.seconds).toFixed(1)} MB/s`],
      ['second load (skipped on every node)', `${image.skipSeconds.toFixed(2)} s`],
      ['harness RSS before → peak during the load', `${image.rssBeforeMiB.toFixed(0)} → ${image.rssPeakMiB.toFixed(0)} MiB`],
    ]),
  );
  console.log('\nscenarios/stack, seconds');
  console.log(table([['action', 'seconds'], ...w.rows.map((r) => [r.action, s(r.ours[0] ?? NaN)])]));
}

const table = (rows: string[][]) => {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')).join('\n');
};

const spread = (xs: number[]) => `${s(Math.min(...xs))}–${s(Math.max(...xs))}`;
const writeLocal = (key: string, value: unknown) =>
  writeFileSync(join(root, 'bench', 'results.local.json'), `${JSON.stringify({ date: new Date().toISOString(), load: loadavg(), [key]: value }, null, 2)}\n`);

if (only === 'six' || only === 'cli' || only === 'test' || only === 'startup') {
  const rows = only === 'six' ? (await six()).rows : only === 'cli' ? await cli() : only === 'startup' ? await startup() : await defaultTest();
  clearInterval(sampler);
  console.log(`\nswarm-molecule bench · ${only === 'test' ? 'once' : `${only === 'startup' ? Math.max(runs, 5) : runs} runs`} · load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  if (only === 'six') printSix(rows);
  else printRows(only === 'cli' ? '6 nodes, each command a process, seconds' : only === 'startup' ? 'start-up: commands that touch no node, each a process, seconds' : 'the default scenario, seconds', rows);
  writeLocal(only, rows);
  process.exit(0);
}

if (only === 'images') {
  const dir = project('six');
  rmSync(join(dir, '.swarm-molecule'), { recursive: true, force: true });
  const scenario = await loadScenario(dir, 'default');
  const times: number[] = [];
  await act(scenario, dir, ['create', 'converge']);
  try {
    for (let run = 0; run < runs; run++) times.push(await testImagesOnto(scenario, dir));
  } finally {
    await act(scenario, dir, ['destroy']);
  }
  clearInterval(sampler);
  const rows = [{ action: TEST_IMAGES_ROW, ours: times }];
  printRows(`6 nodes (3 drained managers) · ${runs} runs · load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}, seconds`, rows);
  writeLocal(only, rows);
  process.exit(0);
}

if (only === 'workloads') {
  const w = await workloads();
  clearInterval(sampler);
  printWorkloads(w);
  writeFileSync(join(root, 'bench', 'results.local.json'), `${JSON.stringify({ date: new Date().toISOString(), workloads: w }, null, 2)}\n`);
  process.exit(0);
}

const machine = `${cpus().length} cores (${cpus()[0]?.model.trim() ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
const small = only === 'docker' ? { rows: [], nodeMiB: [] } : await six();
const docker = await sixOnDocker();
const scale = only === 'docker' ? [] : await twenty();
const commands = only === 'docker' ? [] : await cli();
const start = only === 'docker' ? [] : await startup();
const whole = only === 'docker' ? [] : await defaultTest();
const work = only === 'docker' ? undefined : await workloads();
clearInterval(sampler);

console.log(`\nswarm-molecule bench · ${machine} · ${runs} runs\n`);
if (only !== 'docker') printSix(small.rows);
const sixBy = (a: string) => median(small.rows.find((r) => r.action === a)?.ours ?? []);
console.log('\n6 nodes, netns and docker drivers, seconds (median)');
console.log(
  table([
    ['action', 'netns', 'docker', 'docker spread'],
    ...docker.map((r) => [r.action, r.action.startsWith('create') ? s(sixBy('create')) : s(sixBy(r.action)), s(median(r.ours)), spread(r.ours)]),
  ]),
);
if (only === 'docker') process.exit(0);
console.log('\nscale, seconds');
console.log(
  table([
    ['action', '6 nodes', '20 nodes', 'growth'],
    ...scale.map((r) => [r.action, s(sixBy(r.action)), s(r.ours[0] ?? NaN), `${((r.ours[0] ?? NaN) / sixBy(r.action)).toFixed(1)}×`]),
  ]),
);
printRows('6 nodes, each command a process, seconds', commands);
printRows('start-up: commands that touch no node, each a process, seconds', start);
printRows('the default scenario, seconds', whole);
if (work) printWorkloads(work);
const peakMiB = Math.max(peakRss, process.resourceUsage().maxRSS * 1024) / 2 ** 20;
console.log(`\nmemory: harness peak ${peakMiB.toFixed(0)} MiB; per node after converge ${small.nodeMiB.map((m) => m.toFixed(0)).join(', ')} MiB`);

writeFileSync(
  join(root, 'bench', 'results.json'),
  `${JSON.stringify({ date: new Date().toISOString(), machine, load: loadavg(), runs, six: small.rows, commands, startup: start, defaultTest: whole, sixOnDocker: docker, twenty: scale, workloads: work, memory: { harnessPeakMiB: peakMiB, nodeMiB: small.nodeMiB } }, null, 2)}\n`,
);
