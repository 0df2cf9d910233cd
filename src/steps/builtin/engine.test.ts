import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import type { PlatformConfig } from '../../config/index.js';
import { CheckFailed, InfraError } from '../../errors.js';
import type { EngineCall } from '../../transport/index.js';
import type { Host, StepContext } from '../api.js';
import { createStepContext } from '../context.js';
import { nodeList } from './node-list.js';
import { nodeSpecOf, nodeSpecs, settledSwarmInfo, swarmInfo, updateNode } from './swarm-info.js';

/** One node as GET /nodes gives it (Docker 20.10), and the row `docker node ls --format '{{json .}}'` prints for it. */
const API_NODES = [
  {
    ID: 'w1id',
    Version: { Index: 31 },
    Spec: { Labels: { zone: 'b' }, Role: 'worker', Availability: 'active' },
    Description: { Hostname: 'w1', Engine: { EngineVersion: '20.10.24+dfsg1' } },
    Status: { State: 'ready', Addr: '10.0.0.3' },
  },
  {
    ID: 'm1id',
    Version: { Index: 27 },
    Spec: { Labels: {}, Role: 'manager', Availability: 'drain' },
    Description: { Hostname: 'm1', Engine: { EngineVersion: '20.10.24+dfsg1' } },
    Status: { State: 'ready', Addr: '10.0.0.2' },
    ManagerStatus: { Leader: true, Reachability: 'reachable', Addr: '10.0.0.2:2377' },
  },
  {
    ID: 'm2id',
    Version: { Index: 40 },
    Spec: { Role: 'manager', Availability: 'active' },
    Description: { Hostname: 'm2', Engine: { EngineVersion: '20.10.24+dfsg1' } },
    Status: { State: 'down' },
    ManagerStatus: { Reachability: 'unreachable', Addr: '10.0.0.4:2377' },
  },
];
const CLI_ROWS = [
  { Availability: 'Drain', EngineVersion: '20.10.24+dfsg1', Hostname: 'm1', ID: 'm1id', ManagerStatus: 'Leader', Self: true, Status: 'Ready', TLSStatus: 'Ready' },
  { Availability: 'Active', EngineVersion: '20.10.24+dfsg1', Hostname: 'm2', ID: 'm2id', ManagerStatus: 'Unreachable', Self: false, Status: 'Down', TLSStatus: 'Ready' },
  { Availability: 'Active', EngineVersion: '20.10.24+dfsg1', Hostname: 'w1', ID: 'w1id', ManagerStatus: '', Self: false, Status: 'Ready', TLSStatus: 'Ready' },
];
const SWARM = { NodeID: 'm1id', NodeAddr: '10.0.0.2', LocalNodeState: 'active', ControlAvailable: true, Error: '', RemoteManagers: null, Cluster: { ID: 'c1' } };

/**
 * A fake transport for one node: its Engine API answers from `api` (by request
 * label), or `undefined` as a node that refuses forwarding does; the CLI answers
 * from `cli` (by command line). Both record what was asked.
 */
