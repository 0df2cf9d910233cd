import { changed, defineConvergeStep, ok } from '../api.js';
import { nodeSpecOf, nodeSpecs, updateNode } from './swarm-info.js';

export default defineConvergeStep({
  name: 'swarm/drain-managers',
  description: 'Set every manager (swarm-leader and swarm-manager hosts) to availability "drain", so services run on workers only.',
  hosts: (ctx) => ctx.managers(),
  // Each manager right after its own join.
  graph: { needs: ['swarm', 'member'] },
  gather: (ctx) => nodeSpecs(ctx),
  async apply(ctx, host) {
    const spec = await nodeSpecOf(ctx, host);
    if (spec.availability === 'drain') return ok('already drained');
    await updateNode(ctx, spec.id, { availability: 'drain' });
    return changed(`availability: ${spec.availability} → drain`);
  },
});
