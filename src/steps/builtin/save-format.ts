import { createHash } from 'node:crypto';
import { tar, type TarEntry } from '../../transport/tar.js';

/**
 * Writing the archive `docker save` writes and `docker load` reads (Docker's
 * image spec v1.2: `manifest.json`, one JSON config per image, one
 * `<dir>/layer.tar` per layer): several images in one archive share their
 * common layers, so a node gets them all with one `docker load`, each layer
 * sent and unpacked once.
 */

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** An uncompressed layer: its tar and its diff ID (`sha256:` of the tar), which the image config lists. */
export interface Layer {
  tar: Buffer;
  diffId: string;
}

export function layer(entries: readonly TarEntry[]): Layer {
  const bytes = tar(entries);
  return { tar: bytes, diffId: `sha256:${sha256(bytes)}` };
}

/** What an image is made of; every field is fixed, so the same image has the same ID everywhere. */
export interface ImageSpec {
  layers: readonly Layer[];
  cmd: readonly string[];
  labels?: Readonly<Record<string, string>>;
  /** What made each layer, for `docker history` (one per layer). */
  history: readonly string[];
  /** The architecture the layers' binaries are built for (`amd64`, `arm64`). */
  architecture: string;
}

/** An image ready for an archive: its config as written, and its ID (`sha256:` of the config). */
export interface SavedImage {
  config: string;
  id: string;
  layers: readonly Layer[];
}

/** A fixed creation time: the config, and so the ID, is the same on every run. */
const CREATED = '1970-01-01T00:00:00Z';

export function savedImage(spec: ImageSpec): SavedImage {
  if (spec.history.length !== spec.layers.length) throw new Error(`an image needs one history line per layer (${spec.layers.length} layers, ${spec.history.length} lines)`);
  const config = JSON.stringify({
    architecture: spec.architecture,
    os: 'linux',
    created: CREATED,
    config: { Cmd: spec.cmd, ...(spec.labels ? { Labels: spec.labels } : {}) },
    rootfs: { type: 'layers', diff_ids: spec.layers.map((l) => l.diffId) },
    history: spec.history.map((line) => ({ created: CREATED, created_by: line })),
  });
  return { config, id: `sha256:${sha256(config)}`, layers: spec.layers };
}

const hexOf = (digest: string): string => digest.replace(/^sha256:/, '');

/**
 * One `docker save` archive of `images`, each under its tags: a layer that
 * several images share is in it once. The same images give the same bytes.
 */
export function saveArchive(images: readonly { image: SavedImage; tags: readonly string[] }[]): Buffer {
  const layers = new Map<string, Layer>();
  const configs = new Map<string, string>();
  for (const { image } of images) {
    configs.set(hexOf(image.id), image.config);
    for (const l of image.layers) layers.set(hexOf(l.diffId), l);
  }
  const manifest = images.map(({ image, tags }) => ({
    Config: `${hexOf(image.id)}.json`,
    RepoTags: tags,
    Layers: image.layers.map((l) => `${hexOf(l.diffId)}/layer.tar`),
  }));
  return tar([
    ...[...layers].flatMap(([hex, l]): TarEntry[] => [
      { type: 'dir', path: hex },
      { type: 'file', path: `${hex}/layer.tar`, content: l.tar },
    ]),
    ...[...configs].map(([hex, config]): TarEntry => ({ type: 'file', path: `${hex}.json`, content: config })),
    { type: 'file', path: 'manifest.json', content: JSON.stringify(manifest) },
  ]);
}

/** Docker's name for the architecture Node.js runs on (`x64` → `amd64`). */
export function dockerArchitecture(arch: string = process.arch): string {
  const names: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return names[arch] ?? arch;
}
