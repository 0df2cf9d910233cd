import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { tarHeader, type TarEntry } from '../../src/transport/tar.js';

const BLOCK = 512;

/** Writes a tar archive entry by entry, the data of big files streamed in chunks. */
class TarWriter {
  readonly #out: WriteStream;
  readonly #hash = createHash('sha256');
  constructor(path: string) {
    this.#out = createWriteStream(path);
  }
  async #write(chunk: Buffer): Promise<void> {
    this.#hash.update(chunk);
    if (!this.#out.write(chunk)) await once(this.#out, 'drain');
  }
  async entry(entry: TarEntry, size = 0, chunks: AsyncIterable<Buffer> | Iterable<Buffer> = []): Promise<void> {
    await this.#write(tarHeader(entry, size));
    let written = 0;
    for await (const chunk of chunks) {
      written += chunk.length;
      await this.#write(chunk);
    }
    if (written !== size) throw new Error(`tar: ${entry.path} had ${written} bytes, not ${size}`);
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (padding > 0) await this.#write(Buffer.alloc(padding));
  }
  async file(path: string, content: Buffer | string, mode = 0o644): Promise<void> {
    const data = Buffer.from(content);
    await this.entry({ type: 'file', path, content: data, mode }, data.length, [data]);
  }
  /** End the archive; the SHA-256 of all its bytes. */
  async close(): Promise<string> {
    await this.#write(Buffer.alloc(BLOCK * 2));
    this.#out.end();
    await once(this.#out, 'close');
    return this.#hash.digest('hex');
  }
}

function* random(bytes: number): Generator<Buffer> {
  for (let left = bytes; left > 0; left -= 1 << 20) yield randomBytes(Math.min(left, 1 << 20));
}

/**
 * Write a `docker save` archive (the legacy layout `docker load` reads) of a
 * one-layer image: the machine's static busybox, and `padBytes` of random data
 * in /pad to make it as big as wanted. Streamed to disk: a 100 MB archive never
 * sits in memory. Returns the image ID.
 */
export async function writeSaveArchive(path: string, options: { tag: string; padBytes?: number; cmd?: string[] }): Promise<string> {
  const layerPath = `${path}.layer`;
  const layer = new TarWriter(layerPath);
  await layer.entry({ type: 'dir', path: 'bin' });
  await layer.file('bin/busybox', readFileSync('/bin/busybox'), 0o755);
  await layer.entry({ type: 'symlink', path: 'bin/sh', target: 'busybox' });
  await layer.entry({ type: 'dir', path: 'tmp', mode: 0o1777 });
  // A marker unique to this archive: two archives never share an image ID.
  await layer.file('archive-id', randomBytes(16).toString('hex'));
  const pad = options.padBytes ?? 0;
  if (pad > 0) await layer.entry({ type: 'file', path: 'pad', content: Buffer.alloc(0) }, pad, random(pad));
  const layerDigest = await layer.close();

  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: options.cmd ?? ['/bin/busybox', 'sleep', '3600'] },
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
    history: [{ created_by: 'swarm-molecule test archive' }],
  });
  const configDigest = createHash('sha256').update(config).digest('hex');
  const archive = new TarWriter(path);
  await archive.entry({ type: 'dir', path: layerDigest });
  const layerSize = statSync(layerPath).size;
  await archive.entry({ type: 'file', path: `${layerDigest}/layer.tar`, content: Buffer.alloc(0) }, layerSize, createReadStream(layerPath) as AsyncIterable<Buffer>);
  await archive.file(`${configDigest}.json`, config);
  await archive.file('manifest.json', JSON.stringify([{ Config: `${configDigest}.json`, RepoTags: [options.tag], Layers: [`${layerDigest}/layer.tar`] }]));
  await archive.close();
  rmSync(layerPath);
  return `sha256:${configDigest}`;
}
