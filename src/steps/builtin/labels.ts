import { changed, defineConvergeStep, ok } from '../api.js';
import { nodeSpecOf, nodeSpecs, updateNode } from './swarm-info.js';

export default defineConvergeStep({
  name: 'swarm/labels',
  description: 'Add the node labels each platform declares (labels it does not declare are left alone).',
  hosts: 'all',
  // As soon as the node is in the swarm.
  graph: { needs: ['swarm', 'member'] },
  gather: (ctx) => nodeSpecs(ctx),
  async apply(ctx, host) {
    const wanted = Object.entries(host.labels);
    if (wanted.length === 0) return ok('no labels declared');
    const spec = await nodeSpecOf(ctx, host);
    const missing = wanted.filter(([key, value]) => spec.labels[key] !== value);
    if (missing.length === 0) return ok('labels in place');
    await updateNode(ctx, spec.id, { addLabels: Object.fromEntries(missing) });
    return changed(...missing.map(([key, value]) => `label ${key}: ${spec.labels[key] ?? '(none)'} → ${value}`));
  },
});