function fakeHost(name: string, api: Record<string, (body?: unknown) => unknown> | undefined, cli: Record<string, string>) {
  const asked: string[] = [];
  const docker = (argv: readonly string[]) => {
    asked.push(`$ ${argv.join(' ')}`);
    const answer = cli[argv.join(' ')];
    if (answer === undefined) throw new Error(`unexpected command ${argv.join(' ')}`);
    return Promise.resolve(answer);
  };
  /** dockerode, as far as the steps use it: each method resolves to what `api` says for its request. */
  const answer = (label: string, body?: unknown) => {
    asked.push(label);
    const reply = api?.[label];
    if (!reply) return Promise.reject(new Error(`unexpected request ${label}`));
    return new Promise<unknown>((resolve) => resolve(reply(body)));
  };
  const fakeDocker = {
    info: () => answer('GET /info'),
    listNodes: () => answer('GET /nodes'),
    swarmInspect: () => answer('GET /swarm'),
    getNode: (id: string) => ({
      inspect: () => answer(`GET /nodes/${id}`),
      update: (options: { _query: { version: number }; _body: unknown }) => answer(`POST /nodes/${id}/update?version=${options._query.version}`, options._body),
    }),
  } as unknown as Docker;
  const host: Host = {
    name,
    address: '10.0.0.2',
    groups: ['swarm-leader', 'swarm-manager'],
    labels: {},
    run: () => Promise.reject(new Error('not used')),
    check: (argv) => docker(argv),
    docker: (args) => docker(['docker', ...args]),
    read: (argv) => docker(argv),
    dockerApi: () => Promise.reject(new Error('not used')),
    engine: <T>(call: EngineCall<T>) => (api === undefined ? Promise.resolve(undefined) : call.call(fakeDocker)),
  };
  return { host, asked };
}

const platform: PlatformConfig = { name: 'm1', groups: ['swarm-leader', 'swarm-manager'], labels: {} };
const contextOf = (host: Host, log: (line: string) => void = () => undefined): StepContext<unknown> =>
  createStepContext({ scenario: { name: 'unit', dir: '/unit', platforms: [platform], converge: [] }, hosts: [host], log, signal: new AbortController().signal }, {});

describe('reads through the Engine API, or the CLI where the socket is not forwarded', () => {
  const cli = {
    'docker info --format {{json .Swarm}}': JSON.stringify(SWARM),
    'docker node ls --format {{json .}}': CLI_ROWS.map((row) => JSON.stringify(row)).join('\n'),
    'docker node ls --format {{.ID}}': 'm1id\nm2id\nw1id',
    'docker node inspect m1id m2id w1id': JSON.stringify(API_NODES),
  };
  const api = { 'GET /info': () => ({ ID: 'daemon', Swarm: SWARM }), 'GET /nodes': () => API_NODES };

  it('gives the same swarm state both ways, asking no command where the API answers', async () => {
    const viaApi = fakeHost('m1', api, cli);
    const viaCli = fakeHost('m1', undefined, cli);
    expect(await swarmInfo(viaApi.host)).toEqual(await swarmInfo(viaCli.host));
    expect(viaApi.asked).toEqual(['GET /info']);
    expect(viaCli.asked).toEqual(['$ docker info --format {{json .Swarm}}']);
  });

  it('gives the rows of docker node ls from GET /nodes, as the CLI prints them', async () => {
    const pick = (rows: object[]) => rows.map((row) => ({ ...row, Self: undefined, TLSStatus: undefined }));
    const viaApi = await nodeList(fakeHost('m1', api, cli).host);
    const viaCli = await nodeList(fakeHost('m1', undefined, cli).host);
    expect(pick(viaApi)).toEqual(pick(viaCli));
    expect(viaApi.map((r) => [r.Hostname, r.Status, r.Availability, r.ManagerStatus])).toEqual([
      ['m1', 'Ready', 'Drain', 'Leader'],
      ['m2', 'Down', 'Active', 'Unreachable'],
      ['w1', 'Ready', 'Active', ''],
    ]);
  });

  it('gives the same node specs both ways: one request, or node ls + node inspect', async () => {
    const viaApi = fakeHost('m1', api, cli);
    const viaCli = fakeHost('m1', undefined, cli);
    expect(await nodeSpecs(contextOf(viaApi.host))).toEqual(await nodeSpecs(contextOf(viaCli.host)));
    expect((await nodeSpecs(contextOf(viaApi.host))).get('w1')).toEqual({ id: 'w1id', availability: 'active', role: 'worker', labels: { zone: 'b' } });
    expect(viaApi.asked.filter((a) => a.startsWith('$'))).toEqual([]);
  });

  it('asks again for a node that has just joined and is listed without its hostname yet, instead of taking it for a node outside the swarm', async () => {
    let answers = 0;
    // The first answer is what a manager gives right after a join: the new node has no description until its first heartbeat.
    const justJoined = () => (answers++ === 0 ? API_NODES.map((n) => (n.ID === 'm1id' ? { ...n, Description: {} } : n)) : API_NODES);
    const { host, asked } = fakeHost('m1', { 'GET /nodes': justJoined }, {});
    expect(await nodeSpecOf(contextOf(host), host)).toEqual({ id: 'm1id', availability: 'drain', role: 'manager', labels: {} });
    expect(asked).toEqual(['GET /nodes', 'GET /nodes']);
    const rows = await nodeList(fakeHost('m1', { 'GET /nodes': () => [{ ...API_NODES[0], Description: {} }] }, {}).host);
    expect(rows.map((r) => r.Hostname)).toEqual(['']);
  });

  it('fails an answer of another shape naming the node and the request', async () => {
    const error = await swarmInfo(fakeHost('m1', { 'GET /info': () => ({ Swarm: { LocalNodeState: 'sideways' } }) }, {}).host).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfraError);
    expect((error as Error).message).toMatch(/^The Docker daemon of m1 answered "GET \/info" with something swarm-molecule does not understand:/);
  });
});

