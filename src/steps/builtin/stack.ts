import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { changed, defineConvergeStep, ok } from '../api.js';
import { ensureTestImages, TEST_IMAGES, type TestImageTag } from './images.js';
import { stackChanges, stackNetworks, stackServices, summariseCompose } from './stack-specs.js';

const options = z.strictObject({
  /** The stack's name (`docker stack deploy NAME`); its services are named `NAME_service`. */
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'A stack name: letters, digits, "_", "." and "-", starting with a letter or digit.'),
  /** The compose file, relative to the scenario directory. */
  compose: z.string().min(1),
  /** Variables substituted in the compose file (`${NAME}`), as `docker stack deploy` does from its environment. */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'A variable name: letters, digits and "_".'), z.string()).default({}),
  /** Remove the stack's services that the compose file no longer declares (`--prune`). */
  prune: z.boolean().default(true),
});
type Options = z.output<typeof options>;

const composePath = (dir: string, o: Options): string => resolve(dir, o.compose);

export default defineConvergeStep<Options>({
  name: 'swarm/stack',
  description:
    'Deploy a compose file as a stack (`docker stack deploy`, no registry auth, images not resolved against a registry), with `env` substituted; ok when every service of the stack kept its spec, changed naming each service and network created, updated (with what changed) or removed.',
  options,
  hosts: 'swarm-leader',
  requirements(scenario, o) {
    const path = composePath(scenario.dir, o);
    if (!existsSync(path)) return [{ path: ['with', 'compose'], message: `The compose file ${o.compose} does not exist (looked for ${path}).` }];
    const summary = summariseCompose(readFileSync(path, 'utf8'), o.env);
    return summary.problems.map((p) => ({ path: ['with', 'compose'], message: `The compose file ${o.compose} cannot be deployed from the harness: ${p.message}.` }));
  },
  async apply(ctx, host) {
    const o = ctx.options;
    const text = readFileSync(composePath(ctx.scenario.dir, o), 'utf8');
    const summary = summariseCompose(text, o.env);
    // The harness's own test images (built from busybox) go onto every node that lacks them.
    const images = new Set(summary.services.map((s) => s.image));
    const tags = (Object.entries(TEST_IMAGES) as [TestImageTag, string][]).filter(([, ref]) => images.has(ref)).map(([tag]) => tag);
    if (tags.length > 0) {
      const loaded = await ensureTestImages(ctx, tags);
      if (loaded.length > 0) ctx.log(`loaded ${loaded.join(', ')}`);
    }

    const before = await stackServices(host, o.name);
    const networksBefore = await stackNetworks(host, o.name);
    const variables = Object.entries(o.env).map(([key, value]) => `${key}=${value}`);
    // The compose file goes on stdin: nothing is written on the node.
    await host.check(
      ['env', ...variables, 'docker', 'stack', 'deploy', '--resolve-image', 'never', ...(o.prune ? ['--prune'] : []), '--compose-file', '-', o.name],
      { stdin: text, timeoutMs: 180_000, signal: ctx.signal },
    );
    const after = await stackServices(host, o.name);
    const changes = stackChanges(before, after, { before: networksBefore, after: await stackNetworks(host, o.name) });
    if (changes.length === 0) return ok(`stack ${o.name}: ${after.size} service(s) as deployed`);
    return changed(...changes);
  },
});
