import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { messageOf } from '../../errors.js';
import { readImageArchive, type ArchivedImage } from '../builtin/image-archive.js';
import { EngineUnreachable, localEngine, type LocalEngine } from './engine.js';

/** An entry of a scenario's `images:` list or of `images load`: a `docker save` archive (`….tar`) or an image reference. */
export type ImageEntry = { kind: 'archive'; entry: string } | { kind: 'reference'; entry: string; reference: string };

/** `….tar` names a `docker save` archive in the project; anything else is an image in the machine's engine. */
export const isArchiveEntry = (entry: string): boolean => entry.endsWith('.tar');

/** A reference without a tag or digest means `:latest`, as `docker save` would otherwise save every tag of the repository. */
export function withTag(reference: string): string {
  if (/^sha256:[0-9a-f]{64}$/.test(reference) || reference.includes('@')) return reference;
  const lastPart = reference.slice(reference.lastIndexOf('/') + 1);
  return lastPart.includes(':') ? reference : `${reference}:latest`;
}

export function parseImageEntry(entry: string): ImageEntry {
  return isArchiveEntry(entry) ? { kind: 'archive', entry } : { kind: 'reference', entry, reference: withTag(entry) };
}

/** An image the nodes must have, and where its archive comes from. */
export interface ImageToLoad {
  /** As written in the list. */
  entry: string;
  /** What the archive holds: each image's ID and the tags it must carry on the nodes. */
  images: ArchivedImage[];
  /** The archive's size (for an engine image, the engine's figure until it is saved). */
  bytes: number;
  /** A `docker save` archive in the project, or the engine to save the image from. */
  from: { archive: string } | { engine: LocalEngine; reference: string };
}

/** Why an entry cannot be loaded: it names the image and where it was looked for. */
export interface ImageProblem {
  index: number;
  message: string;
  hint: string;
}

/**
 * Find every entry: archives relative to `dir` (read for their image IDs, the
 * layers never read), references in the machine's Docker engine. Every entry
 * that is missing is a problem, all of them in one round.
 */
export async function findImages(entries: readonly string[], dir: string): Promise<{ found: ImageToLoad[]; problems: ImageProblem[] }> {
  const found: ImageToLoad[] = [];
  const problems: ImageProblem[] = [];
  let engine: LocalEngine | undefined;
  let unreachable: string | undefined;
  for (const [index, raw] of entries.entries()) {
    const entry = parseImageEntry(raw);
    if (entry.kind === 'archive') {
      const path = resolve(dir, entry.entry);
      if (!existsSync(path)) {
        problems.push({ index, message: `The image archive ${entry.entry} does not exist (looked for ${path}).`, hint: 'Write it with "docker save -o FILE IMAGE…" (paths are relative to the scenario directory), or name the image itself to take it from your Docker engine.' });
        continue;
      }
      try {
        const archive = readImageArchive(path);
        found.push({ entry: entry.entry, images: archive.images, bytes: archive.bytes, from: { archive: path } });
      } catch (error) {
        problems.push({ index, message: `The image archive ${entry.entry} cannot be read: ${messageOf(error)}.`, hint: 'Write it with "docker save -o FILE IMAGE…".' });
      }
      continue;
    }
    if (!engine && unreachable === undefined) {
      try {
        engine = await localEngine();
      } catch (error) {
        if (!(error instanceof EngineUnreachable)) throw error;
        unreachable = error.message;
      }
    }
    if (!engine) {
      problems.push({ index, message: `Image ${entry.entry} cannot be looked for: ${unreachable ?? ''}.`, hint: 'Start the Docker engine that has it, or point DOCKER_HOST at it; or "docker save" it to a .tar in the project and name that.' });
      continue;
    }
    let image;
    try {
      image = await engine.inspect(entry.reference);
    } catch (error) {
      problems.push({ index, message: `Image ${entry.entry} cannot be looked for in the Docker engine at ${engine.address}: ${messageOf(error)}.`, hint: 'Check that the engine answers ("docker info").' });
      continue;
    }
    if (!image) {
      problems.push({ index, message: `Image ${entry.entry} is not in the Docker engine at ${engine.address}.`, hint: `Build or pull it there first ("docker build -t ${entry.entry} ." or "docker pull ${entry.entry}"), point DOCKER_HOST at the engine that has it, or name a "docker save" archive (.tar) in the project.` });
      continue;
    }
    const tags = entry.reference.startsWith('sha256:') || entry.reference.includes('@') ? [] : [entry.reference];
    found.push({ entry: entry.entry, images: [{ id: image.id, tags }], bytes: image.bytes, from: { engine, reference: entry.reference } });
  }
  return { found, problems };
}