describe('settledSwarmInfo: the state the membership steps act on', () => {
  /** A node whose `docker info` says each state in turn; `error` between restarts: no node running, so no node ID. */
  const answering = (...states: string[]) =>
    fakeHost('m1', { 'GET /info': () => ({ Swarm: { ...SWARM, ...(states[0] === 'error' ? { NodeID: '' } : {}), LocalNodeState: states.shift() } }) }, {});

  it('asks a node that is pending (a join, a promotion, a restart reconnecting) again until it settles, and says how long it took', async () => {
    const { host, asked } = answering('pending', 'pending', 'active');
    const lines: string[] = [];
    expect((await settledSwarmInfo(contextOf(host, (line) => lines.push(line)), host)).LocalNodeState).toBe('active');
    expect(asked).toEqual(['GET /info', 'GET /info', 'GET /info']);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('m1 is "pending" in a swarm, a join, a promotion or a restart on its way: waiting up to 60 s for it to settle');
    expect(lines[1]).toMatch(/^m1 settled as "active" after 1\.\d s$/);
  });

  it('waits out "error" too: dockerd restarting its swarm node after a promotion or a lost quorum', async () => {
    const { host, asked } = answering('error', 'pending', 'active');
    const lines: string[] = [];
    expect((await settledSwarmInfo(contextOf(host, (line) => lines.push(line)), host)).LocalNodeState).toBe('active');
    expect(asked).toHaveLength(3);
    expect(lines[0]).toBe('m1 is "error" in a swarm, its dockerd restarts a swarm node that stopped, after up to 30 s: waiting up to 60 s for it to settle');
  });

  it('takes a member dockerd has restarted (it says "error" from then on, with no error, and runs as its node) as active, with the role it reports', async () => {
    // As manager-03 answered in the chaos suite, 2 s after its promotion failed once ("manager stopped: can't initialize raft node") and dockerd restarted it.
    const { host, asked } = fakeHost('m1', { 'GET /info': () => ({ Swarm: { ...SWARM, LocalNodeState: 'error', Error: '', ControlAvailable: true } }) }, {});
    const lines: string[] = [];
    const info = await settledSwarmInfo(contextOf(host, (line) => lines.push(line)), host);
    expect([info.LocalNodeState, info.ControlAvailable]).toEqual(['active', true]);
    expect(asked).toEqual(['GET /info']);
    expect(lines).toEqual(['m1 runs as node m1id of its swarm; Docker says "error" with no error since it restarted the node\'s swarm component: taken as active']);
  });

  it('asks again with a fresh command where the socket is not forwarded, not the shared read', async () => {
    const states = ['pending', 'inactive'];
    const asked: string[] = [];
    const { host } = fakeHost('m1', undefined, {});
    const answer = (argv: readonly string[]) => {
      asked.push(argv.join(' '));
      return Promise.resolve(JSON.stringify({ ...SWARM, LocalNodeState: states.shift() }));
    };
    const fresh: Host = { ...host, read: (argv) => answer(['read:', ...argv]), check: (argv) => answer(['check:', ...argv]) };
    expect((await settledSwarmInfo(contextOf(fresh), fresh)).LocalNodeState).toBe('inactive');
    expect(asked).toEqual(['read: docker info --format {{json .Swarm}}', 'check: docker info --format {{json .Swarm}}']);
  });

  it('fails a node that stays in error (a join that failed), or is locked, with Swarm\'s own words and the way out, never joining it', async () => {
    const failedJoin = fakeHost('m1', { 'GET /info': () => ({ Swarm: { ...SWARM, LocalNodeState: 'error', Error: 'rpc error: code = DeadlineExceeded desc = context deadline exceeded' } }) }, {});
    const lines: string[] = [];
    const error = await settledSwarmInfo(contextOf(failedJoin.host, (line) => lines.push(line)), failedJoin.host, 1_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckFailed);
    expect((error as Error).message).toBe('m1 is in a swarm in state "error" for 1 s (rpc error: code = DeadlineExceeded desc = context deadline exceeded): "docker swarm leave --force" on it, or recreating the node, starts it afresh.');
    expect(lines[1]).toMatch(/^m1 is still "error" after 1\.\d s$/);
    expect(failedJoin.asked.length).toBeGreaterThan(1);
    const locked = answering('locked').host;
    await expect(settledSwarmInfo(contextOf(locked), locked)).rejects.toThrow(/m1 is in a locked swarm: unlock it with "docker swarm unlock"/);
  });
});

