import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PlatformConfig, Scenario, StepConfig } from '../config/index.js';
import type { CommandResult, ConnectionPool, DockerApiRequest, DockerApiResponse } from '../transport/index.js';
import { ConvergeFailed } from './errors.js';
import { planWalk, type WalkStep } from './graph.js';
import { createHost } from './host.js';
import { runConvergeSteps } from './run.js';
import type { HostResult, StepRunInput } from './types.js';

const MANAGER_TOKEN = 'SWMTKN-1-managermanagermanagermanagermanager00-managermanagermanagermanag';
const WORKER_TOKEN = 'SWMTKN-1-workerworkerworkerworkerworkerworker00-workerworkerworkerworkerw';

interface NodeRecord {
  role: 'manager' | 'worker';
  availability: string;
  labels: Record<string, string>;
}

/**
 * A fake transport under the real hosts (their read cache included): a small
 * model of what dockerd answers, where every command is logged as it starts
 * and ends, and a join can be held at a gate until something else has started.
 * Real nodes are tested end to end.
 */
class FakeCluster {
  readonly log: string[] = [];
  readonly nodes = new Map<string, NodeRecord>();
  /** A join held until each of `until` is in the log (or `ms` passed: a walk that never lets it happen fails the test, it does not hang it). */
  readonly gates = new Map<string, { until: RegExp[]; ms: number }>();
  /** Joins refused with this message. */
  readonly refuse = new Map<string, string>();

  seen(pattern: RegExp): number {
    return this.log.findIndex((line) => pattern.test(line));
  }

  async #gate(host: string): Promise<void> {
    const gate = this.gates.get(host);
    if (!gate) return;
    const deadline = Date.now() + gate.ms;
    while (gate.until.some((line) => this.seen(line) < 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  }

  async #timed<T>(host: string, what: string, work: () => Promise<T> | T): Promise<T> {
    this.log.push(`${host} start ${what}`);
    await new Promise((r) => setTimeout(r, 1));
    try {
      return await work();
    } finally {
      this.log.push(`${host} end ${what}`);
    }
  }

  #answer(host: string, argv: readonly string[]): { stdout: string; exitCode: number } {
    const [, command, sub] = argv;
    const me = this.nodes.get(host);
    if (command === 'info') {
      return { stdout: JSON.stringify({ NodeID: me ? `id-${host}` : '', NodeAddr: '', LocalNodeState: me ? 'active' : 'inactive', ControlAvailable: me?.role === 'manager', Error: '', Cluster: me?.role === 'manager' ? { ID: 'c1' } : null }), exitCode: 0 };
    }
    if (command === 'swarm' && sub === 'init') {
      this.nodes.set(host, { role: 'manager', availability: 'active', labels: {} });
      return { stdout: 'Swarm initialized', exitCode: 0 };
    }
    if (command === 'swarm' && sub === 'join-token') return { stdout: argv.includes('manager') ? MANAGER_TOKEN : WORKER_TOKEN, exitCode: 0 };
    if (command === 'node' && sub === 'ls') return { stdout: [...this.nodes.keys()].map((n) => `id-${n}`).join('\n'), exitCode: 0 };
    if (command === 'node' && sub === 'inspect') {
      const found = argv.slice(3).map((id) => {
        const name = id.replace(/^id-/, '');
        const node = this.nodes.get(name);
        return { ID: id, Description: { Hostname: name }, Spec: { Availability: node?.availability, Role: node?.role, Labels: node?.labels } };
      });
      return { stdout: JSON.stringify(found), exitCode: 0 };
    }
    if (command === 'node' && sub === 'update') {
      const node = this.nodes.get(String(argv.at(-1)).replace(/^id-/, ''));
      if (!node) return { stdout: 'no such node', exitCode: 1 };
      for (const [i, arg] of argv.entries()) {
        if (arg === '--availability') node.availability = String(argv[i + 1]);
        if (arg === '--label-add') {
          const [key = '', value = ''] = String(argv[i + 1]).split('=');
          node.labels[key] = value;
        }
      }
      return { stdout: '', exitCode: 0 };
    }
    if (command === undefined && argv[0] === 'custom') return { stdout: '', exitCode: 0 };
    return { stdout: `unexpected: ${argv.join(' ')}`, exitCode: 1 };
  }

  /** What `what` a command is in the log: `join`, `drain m2`, `custom`, or its argv. */
  static label(argv: readonly string[]): string {
    if (argv[0] === 'custom') return 'custom';
    if (argv[1] === 'node' && argv[2] === 'update' && argv.includes('drain')) return `drain ${String(argv.at(-1)).replace(/^id-/, '')}`;
    return argv.join(' ');
  }

  pool(): ConnectionPool {
    const connection = (host: string) => ({
      run: (argv: readonly string[]): Promise<CommandResult> =>
        this.#timed(host, FakeCluster.label(argv), () => {
          const { stdout, exitCode } = this.#answer(host, argv);
          return { argv, stdout, stderr: exitCode ? stdout : '', exitCode, durationMs: 1 };
        }),
      dockerApi: (request: DockerApiRequest): Promise<DockerApiResponse> =>
        this.#timed(host, 'join', async () => {
          await this.#gate(host);
          const refused = this.refuse.get(host);
          if (refused) return { status: 500, body: JSON.stringify({ message: refused }) };
          const token = (request.body as { JoinToken?: string }).JoinToken;
          this.nodes.set(host, { role: token === MANAGER_TOKEN ? 'manager' : 'worker', availability: 'active', labels: {} });
          return { status: 200, body: '' };
        }),
      // No Engine API on these fake nodes: the built-in steps take the CLI path, whose commands this cluster answers.
      engine: () => ({ request: async () => undefined }),
    });
    return { get: connection } as unknown as ConnectionPool;
  }
}

