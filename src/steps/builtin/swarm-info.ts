import { CheckFailed } from '../../errors.js';
import type { Host, StepContext } from '../api.js';

/** The part of `docker info` that says where a node stands in a swarm. */
export interface SwarmInfo {
  NodeID: string;
  NodeAddr: string;
  LocalNodeState: 'inactive' | 'pending' | 'active' | 'error' | 'locked';
  ControlAvailable: boolean;
  Error: string;
  Cluster?: { ID: string } | null;
}

export async function swarmInfo(host: Host): Promise<SwarmInfo> {
  return JSON.parse(await host.read(['docker', 'info', '--format', '{{json .Swarm}}'])) as SwarmInfo;
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
  // Masked before the answer reaches the node log or -v.
  const token = await ctx.shared(`${role}-token`, () => leader.docker(['swarm', 'join-token', '--quiet', role], { secret: true }));
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

export interface NodeSpec {
  id: string;
  availability: string;
  role: string;
  labels: Record<string, string>;
}

/**
 * Every node's spec by hostname, read from the leader in two commands shared
 * by every host and step until something changes (one read per host would be
 * 2n commands). Also the `gather` of the steps that use it.
 */
export async function nodeSpecs(ctx: StepContext<unknown>): Promise<Map<string, NodeSpec>> {
  const leader = ctx.leader();
  const ids = (await leader.read(['docker', 'node', 'ls', '--format', '{{.ID}}'])).split('\n').filter(Boolean);
  const nodes = JSON.parse(await leader.read(['docker', 'node', 'inspect', ...ids])) as {
    ID: string;
    Description: { Hostname: string };
    Spec: { Availability: string; Role: string; Labels?: Record<string, string> | null };
  }[];
  return new Map(nodes.map((n) => [n.Description.Hostname, { id: n.ID, availability: n.Spec.Availability, role: n.Spec.Role, labels: n.Spec.Labels ?? {} }]));
}

/** The host's node as the leader sees it. */
export async function nodeSpecOf(ctx: StepContext<unknown>, host: Host): Promise<NodeSpec> {
  const spec = (await nodeSpecs(ctx)).get(host.name);
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