describe('updateNode', () => {
  it('reads the node and sends its whole spec back changed, with the version read', async () => {
    const sent: unknown[] = [];
    const { host, asked } = fakeHost(
      'm1',
      {
        'GET /nodes/w1id': () => API_NODES[0],
        'POST /nodes/w1id/update?version=31': (body) => sent.push(body),
      },
      {},
    );
    await updateNode(contextOf(host), 'w1id', { addLabels: { rack: '7' } });
    expect(asked).toEqual(['GET /nodes/w1id', 'POST /nodes/w1id/update?version=31']);
    expect(sent).toEqual([{ Labels: { zone: 'b', rack: '7' }, Role: 'worker', Availability: 'active' }]);
  });

  it('reads again when Swarm says the update is out of sequence (the node changed meanwhile)', async () => {
    let version = 31;
    const { host, asked } = fakeHost(
      'm1',
      {
        'GET /nodes/w1id': () => ({ ...API_NODES[0], Version: { Index: version++ } }),
        'POST /nodes/w1id/update?version=31': () => {
          throw Object.assign(new Error('(HTTP code 500) server error'), { statusCode: 500, json: { message: 'rpc error: code = Unknown desc = update out of sequence' } });
        },
        'POST /nodes/w1id/update?version=32': () => '',
      },
      {},
    );
    await updateNode(contextOf(host), 'w1id', { availability: 'drain' });
    expect(asked).toEqual(['GET /nodes/w1id', 'POST /nodes/w1id/update?version=31', 'GET /nodes/w1id', 'POST /nodes/w1id/update?version=32']);
  });

  it('runs the docker command that does the same where the socket is not forwarded', async () => {
    const { host, asked } = fakeHost('m1', undefined, { 'docker node update --availability drain m1id': '', 'docker node promote w1id': '' });
    await updateNode(contextOf(host), 'm1id', { availability: 'drain' });
    await updateNode(contextOf(host), 'w1id', { role: 'manager' });
    expect(asked).toEqual(['$ docker node update --availability drain m1id', '$ docker node promote w1id']);
  });
});
