import { createReadStream, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { messageOf } from '../../errors.js';
import { changed, defineConvergeStep, ok, type StepRequirementProblem } from '../api.js';
import { duration, durationMs } from './duration.js';
import { readImageArchive, type ImageArchive } from './image-archive.js';

const options = z.strictObject({
  /** `docker save` archives, relative to the scenario directory. */
  archives: z.array(z.string().min(1)).min(1),
  /** How long one archive may take to load on one node. */
  timeout: duration().default('30m'),
});
type Options = z.output<typeof options>;

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

export default defineConvergeStep<Options>({
  name: 'swarm/images',
  description:
    'Load images from `docker save` archives in the project onto every node that lacks them (by image ID), streamed from the file to each node over its SSH connection, nodes in parallel; ok on a node that already has every image with its tags. A missing or unreadable archive is a syntax error.',
  options,
  hosts: 'all',
  // Each node's own images: nothing to wait for but the node's earlier steps.
  graph: {},
  requirements(scenario, o) {
    const problems: StepRequirementProblem[] = [];
    o.archives.forEach((archive, i) => {
      const path = resolve(scenario.dir, archive);
      if (!existsSync(path)) {
        problems.push({ path: ['with', 'archives', i], message: `The image archive ${archive} does not exist (looked for ${path}).`, hint: 'Write it with "docker save -o FILE IMAGE…" (paths are relative to the scenario directory).' });
        return;
      }
      try {
        readImageArchive(path);
      } catch (error) {
        problems.push({ path: ['with', 'archives', i], message: `The image archive ${archive} cannot be read: ${messageOf(error)}.`, hint: 'Write it with "docker save -o FILE IMAGE…".' });
      }
    });
    return problems;
  },
  async apply(ctx, host) {
    const archives: ImageArchive[] = await ctx.shared('archives', () => Promise.resolve(ctx.options.archives.map((a) => readImageArchive(resolve(ctx.scenario.dir, a)))));
    const changes: string[] = [];
    for (const archive of archives) {
      const missing: string[] = [];
      const untagged: { id: string; tag: string }[] = [];
      for (const image of archive.images) {
        const inspect = await host.run(['docker', 'image', 'inspect', '--format', '{{json .RepoTags}}', image.id], { readOnly: true });
        if (inspect.exitCode !== 0) {
          missing.push(image.id);
          continue;
        }
        const present = (JSON.parse(inspect.stdout || '[]') ?? []) as string[];
        for (const tag of image.tags) if (!present.includes(tag)) untagged.push({ id: image.id, tag });
      }
      const names = archive.images.map((i) => i.tags[0] ?? shortId(i.id)).join(', ');
      if (missing.length > 0) {
        ctx.log(`loading ${names} (${mb(archive.bytes)}) from ${archive.path}`);
        const started = performance.now();
        await host.check(['docker', 'load', '--quiet'], { stdin: createReadStream(archive.path, { highWaterMark: 256 * 1024 }), timeoutMs: durationMs(ctx.options.timeout), signal: ctx.signal });
        const seconds = (performance.now() - started) / 1000;
        changes.push(`image ${names}: (none) → loaded ${missing.map(shortId).join(', ')} (${mb(archive.bytes)} in ${seconds.toFixed(1)} s, ${(archive.bytes / 1e6 / seconds).toFixed(1)} MB/s)`);
        continue;
      }
      // The image is there under other names: tag it rather than send it again.
      for (const { id, tag } of untagged) {
        await host.docker(['tag', id, tag]);
        changes.push(`image ${tag}: (untagged) → ${shortId(id)}`);
      }
    }
    if (changes.length === 0) return ok(`${archives.flatMap((a) => a.images).length} image(s) present`);
    return changed(...changes);
  },
});