const platforms: PlatformConfig[] = [
  { name: 'm1', groups: ['swarm-leader', 'swarm-manager'], labels: {} },
  { name: 'm2', groups: ['swarm-manager'], labels: {} },
  { name: 'm3', groups: ['swarm-manager'], labels: {} },
  { name: 'w1', groups: ['swarm-worker'], labels: { zone: 'a' } },
  { name: 'w2', groups: ['swarm-worker'], labels: { zone: 'b' } },
];

function input(cluster: FakeCluster, converge: Partial<StepConfig>[], dir = '/nonexistent', results: HostResult[] = []): StepRunInput {
  const entries = converge.map((e, index) => ({ section: 'converge' as const, index, with: {}, ...e }));
  const scenario = { name: 'unit', dir, platforms, converge: entries, verify: [] } as unknown as Scenario;
  const book = { platforms, addressOf: (name: string) => `10.0.0.${platforms.findIndex((p) => p.name === name) + 1}`, connections: cluster.pool(), reads: new Map<string, Promise<unknown>>() };
  return {
    scenario,
    base: { scenario: { name: 'unit', dir, platforms, converge: entries }, hosts: platforms.map((p) => createHost(p, book)), signal: new AbortController().signal },
    events: { hostResult: (_step: string, r: HostResult) => results.push(r) },
    nodes: { stop: async () => undefined, start: async () => undefined, partition: async () => undefined, isolate: async () => undefined, heal: async () => undefined },
    forgetReads: () => book.reads.clear(),
  };
}

const SWARM = [{ step: 'swarm/init' }, { step: 'swarm/join-managers' }, { step: 'swarm/join-workers' }, { step: 'swarm/drain-managers' }, { step: 'swarm/labels' }];

describe('planWalk', () => {
  const graph = (needs: WalkStep['graph']): WalkStep => ({ hosts: ['m1', 'w1'], graph: needs, serial: false });

  it('a graph step waits for its host\'s earlier steps and what it needs; a barrier for every earlier task, and every later one for it', () => {
    const tasks = planWalk(
      [
        { hosts: ['m1'], graph: { provides: ['member'] }, serial: false }, // 0: m1
        { hosts: ['w1'], graph: { needs: ['swarm'], provides: ['member'] }, serial: false }, // 1: w1
        graph({ needs: ['swarm', 'member'] }), // 2: m1, 3: w1
        graph(undefined), // 4, 5: a barrier
        graph({}), // 6, 7
      ],
      'm1',
    );
    const needs = (id: number) => [...(tasks[id]?.needs ?? [])].sort();
    expect(needs(1)).toEqual([0]); // the worker: the leader's init only
    expect(needs(2)).toEqual([0]); // on m1: its own init
    expect(needs(3)).toEqual([0, 1]); // on w1: its own join, and the swarm
    expect(needs(4)).toEqual([0, 1, 2, 3]);
    expect(needs(5)).toEqual([0, 1, 2, 3]);
    expect(needs(6)).toEqual([4, 5]);
  });

  it('waits for every earlier task when nothing before provides what a step needs, and chains a serial step', () => {
    const tasks = planWalk(
      [
        { hosts: ['w1'], graph: {}, serial: false },
        { hosts: ['m1', 'w1'], graph: { needs: ['swarm'] }, serial: true },
      ],
      'm1',
    );
    expect(tasks[1]?.needs).toEqual([0]);
    expect(tasks[2]?.needs).toEqual([0]);
    expect(tasks[2]?.after).toEqual([1]);
  });
});

