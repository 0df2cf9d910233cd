import { describe, expect, it, vi } from 'vitest';
import type { PlatformConfig, Scenario, StepConfig } from '../config/index.js';
import type { CommandResult, DockerApiRequest, DockerApiResponse } from '../transport/index.js';
import type { Host } from './api.js';
import { ConvergeFailed } from './errors.js';
import { failureSummary, runConvergeSteps } from './run.js';
import type { HostResult } from './types.js';

/** A playbook entry, without Ansible: what it does to the fake swarm is set per test. */
const playbook = vi.hoisted(() => ({ effect: (): void => undefined }));
vi.mock(import('./ansible/playbook.js'), async (original) => ({
  ...(await original()),
  runPlaybookEntry: async () => {
    playbook.effect();
    return [];
  },
}));

/**
 * A fake transport: a tiny model of what `docker` answers on each node, enough
 * to test the built-in join logic. Real nodes are tested end to end.
 */
class FakeSwarm {
  readonly roles = new Map<string, 'inactive' | 'worker' | 'manager'>();
  readonly commands: string[] = [];
  /** Answers of `read`, kept until forgotten, as the real hosts keep them for an action. */
  readonly reads = new Map<string, Promise<string>>();

  host(platform: PlatformConfig): Host {
    const run = async (argv: readonly string[]): Promise<CommandResult> => {
      this.commands.push(`${platform.name}: ${argv.join(' ')}`);
      const reply = (stdout: string, exitCode = 0): CommandResult => ({ argv, stdout, stderr: exitCode ? stdout : '', exitCode, durationMs: 1 });
      const [, command, sub] = argv;
      const role = this.roles.get(platform.name) ?? 'inactive';
      if (command === 'info') {
        return reply(JSON.stringify({ NodeID: `id-${platform.name}`, LocalNodeState: role === 'inactive' ? 'inactive' : 'active', ControlAvailable: role === 'manager', Error: '', Cluster: role === 'manager' ? { ID: 'c1' } : null }));
      }
      if (command === 'swarm' && sub === 'join-token') return reply('SWMTKN-1-abcdefghijklmnopqrstuvwxyz0123456789-abcdefghijklmnopqrstuvwxy');
      if (command === 'swarm' && sub === 'join') {
        this.roles.set(platform.name, argv.includes('--token') ? 'worker' : role);
        return reply('This node joined a swarm as a worker.');
      }
      if (command === 'node' && sub === 'ls') {
        return reply([...this.roles].filter(([, r]) => r !== 'inactive').map(([name]) => `id-${name}`).join('\n'));
      }
      if (command === 'node' && sub === 'inspect') {
        const nodes = argv.slice(3).map((id) => {
          const name = id.replace('id-', '');
          return { ID: id, Description: { Hostname: name }, Spec: { Availability: 'active', Role: this.roles.get(name), Labels: {} } };
        });
        return reply(JSON.stringify(nodes));
      }
      if (command === 'node' && sub === 'demote') {
        this.roles.set(String(argv[3]).replace('id-', ''), 'worker');
        return reply('');
      }
      return reply(`unexpected: ${argv.join(' ')}`, 1);
    };
    const check = async (argv: readonly string[]) => {
      const result = await run(argv);
      if (result.exitCode !== 0) throw new Error(result.stdout);
      return result.stdout;
    };
    const dockerApi = async (request: DockerApiRequest): Promise<DockerApiResponse> => {
      this.commands.push(`${platform.name}: API ${request.method} ${request.path}`);
      const body = request.body as { JoinToken?: string };
      if (request.path === '/swarm/join' && body.JoinToken?.startsWith('SWMTKN-')) {
        this.roles.set(platform.name, 'worker');
        return { status: 200, body: '' };
      }
      return { status: 400, body: '{"message":"unexpected"}' };
    };
    return { name: platform.name, address: `10.0.0.${platform.name.length}`, groups: platform.groups, labels: platform.labels, run, check, docker: (args) => check(['docker', ...args]), read: (argv) => {
        const key = `${platform.name} ${argv.join(' ')}`;
        const answer = this.reads.get(key) ?? check(argv);
        this.reads.set(key, answer);
        return answer;
      }, dockerApi, engine: async () => undefined };
  }
}

const platforms: PlatformConfig[] = [
  { name: 'm1', groups: ['swarm-leader', 'swarm-manager'], labels: {} },
  { name: 'w1', groups: ['swarm-worker'], labels: {} },
  { name: 'w2', groups: ['swarm-worker'], labels: {} },
];

