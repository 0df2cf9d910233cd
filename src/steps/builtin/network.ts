import { z } from 'zod';
import { CheckFailed } from '../../errors.js';
import { changed, defineConvergeStep, ok } from '../api.js';

const options = z.strictObject({
  /** The network's name; a stack refers to it as `external: true`. */
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'A network name: letters, digits, "_", "." and "-", starting with a letter or digit.'),
  /** `overlay` spans the swarm's nodes. */
  driver: z.enum(['overlay']).default('overlay'),
  /** Standalone containers and probe tasks may join it (`--attachable`). */
  attachable: z.boolean().default(true),
  /** No traffic leaves it (`--internal`). */
  internal: z.boolean().default(false),
  /** Labels of the network. */
  labels: z.record(z.string().min(1), z.string()).default({}),
});
type Options = z.output<typeof options>;

interface NetworkFacts {
  Driver: string;
  Attachable: boolean;
  Internal: boolean;
  Labels: Record<string, string> | null;
}

export default defineConvergeStep<Options>({
  name: 'swarm/network',
  description:
    'Create an overlay network (attachable by default) that stacks use as external; ok when it exists as declared; one that exists with another driver or other flags is refused, never removed and remade (services may be attached to it).',
  options,
  hosts: 'swarm-leader',
  graph: { needs: ['swarm'] },
  async apply(ctx, host) {
    const o = ctx.options;
    const existing = await host.run(['docker', 'network', 'inspect', '--format', '{{json .}}', o.name], { readOnly: true });
    const labelArgs = Object.entries(o.labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]);
    if (existing.exitCode !== 0) {
      await host.docker(['network', 'create', '--driver', o.driver, ...(o.attachable ? ['--attachable'] : []), ...(o.internal ? ['--internal'] : []), ...labelArgs, o.name]);
      return changed(`network ${o.name}: (none) → ${o.driver}${o.attachable ? ', attachable' : ''}${o.internal ? ', internal' : ''}`);
    }
    const facts = JSON.parse(existing.stdout) as NetworkFacts;
    const differences = [
      facts.Driver !== o.driver ? `driver ${facts.Driver} (wanted ${o.driver})` : '',
      facts.Attachable !== o.attachable ? `attachable ${facts.Attachable} (wanted ${o.attachable})` : '',
      facts.Internal !== o.internal ? `internal ${facts.Internal} (wanted ${o.internal})` : '',
      ...Object.entries(o.labels)
        .filter(([key, value]) => facts.Labels?.[key] !== value)
        .map(([key, value]) => `label ${key}=${facts.Labels?.[key] ?? '(none)'} (wanted ${value})`),
    ].filter((d) => d !== '');
    if (differences.length === 0) return ok(`network ${o.name} in place`);
    throw new CheckFailed(`The network "${o.name}" exists with ${differences.join(', ')}; a network cannot be changed in place, so it is left as it is.`, {
      hint: 'Give the network another name, or remove it yourself once nothing is attached to it.',
    });
  },
});
