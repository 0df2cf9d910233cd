import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { CheckFailed } from '../../errors.js';
import type { Host, StepContext } from '../api.js';
import type Docker from 'dockerode';
import { engineMessage } from '../../transport/index.js';
import { engineOrCli, engineOrCliWrite, parseAnswer } from './engine.js';

/** The part of `docker info` (`GET /info`) that says where a node stands in a swarm. */
const swarmInfoSchema = z.looseObject({
  NodeID: z.string(),
  NodeAddr: z.string().optional(),
  LocalNodeState: z.enum(['inactive', 'pending', 'active', 'error', 'locked']),
  ControlAvailable: z.boolean(),
  Error: z.string(),
  Cluster: z.looseObject({ ID: z.string() }).nullish(),
});
export type SwarmInfo = z.output<typeof swarmInfoSchema>;

/** The host's swarm state: a read shared by the steps of an action, or with `fresh` asked again. */
export async function swarmInfo(host: Host, options: { fresh?: boolean } = {}): Promise<SwarmInfo> {
  const argv = ['docker', 'info', '--format', '{{json .Swarm}}'];
  const { Swarm } = await engineOrCli(host, {
    engine: { label: 'GET /info', call: (docker) => docker.info() },
    cli: async () => ({ Swarm: JSON.parse(await (options.fresh ? host.check(argv, { readOnly: true }) : host.read(argv))) as unknown }),
    schema: z.looseObject({ Swarm: swarmInfoSchema }),
    read: !options.fresh,
  });
  return Swarm;
}

/** How long a node may stay `pending` or `error` before a step gives up on it: a restart backs off up to 30 s, twice. */
const SETTLED_WITHIN_MS = 60_000;

/** What each passing state means, in the words of the wait's log line. */
const ON_ITS_WAY = {
  pending: 'a join, a promotion or a restart on its way',
  // dockerd restarts a swarm node that stopped after being ready (after a promotion, a lost
  // quorum) after a delay that doubles up to 30 s, and says "error" meanwhile; a join that
  // failed stays "error" with its reason.
  error: 'its dockerd restarts a swarm node that stopped, after up to 30 s',
} as const;

/**
 * A node dockerd has restarted: once it restarts a swarm node that had stopped,
 * `docker info` says "error" for as long as dockerd runs (moby's node runner
 * forgets its reconnect timer only on a stop), though the node runs (it has a
 * node ID), is a member as before and no error is set. Such a node is taken as
 * `active` with the role it reports; Swarm's own `ControlAvailable` tells a
 * manager.
 */
function restartedMember(info: SwarmInfo): boolean {
  return info.LocalNodeState === 'error' && info.Error === '' && info.NodeID !== '';
}

const onItsWay = (info: SwarmInfo): info is SwarmInfo & { LocalNodeState: 'pending' | 'error' } =>
  info.LocalNodeState === 'pending' || (info.LocalNodeState === 'error' && !restartedMember(info));

/**
 * The host's swarm state once it is `inactive` or `active`: what the
 * membership steps act on. A node that is `pending` (a join or a promotion in
 * progress, its dockerd reconnecting after a restart) or `error` (dockerd
 * waiting to restart its swarm node) is on its way: a join would be refused
 * with "already part of a swarm", so the state is asked again until it
 * settles. One that stays so, or is `locked`, needs a person: the error says
 * Swarm's words and the way out. A restarted member is `active` (see
 * `restartedMember`).
 */
