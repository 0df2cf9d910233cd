import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const BLOCK = 512;
/** manifest.json and image configs are small; anything bigger is not what we look for. */
const MAX_READ = 4 * 1024 * 1024;

/** One image of a `docker save` archive: its ID (the digest of its config) and the tags it carries. */
export interface ArchivedImage {
  id: string;
  tags: string[];
}

/** What a `docker save` archive holds, and its size. */
export interface ImageArchive {
  path: string;
  bytes: number;
  images: ArchivedImage[];
}

/** A tar size field: octal text, or GNU base-256 when its first byte has the high bit set. */
function sizeOf(header: Buffer): number {
  const field = header.subarray(124, 136);
  if ((field[0] ?? 0) & 0x80) {
    let size = 0;
    for (let i = 1; i < field.length; i++) size = size * 256 + (field[i] ?? 0);
    return size;
  }
  return Number.parseInt(field.toString('ascii').replace(/\0.*$/s, '').trim() || '0', 8);
}

const text = (buffer: Buffer, start: number, end: number) => buffer.subarray(start, end).toString('utf8').replace(/\0.*$/s, '');

/**
 * Read a `docker save` archive's `manifest.json` by walking the tar headers and
 * skipping every other entry's data (the layers are never read): a 1 GB
 * archive costs a few hundred small reads.
 */
export function readImageArchive(path: string): ImageArchive {
  const fd = openSync(path, 'r');
  try {
    const bytes = fstatSync(fd).size;
    const header = Buffer.alloc(BLOCK);
    let offset = 0;
    let longName: string | undefined;
    let manifest: string | undefined;
    while (offset + BLOCK <= bytes) {
      if (readSync(fd, header, 0, BLOCK, offset) < BLOCK) break;
      if (header.every((byte) => byte === 0)) break;
      const size = sizeOf(header);
      const type = String.fromCharCode(header[156] ?? 0);
      const prefix = text(header, 345, 500);
      const name = longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
      longName = undefined;
      const data = offset + BLOCK;
      const read = () => {
        if (size > MAX_READ) throw new Error(`${name} in ${path} is ${size} bytes, too big to be an image manifest`);
        const buffer = Buffer.alloc(size);
        readSync(fd, buffer, 0, size, data);
        return buffer.toString('utf8');
      };
      if (type === 'L') longName = read().replace(/\0.*$/s, '');
      else if (type === 'x') longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(read())?.[1];
      else if ((type === '0' || type === '\0') && name.replace(/^\.\//, '') === 'manifest.json') manifest = read();
      offset = data + Math.ceil(size / BLOCK) * BLOCK;
    }
    if (manifest === undefined) throw new Error(`${path} is not a "docker save" archive: it has no manifest.json`);
    return { path, bytes, images: imagesOfManifest(manifest, path) };
  } finally {
    closeSync(fd);
  }
}

/** The images a `docker save` manifest.json lists: the ID from each config's file name (`<hex>.json` or `blobs/sha256/<hex>`). */
export function imagesOfManifest(manifest: string, path: string): ArchivedImage[] {
  const entries = JSON.parse(manifest) as { Config?: unknown; RepoTags?: unknown }[];
  if (!Array.isArray(entries) || entries.length === 0) throw new Error(`${path}: manifest.json lists no image`);
  return entries.map((entry) => {
    const hex = typeof entry.Config === 'string' ? /([0-9a-f]{64})(?:\.json)?$/.exec(entry.Config)?.[1] : undefined;
    if (!hex) throw new Error(`${path}: manifest.json names no image config (${JSON.stringify(entry.Config)})`);
    const tags = Array.isArray(entry.RepoTags) ? entry.RepoTags.filter((t): t is string => typeof t === 'string') : [];
    return { id: `sha256:${hex}`, tags };
  });
}
