import { changed, defineConvergeStep, ok } from '../api.js';
import { assertSameCluster, gatherSwarmInfo, joinSwarm, nodeSpecOf, oneAtATime, roleOf, settledSwarmInfo, updateNode } from './swarm-info.js';

export default defineConvergeStep({
  name: 'swarm/join-managers',
  description: 'Join every swarm-manager host to the swarm as a manager (reads in parallel, joins one at a time to keep the raft quorum safe); promote one that is a worker.',
  hosts: 'swarm-manager',
  // Each manager as soon as the leader can hand out a token (the joins stay one at a time).
  graph: { needs: ['swarm'], provides: ['member'] },
  gather: gatherSwarmInfo,
  async apply(ctx, host) {
    if (host.name === ctx.leader().name) return ok('the swarm-leader');
    const info = await settledSwarmInfo(ctx, host);
    if (info.LocalNodeState === 'active') {
      await assertSameCluster(ctx, host, info);
      if (info.ControlAvailable) return ok('already a manager');
      const spec = await nodeSpecOf(ctx, host);
      await oneAtATime(ctx, () => updateNode(ctx, spec.id, { role: 'manager' }));
      return changed('role: worker → manager');
    }
    // Raft membership changes one at a time: concurrent manager joins can lose quorum.
    await oneAtATime(ctx, () => joinSwarm(ctx, host, 'manager'));
    return changed(`swarm: ${roleOf(info)} → manager`);
  },
});
