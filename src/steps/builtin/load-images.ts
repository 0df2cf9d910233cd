import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { messageOf } from '../../errors.js';
import { changed, defineConvergeStep, ok, type StepRequirementProblem } from '../api.js';
import { loadImages, shortId } from '../images/load.js';
import type { ImageToLoad } from '../images/sources.js';
import { duration, durationMs } from './duration.js';
import { readImageArchive, type ImageArchive } from './image-archive.js';

const options = z.strictObject({
  /** `docker save` archives, relative to the scenario directory. */
  archives: z.array(z.string().min(1)).min(1),
  /** How long one archive may take to load on one node. */
  timeout: duration().default('30m'),
});
type Options = z.output<typeof options>;


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
    // The same loading as the scenario's `images:` list, for this host: named by the images' tags.
    const images: ImageToLoad[] = archives.map((archive) => ({
      entry: archive.images.map((i) => i.tags[0] ?? shortId(i.id)).join(', '),
      images: archive.images,
      bytes: archive.bytes,
      from: { archive: archive.path },
    }));
    const [load] = await loadImages([host], images, {
      // Only an image saved from an engine goes there; archives are read where they are.
      tmpDir: join(ctx.scenario.dir, '.swarm-molecule-tmp'),
      signal: ctx.signal,
      timeoutMs: durationMs(ctx.options.timeout),
      progress: { line: (line) => ctx.log(line) },
    });
    if (!load || load.status === 'failed') throw load?.cause instanceof Error ? load.cause : new Error(load?.message ?? `loading images on ${host.name} failed`);
    return load.status === 'changed' ? changed(...load.changes) : ok(load.message ?? '');
  },
});
