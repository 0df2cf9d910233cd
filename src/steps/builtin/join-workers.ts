import { changed, defineConvergeStep, ok } from '../api.js';
import { assertSameCluster, gatherSwarmInfo, joinSwarm, nodeSpecOf, roleOf, settledSwarmInfo, updateNode } from './swarm-info.js';

export default defineConvergeStep({
  name: 'swarm/join-workers',
  description: 'Join every swarm-worker host to the swarm as a worker; demote one that is a manager.',
  hosts: 'swarm-worker',
  // A worker needs only the leader's token: it joins beside the managers' joins.
  graph: { needs: ['swarm'], provides: ['member'] },
  gather: gatherSwarmInfo,
  async apply(ctx, host) {
    const info = await settledSwarmInfo(ctx, host);
    if (info.LocalNodeState === 'active') {
      await assertSameCluster(ctx, host, info);
      if (!info.ControlAvailable) return ok('already a worker');
      const spec = await nodeSpecOf(ctx, host);
      await updateNode(ctx, spec.id, { role: 'worker' });
      return changed('role: manager → worker');
    }
    await joinSwarm(ctx, host, 'worker');
    return changed(`swarm: ${roleOf(info)} → worker`);
  },
});