describe('runConvergeSteps walks the converge graph', () => {
  it('joins workers beside the serial manager joins, and drains each manager right after its own join', async () => {
    const cluster = new FakeCluster();
    // Each manager's join is held until the manager before it has started draining; the
    // last one also until a worker's join has started. A walk of barriers would hold them
    // to the end of the gate, and the order below would be wrong.
    // (Drains run on the leader: "m1 start drain m2" is m2's.)
    cluster.gates.set('m2', { until: [/^m1 start drain m1$/], ms: 20_000 });
    cluster.gates.set('m3', { until: [/^m1 start drain m2$/, /^w[12] start join$/], ms: 20_000 });
    const results = await runConvergeSteps(input(cluster, SWARM));

    const at = (line: RegExp) => {
      const index = cluster.seen(line);
      expect(index, `${String(line)} in\n${cluster.log.join('\n')}`).toBeGreaterThanOrEqual(0);
      return index;
    };
    const lastManagerJoinEnds = at(/^m3 end join$/);
    // A worker's join starts before the last manager's join ends.
    expect(at(/^w[12] start join$/)).toBeLessThan(lastManagerJoinEnds);
    // Each manager's drain (issued on the leader) starts after its own join, before the next manager's join ends.
    expect(at(/^m1 start drain m2$/)).toBeGreaterThan(at(/^m2 end join$/));
    expect(at(/^m1 start drain m2$/)).toBeLessThan(lastManagerJoinEnds);
    expect(at(/^m1 start drain m1$/)).toBeLessThan(at(/^m2 end join$/));
    // The manager joins stay one at a time.
    expect(at(/^m3 start join$/)).toBeGreaterThan(at(/^m2 end join$/));

    // Every step reported, in the list's order, each host once, and the cluster is what was asked.
    expect(results.map((r) => r.name)).toEqual(SWARM.map((s) => s.step));
    expect(results.map((r) => r.hosts.map((h) => h.host).sort())).toEqual([['m1'], ['m1', 'm2', 'm3'], ['w1', 'w2'], ['m1', 'm2', 'm3'], ['m1', 'm2', 'm3', 'w1', 'w2']]);
    expect(Object.fromEntries([...cluster.nodes].map(([name, n]) => [name, `${n.role} ${n.availability} ${JSON.stringify(n.labels)}`]))).toEqual({
      m1: 'manager drain {}',
      m2: 'manager drain {}',
      m3: 'manager drain {}',
      w1: 'worker active {"zone":"a"}',
      w2: 'worker active {"zone":"b"}',
    });

    // The second run changes nothing, everywhere.
    const again = await runConvergeSteps(input(cluster, SWARM));
    expect(again.flatMap((r) => r.hosts.map((h) => `${r.name} ${h.host} ${h.status}`)).filter((line) => !line.endsWith(' ok'))).toEqual([]);
  });

  it('runs a custom step without opt-in only once the step before it has ended on every host', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-graph-'));
    // A plain step module, as a user writes one, without `graph`.
    writeFileSync(
      join(dir, 'custom.mjs'),
      "export default { kind: 'converge', name: 'custom', description: 'a custom step', hosts: 'all', async apply(_ctx, host) { await host.run(['custom']); return { status: 'ok' }; } };\n",
    );
    const cluster = new FakeCluster();
    // w2's join is held until the custom step starts somewhere (which must not happen), or 300 ms.
    cluster.gates.set('w2', { until: [/start custom$/], ms: 300 });
    const results = await runConvergeSteps(input(cluster, [{ step: 'swarm/init' }, { step: 'swarm/join-workers' }, { step: './custom.mjs' }], dir));
    const customStarts = cluster.log.flatMap((line, i) => (line.endsWith('start custom') ? [i] : []));
    expect(customStarts).toHaveLength(platforms.length);
    const joinsEnd = Math.max(cluster.seen(/^w1 end join$/), cluster.seen(/^w2 end join$/));
    expect(joinsEnd).toBeGreaterThanOrEqual(0);
    for (const start of customStarts) expect(start, cluster.log.join('\n')).toBeGreaterThan(joinsEnd);
    expect(results.map((r) => r.name)).toEqual(['swarm/init', 'swarm/join-workers', 'custom']);
  });

  it('stops what depends on a failed host, and fails with the first failed step as before', async () => {
    const cluster = new FakeCluster();
    cluster.refuse.set('m2', 'manager join refused');
    const seen: HostResult[] = [];
    const error = await runConvergeSteps(input(cluster, SWARM, '/nonexistent', seen)).catch((e: unknown) => e);
    // The fault happened: m2's join was tried and refused.
    expect(cluster.seen(/^m2 end join$/)).toBeGreaterThanOrEqual(0);
    expect(cluster.nodes.has('m2')).toBe(false);
    expect(error).toBeInstanceOf(ConvergeFailed);
    expect((error as Error).message).toMatch(/^Converge step "swarm\/join-managers" failed on m2 \(scenario "unit"\): m2: Joining m2 to the swarm as a manager failed \(Docker API status 500\): manager join refused$/);
    // m2 was never drained or labelled; m3's join (same step, not depending on m2) still ran.
    expect(cluster.seen(/drain m2$/)).toBe(-1);
    expect(cluster.nodes.get('m3')?.role).toBe('manager');
    expect(seen.filter((r) => r.status === 'failed').map((r) => r.host)).toEqual(['m2']);
    expect((error as { converge?: { name: string }[] }).converge?.map((r) => r.name)).toContain('swarm/join-managers');
  });
});