function input(swarm: FakeSwarm, converge: Partial<StepConfig>[], results: HostResult[] = []) {
  // Reads are kept for one action: each run starts without any.
  swarm.reads.clear();
  const forgetReads = () => swarm.reads.clear();
  const entries = converge.map((e, index) => ({ section: 'converge' as const, index, with: {}, ...e }));
  const scenario = { name: 'unit', dir: '/nonexistent', platforms, converge: entries, verify: [] } as unknown as Scenario;
  return {
    scenario,
    base: { scenario: { name: 'unit', dir: '/unit', platforms, converge: entries }, hosts: platforms.map((p) => swarm.host(p)), signal: new AbortController().signal },
    events: { hostResult: (_step: string, r: HostResult) => results.push(r) },
    nodes: { stop: async () => undefined, start: async () => undefined, partition: async () => undefined, isolate: async () => undefined, heal: async () => undefined },
    forgetReads,
  };
}

describe('runConvergeSteps with the built-in join step', () => {
  it('reports changed with before → after, then ok on the rerun', async () => {
    const swarm = new FakeSwarm();
    swarm.roles.set('m1', 'manager');
    const first = await runConvergeSteps(input(swarm, [{ step: 'swarm/join-workers' }]));
    expect(first[0]?.hosts.map((h) => [h.host, h.status, h.changes])).toEqual([
      ['w1', 'changed', ['swarm: inactive → worker']],
      ['w2', 'changed', ['swarm: inactive → worker']],
    ]);
    // The token was read once for both hosts.
    expect(swarm.commands.filter((c) => c.includes('join-token'))).toHaveLength(1);
    // Joined through the Engine API: the token is an argument of no command (process lists show arguments).
    expect(swarm.commands.filter((c) => c.includes('API POST /swarm/join'))).toHaveLength(2);
    expect(swarm.commands.join('\n')).not.toContain('SWMTKN');
    const second = await runConvergeSteps(input(swarm, [{ step: 'swarm/join-workers' }]));
    expect(second[0]?.hosts.map((h) => h.status)).toEqual(['ok', 'ok']);
  });

  it('demotes a worker that is a manager, and honours hosts:', async () => {
    const swarm = new FakeSwarm();
    swarm.roles.set('m1', 'manager');
    swarm.roles.set('w2', 'manager');
    const results = await runConvergeSteps(input(swarm, [{ step: 'swarm/join-workers', hosts: 'w2', name: 'fix w2' }]));
    expect(results[0]).toMatchObject({ name: 'fix w2', hosts: [{ host: 'w2', status: 'changed', changes: ['role: manager → worker'] }] });
  });

  it('fails the step naming the host, stops the converge there, and never shows the token', async () => {
    const swarm = new FakeSwarm();
    swarm.roles.set('m1', 'manager');
    // w1's join is refused, with the token in the daemon's message.
    const original = swarm.host.bind(swarm);
    swarm.host = (p) => {
      const host = original(p);
      if (p.name !== 'w1') return host;
      return { ...host, dockerApi: async () => ({ status: 500, body: JSON.stringify({ message: `join --token ${'SWMTKN-1-abcdefghijklmnopqrstuvwxyz0123456789-abcdefghijklmnopqrstuvwxy'} refused` }) }) };
    };
    const seen: HostResult[] = [];
    const error = await runConvergeSteps(input(swarm, [{ step: 'swarm/join-workers' }, { step: 'swarm/labels' }], seen)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConvergeFailed);
    expect((error as Error).message).toMatch(/Converge step "swarm\/join-workers" failed on w1 \(scenario "unit"\)/);
    expect((error as Error).message).not.toContain('SWMTKN');
    expect(seen.find((r) => r.host === 'w1')?.message).not.toContain('SWMTKN');
    // swarm/labels never ran.
    expect(seen).toHaveLength(2);
  });
});

describe('reads gathered up front', () => {
  it('are forgotten after a playbook entry that changed the swarm', async () => {
    const swarm = new FakeSwarm();
    swarm.roles.set('m1', 'manager');
    // The playbook joins both workers after the join step gathered them as inactive.
    playbook.effect = () => {
      swarm.roles.set('w1', 'worker');
      swarm.roles.set('w2', 'worker');
    };
    const results = await runConvergeSteps(input(swarm, [{ playbook: 'join.yml' }, { step: 'swarm/join-workers' }]));
    // The gather ran before the playbook and saw them inactive (the fault's precondition).
    expect(swarm.commands.filter((c) => c.includes('docker info')).length).toBeGreaterThanOrEqual(4);
    expect(results[1]?.hosts.map((h) => [h.host, h.status, h.message])).toEqual([
      ['w1', 'ok', 'already a worker'],
      ['w2', 'ok', 'already a worker'],
    ]);
    expect(swarm.commands.filter((c) => c.includes('/swarm/join'))).toEqual([]);
  });
});

describe('failureSummary', () => {
  it('names hosts that failed the same way together, with the text once', () => {
    const error = 'line one\nline two of a long error';
    expect(failureSummary([
      { host: 'm1', message: error },
      { host: 'm2', message: error },
      { host: 'w1', message: 'other' },
    ])).toBe(`m1, m2: ${error}; w1: other`);
  });
});