export async function settledSwarmInfo(ctx: StepContext<unknown>, host: Host, withinMs = SETTLED_WITHIN_MS): Promise<SwarmInfo & { LocalNodeState: 'inactive' | 'active' }> {
  let info = await swarmInfo(host);
  const said = () => (info.Error ? ` (${info.Error})` : '');
  if (onItsWay(info)) {
    ctx.log(`${host.name} is "${info.LocalNodeState}" in a swarm${said()}, ${ON_ITS_WAY[info.LocalNodeState]}: waiting up to ${withinMs / 1000} s for it to settle`);
    const started = performance.now();
    for (const deadline = Date.now() + withinMs; onItsWay(info) && Date.now() < deadline; ) {
      await sleep(500, undefined, { signal: ctx.signal });
      info = await swarmInfo(host, { fresh: true });
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    ctx.log(onItsWay(info) ? `${host.name} is still "${info.LocalNodeState}" after ${seconds} s` : `${host.name} settled as "${info.LocalNodeState}" after ${seconds} s`);
  }
  if (restartedMember(info)) {
    ctx.log(`${host.name} runs as node ${info.NodeID} of its swarm; Docker says "error" with no error since it restarted the node's swarm component: taken as active`);
    return { ...info, LocalNodeState: 'active' };
  }
  switch (info.LocalNodeState) {
    case 'inactive':
    case 'active':
      return { ...info, LocalNodeState: info.LocalNodeState };
    case 'pending':
      throw new CheckFailed(`${host.name} is still on its way into a swarm (state "pending" for ${withinMs / 1000} s)${said()}: it may not reach the swarm's managers. Recreating the node starts it afresh.`);
    case 'error':
      throw new CheckFailed(`${host.name} is in a swarm in state "error" for ${withinMs / 1000} s${said()}: "docker swarm leave --force" on it, or recreating the node, starts it afresh.`);
    case 'locked':
      throw new CheckFailed(`${host.name} is in a locked swarm${said()}: unlock it with "docker swarm unlock" and the swarm's unlock key, or recreate the node.`);
  }
}

/** The `gather` of the swarm steps: every host's swarm state, read once up front. */
export async function gatherSwarmInfo(_ctx: StepContext<unknown>, hosts: readonly Host[]): Promise<unknown> {
  return Promise.all(hosts.map((host) => swarmInfo(host)));
}

/** `inactive`, `worker` or `manager`: the words used in change lines. */
export function roleOf(info: SwarmInfo): string {
  if (info.LocalNodeState !== 'active') return info.LocalNodeState;
  return info.ControlAvailable ? 'manager' : 'worker';
}

/** The swarm's cluster ID as the leader host sees it. */
export function clusterIdOf(info: SwarmInfo): string | undefined {
  return info.Cluster?.ID || undefined;
}

/**
 * Join `host` to the leader's swarm with the token for `role`. The token is
 * read once per step run, registered as a secret and never logged.
 */
export async function joinSwarm(ctx: StepContext<unknown>, host: Host, role: 'manager' | 'worker'): Promise<void> {
  const leader = ctx.leader();
  const token = await ctx.shared(`${role}-token`, () => joinToken(leader, role));
  // Through the Engine API, not `docker swarm join --token`: an argument is in every
  // process list of the machine (netns nodes share the host's /proc).
  const response = await host.dockerApi({
    method: 'POST',
    path: '/swarm/join',
    body: { ListenAddr: `${host.address}:2377`, AdvertiseAddr: host.address, RemoteAddrs: [`${leader.address}:2377`], JoinToken: token },
    secrets: [token],
    timeoutMs: 90_000,
  });
  if (response.status !== 200) {
    const message = (() => {
      try {
        const { message: said } = JSON.parse(response.body) as { message?: unknown };
        return typeof said === 'string' ? said : response.body;
      } catch {
        return response.body;
      }
    })();
    throw new CheckFailed(`Joining ${host.name} to the swarm as a ${role} failed (Docker API status ${response.status}): ${message.trim() || '(no message)'}`);
  }
}

/** The token that joins a node as `role`, from a manager; masked before any answer reaches the node log or -v. */
async function joinToken(manager: Host, role: 'manager' | 'worker'): Promise<string> {
  const { JoinTokens } = await engineOrCli(manager, {
    engine: { label: 'GET /swarm', call: (docker) => docker.swarmInspect() },
    cli: async () => {
      const token = await manager.docker(['swarm', 'join-token', '--quiet', role], { secret: true });
      return { JoinTokens: { [role === 'manager' ? 'Manager' : 'Worker']: token } };
    },
    schema: z.looseObject({ JoinTokens: z.looseObject({ Worker: z.string().min(1).optional(), Manager: z.string().min(1).optional() }) }),
  });
  const token = role === 'manager' ? JoinTokens.Manager : JoinTokens.Worker;
  if (token === undefined) throw new CheckFailed(`${manager.name} gave no ${role} join token (is it a manager of the swarm?).`);
  return token;
}

/** Fail unless `host` is in the same swarm as the leader. */
export async function assertSameCluster(ctx: StepContext<unknown>, host: Host, info: SwarmInfo): Promise<void> {
  const cluster = clusterIdOf(info);
  // Workers do not see the cluster ID: nothing to compare, so do not ask the leader.
  if (!cluster) return;
  const leaderCluster = await ctx.shared('leader-cluster', async () => clusterIdOf(await swarmInfo(ctx.leader())));
  if (leaderCluster && cluster !== leaderCluster) {
    throw new Error(`${host.name} is in another swarm (cluster ${cluster}, the leader's is ${leaderCluster}). Run "docker swarm leave --force" on it, or recreate the node.`);
  }
}

/** A swarm node as `GET /nodes` and `docker node inspect` give it: the parts its spec steps read. */
const nodeSpecSchema = z.looseObject({
  ID: z.string(),
  // A node that has just joined has no description until its first heartbeat reaches the managers.
  Description: z.looseObject({ Hostname: z.string().optional() }).optional(),
  Spec: z.looseObject({ Availability: z.string(), Role: z.string(), Labels: z.record(z.string(), z.string()).nullish() }),
});

/** A swarm node with its version and status: what `docker node ls` shows and an update needs. */
export const swarmNodeSchema = nodeSpecSchema.extend({
  Version: z.looseObject({ Index: z.number().int() }),
  Description: z.looseObject({ Hostname: z.string().optional(), Engine: z.looseObject({ EngineVersion: z.string().optional() }).optional() }).optional(),
  Status: z.looseObject({ State: z.string() }),
  ManagerStatus: z.looseObject({ Leader: z.boolean().optional(), Reachability: z.string().optional() }).nullish(),
});
export type SwarmNode = z.output<typeof swarmNodeSchema>;

export interface NodeSpec {
  id: string;
  availability: string;
  role: string;
  labels: Record<string, string>;
}

/**
 * Every node's spec by hostname, read from the leader once, shared by every
 * host and step until something changes (one read per host would be n
 * requests). Also the `gather` of the steps that use it.
 */
export async function nodeSpecs(ctx: StepContext<unknown>, options: { fresh?: boolean } = {}): Promise<Map<string, NodeSpec>> {
  const leader = ctx.leader();
  const read = (argv: readonly string[]) => (options.fresh ? leader.check(argv, { readOnly: true }) : leader.read(argv));
  const nodes = await engineOrCli(leader, {
    engine: { label: 'GET /nodes', call: (docker) => docker.listNodes() },
    cli: async () => {
      const ids = (await read(['docker', 'node', 'ls', '--format', '{{.ID}}'])).split('\n').filter(Boolean);
      return JSON.parse(await read(['docker', 'node', 'inspect', ...ids])) as unknown;
    },
    schema: z.array(nodeSpecSchema),
    read: !options.fresh,
  });
  return new Map(
    nodes.flatMap((n) => {
      const hostname = n.Description?.Hostname;
      return hostname ? [[hostname, { id: n.ID, availability: n.Spec.Availability, role: n.Spec.Role, labels: n.Spec.Labels ?? {} }] as const] : [];
    }),
  );
}

/** How long a node that has just joined may take to be listed with its hostname (its first heartbeat). */
const DESCRIBED_WITHIN_MS = 15_000;

/** What a node update changes; the CLI arguments of `docker node update` for the same. */
export interface NodeChange {
  availability?: 'active' | 'pause' | 'drain';
  role?: 'manager' | 'worker';
  addLabels?: Readonly<Record<string, string>>;
}

/**
 * Update a node's spec through the leader as `docker node update` does — read
 * the node, send its spec back changed with the version read — or with
 * `docker node update` where the leader's socket is not forwarded. Swarm bumps
 * a node's version when its status changes (a node that has just joined does):
 * an update "out of sequence" reads the node again, a few times at most.
 */
export async function updateNode(ctx: StepContext<unknown>, id: string, change: NodeChange): Promise<void> {
  const changed = (spec: SwarmNode['Spec']) => ({
    ...spec,
    ...(change.availability ? { Availability: change.availability } : {}),
    ...(change.role ? { Role: change.role } : {}),
    ...(change.addLabels ? { Labels: { ...(spec.Labels ?? {}), ...change.addLabels } } : {}),
  });
  // What the steps ran before the Engine API: `node promote`/`demote` for a role, `node update` for the rest.
  const cli =
    change.role && !change.availability && !change.addLabels
      ? ['node', change.role === 'manager' ? 'promote' : 'demote', id]
      : [
          'node',
          'update',
          ...(change.availability ? ['--availability', change.availability] : []),
          ...(change.role ? ['--role', change.role] : []),
          ...Object.entries(change.addLabels ?? {}).flatMap(([key, value]) => ['--label-add', `${key}=${value}`]),
          id,
        ];
  const leader = ctx.leader();
  const update = async (docker: Docker) => {
    const node = docker.getNode(id);
    for (let attempt = 1; ; attempt++) {
      const current = parseAnswer(swarmNodeSchema, await node.inspect(), leader, `"GET /nodes/${id}"`);
      try {
        return (await node.update({ _query: { version: current.Version.Index }, _body: changed(current.Spec) })) as unknown;
      } catch (error) {
        if (attempt >= 3 || !/out of sequence/i.test(engineMessage(error))) throw error;
      }
    }
  };
  await engineOrCliWrite(leader, { label: `POST /nodes/${id}/update`, call: update }, cli);
}

/** The host's node as the leader sees it. */
export async function nodeSpecOf(ctx: StepContext<unknown>, host: Host): Promise<NodeSpec> {
  let spec = (await nodeSpecs(ctx)).get(host.name);
  // A node that joined a moment ago (the converge graph runs its next step at once) is listed
  // without a hostname until its first heartbeat: asked again, not taken for a node outside the swarm.
  for (const deadline = Date.now() + DESCRIBED_WITHIN_MS; !spec && Date.now() < deadline; ) {
    await sleep(250, undefined, { signal: ctx.signal });
    spec = (await nodeSpecs(ctx, { fresh: true })).get(host.name);
  }
  if (!spec) throw new Error(`${host.name} is not in the swarm (the leader does not list it). Run swarm/join-managers or swarm/join-workers first.`);
  return spec;
}

/**
 * Run membership changes one at a time (raft safety) while the reads before
 * them run in parallel: a lock shared by the hosts of one step run.
 */
export async function oneAtATime<T>(ctx: StepContext<unknown>, change: () => Promise<T>): Promise<T> {
  const lock = await ctx.shared('membership-lock', async (): Promise<{ tail: Promise<unknown> }> => ({ tail: Promise.resolve() }));
  const run = lock.tail.then(change, change);
  lock.tail = run.catch(() => undefined);
  return run;
}
