import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import pMap from 'p-map';
import { messageOf } from '../../errors.js';
import type { Host } from '../api.js';
import { readImageArchive } from '../builtin/image-archive.js';
import { LoadProgress, type ProgressView } from './progress.js';
import type { ImageToLoad } from './sources.js';

export interface LoadOptions {
  /** Where an image from the engine is saved once for every node that lacks it (under the run's directory); removed after. */
  tmpDir: string;
  signal: AbortSignal;
  /** How long one archive may take to load on one node. */
  timeoutMs: number;
  progress: ProgressView;
}

/** What loading did on one node. */
export interface NodeLoad {
  host: string;
  status: 'ok' | 'changed' | 'failed';
  changes: string[];
  message?: string;
  /** What failed the node, as thrown (its class says whose fault it is). */
  cause?: unknown;
  durationMs: number;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
export const shortId = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

/** What a node lacks of one entry: image IDs it has not at all, and tags missing on IDs it has. */
interface Lack {
  missing: string[];
  untagged: { id: string; tag: string }[];
}

async function lackOf(host: Host, image: ImageToLoad): Promise<Lack> {
  const lack: Lack = { missing: [], untagged: [] };
  for (const { id, tags } of image.images) {
    const inspect = await host.run(['docker', 'image', 'inspect', '--format', '{{json .RepoTags}}', id], { readOnly: true });
    if (inspect.exitCode !== 0) {
      if (!/No such (image|object)/i.test(inspect.stderr)) throw new Error(`docker image inspect ${shortId(id)}: ${inspect.stderr.trim()}`);
      lack.missing.push(id);
      continue;
    }
    const present = (JSON.parse(inspect.stdout || '[]') ?? []) as string[];
    for (const tag of tags) if (!present.includes(tag)) lack.untagged.push({ id, tag });
  }
  return lack;
}

/** Counts what passes through, for the progress line. */
const counter = (onBytes: (n: number) => void) =>
  new Transform({
    transform(chunk: Buffer, _encoding, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });

/**
 * The archive of an entry, as a file: the project's own, or the image saved
 * once from the engine to a file of the run (checked to hold the ID that was
 * looked up). `release` removes a saved file.
 */
async function archiveOf(image: ImageToLoad, options: LoadOptions): Promise<{ path: string; bytes: number; release: () => Promise<void> }> {
  if ('archive' in image.from) return { path: image.from.archive, bytes: readImageArchive(image.from.archive).bytes, release: () => Promise.resolve() };
  await mkdir(options.tmpDir, { recursive: true, mode: 0o700 });
  const path = join(options.tmpDir, `image-${shortId(image.images[0]?.id ?? '')}-${randomBytes(3).toString('hex')}.tar`);
  const release = async () => {
    await rm(path, { force: true });
    await rmdir(options.tmpDir).catch(() => undefined);
  };
  try {
    await image.from.engine.save(image.from.reference, path, options.signal);
    const saved = readImageArchive(path);
    const want = image.images.map((i) => i.id);
    if (!want.every((id) => saved.images.some((s) => s.id === id))) {
      throw new Error(`${image.entry} changed in the Docker engine at ${image.from.engine.address} while it was saved (now ${saved.images.map((s) => shortId(s.id)).join(', ')}, was ${want.map(shortId).join(', ')})`);
    }
    return { path, bytes: saved.bytes, release };
  } catch (error) {
    await release();
    throw error;
  }
}

/**
 * Put every image on every host that lacks its exact image ID (`docker load`,
 * the archive streamed over the host's SSH connection, read only as fast as the
 * slowest node takes it), hosts in parallel; a host that has the ID but not a
 * tag gets `docker tag`; a host that has everything is `ok`. An image from the
 * engine is saved once, to a file under `tmpDir`, only when some host lacks it.
 */
export async function loadImages(hosts: readonly Host[], images: readonly ImageToLoad[], options: LoadOptions): Promise<NodeLoad[]> {
  const started = performance.now();
  const outcome = new Map<string, NodeLoad>(hosts.map((h) => [h.name, { host: h.name, status: 'ok', changes: [], durationMs: 0 }]));
  const fail = (host: string, error: unknown) => {
    const entry = outcome.get(host);
    if (entry && entry.status !== 'failed') Object.assign(entry, { status: 'failed', message: messageOf(error), cause: error });
  };
  const lacks = new Map<string, Lack[]>();
  await pMap(hosts, async (host) => {
    try {
      const list: Lack[] = [];
      for (const image of images) list.push(await lackOf(host, image));
      lacks.set(host.name, list);
    } catch (error) {
      fail(host.name, error);
    }
  });

  for (const [i, image] of images.entries()) {
    const needing = hosts.filter((h) => outcome.get(h.name)?.status !== 'failed' && (lacks.get(h.name)?.[i]?.missing.length ?? 0) > 0);
    if (needing.length > 0) {
      let archive: Awaited<ReturnType<typeof archiveOf>>;
      try {
        archive = await archiveOf(image, options);
      } catch (error) {
        if (options.signal.aborted) throw error;
        for (const host of needing) fail(host.name, error);
        continue;
      }
      try {
        const progress = new LoadProgress(image.entry, archive.bytes, needing.map((h) => h.name), options.progress);
        await pMap(needing, async (host) => {
          const from = performance.now();
          try {
            const stdin = createReadStream(archive.path, { highWaterMark: 256 * 1024 }).pipe(counter((n) => progress.advance(host.name, n)));
            await host.check(['docker', 'load', '--quiet'], { stdin, timeoutMs: options.timeoutMs, signal: options.signal });
            const seconds = (performance.now() - from) / 1000;
            const rate = `${mb(archive.bytes)} in ${seconds.toFixed(1)} s, ${(archive.bytes / 1e6 / seconds).toFixed(1)} MB/s`;
            progress.done(host.name, `loaded (${rate})`);
            const ids = lacks.get(host.name)?.[i]?.missing.map(shortId).join(', ') ?? '';
            outcome.get(host.name)?.changes.push(`image ${image.entry}: (none) → loaded ${ids} (${rate})`);
          } catch (error) {
            if (options.signal.aborted) throw error;
            fail(host.name, error);
          }
        });
      } finally {
        await archive.release();
      }
    }
    // The image is there under other names: tag it rather than send it again.
    await pMap(hosts, async (host) => {
      const lack = lacks.get(host.name)?.[i];
      if (!lack || lack.missing.length > 0 || outcome.get(host.name)?.status === 'failed') return;
      try {
        for (const { id, tag } of lack.untagged) {
          await host.docker(['tag', id, tag]);
          outcome.get(host.name)?.changes.push(`image ${tag}: (untagged) → ${shortId(id)}`);
        }
      } catch (error) {
        fail(host.name, error);
      }
    });
  }

  const count = images.reduce((n, image) => n + image.images.length, 0);
  return hosts.map((host) => {
    const result = outcome.get(host.name) as NodeLoad;
    result.durationMs = performance.now() - started;
    if (result.status === 'failed') return { ...result, changes: [] };
    if (result.changes.length > 0) return { ...result, status: 'changed' };
    return { ...result, message: `${count} image(s) present` };
  });
}
