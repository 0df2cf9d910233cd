import { UsageError } from '../errors.js';
import { interruptSignals } from './interrupt.js';
import type { CliOptions } from './options.js';
import { out } from './output.js';
import { cachedNodeImage, DEFAULT_CACHE_DIR, ensureNodeImage, listNodeImages, processesUsing, removeNodeImage } from '../drivers/host/node-image/index.js';

/** `swarm-molecule image build|ls|rm`: the cached node image every driver boots. */
export interface ImageOptions {
  cacheDir?: string;
  mirror?: string;
  all?: boolean;
  signal: AbortSignal;
  write: (text: string) => void;
}

export async function buildImage(options: ImageOptions): Promise<void> {
  const cached = cachedNodeImage(options.cacheDir ?? DEFAULT_CACHE_DIR);
  if (cached) {
    options.write(`node image ${cached.hash} is cached: ${cached.dir}\n`);
    return;
  }
  const started = performance.now();
  const image = await ensureNodeImage({
    cacheDir: options.cacheDir ?? DEFAULT_CACHE_DIR,
    mirror: options.mirror,
    signal: options.signal,
    log: (line) => options.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`),
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  options.write(`node image ${image.hash} built in ${seconds} s: ${image.dir}\n`);
}

export async function listImages(options: ImageOptions): Promise<void> {
  const images = await listNodeImages(options.cacheDir ?? DEFAULT_CACHE_DIR);
  if (images.length === 0) {
    options.write(`No node image in ${options.cacheDir ?? DEFAULT_CACHE_DIR}. "swarm-molecule image build" builds one (create also does).\n`);
    return;
  }
  const rows = [['IMAGE', 'RECIPE', 'SIZE', 'BUILT', 'NODES', 'PATH']];
  for (const image of images) {
    const users = await processesUsing(image);
    rows.push([
      image.hash,
      image.current ? 'current' : 'old',
      `${Math.round(image.sizeBytes / 2 ** 20)} MiB`,
      image.builtAt.toISOString().slice(0, 16).replace('T', ' '),
      users.length > 0 ? 'in use' : '-',
      image.dir,
    ]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  options.write(`${rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n')}\n`);
}

/** Remove the named images; with none named, the images of old recipes; with --all, every one. */
export async function removeImages(hashes: string[], options: ImageOptions): Promise<void> {
  const images = await listNodeImages(options.cacheDir ?? DEFAULT_CACHE_DIR);
  for (const hash of hashes) {
    if (!images.some((image) => image.hash.startsWith(hash))) {
      throw new UsageError(`There is no node image ${hash} in ${options.cacheDir ?? DEFAULT_CACHE_DIR}.`, { hint: 'See "swarm-molecule image ls".' });
    }
  }
  const doomed = images.filter((image) => (hashes.length > 0 ? hashes.some((hash) => image.hash.startsWith(hash)) : options.all || !image.current));
  if (doomed.length === 0) options.write('Nothing to remove: the cache holds only the current recipe\'s image (use --all to remove it too).\n');
  for (const image of doomed) {
    await removeNodeImage(image);
    options.write(`removed node image ${image.hash}\n`);
  }
}

/** `image build|ls|rm`, as the CLI hands it over. */
export async function runImageCommand(action: string, images: string[], options: Pick<CliOptions, 'cacheDir' | 'mirror' | 'all'>): Promise<void> {
  const base = { cacheDir: options.cacheDir, mirror: options.mirror, all: options.all, write: out };
  if (action !== 'rm' && images.length > 0) throw new UsageError(`"image ${action}" takes no image names.`, { hint: 'Only "image rm" does.' });
  if (action === 'build') {
    const signals = interruptSignals();
    try {
      await buildImage({ ...base, signal: signals.signal });
    } finally {
      signals.dispose();
    }
  } else if (action === 'ls') {
    await listImages({ ...base, signal: new AbortController().signal });
  } else if (action === 'rm') {
    await removeImages(images, { ...base, signal: new AbortController().signal });
  } else {
    throw new UsageError(`"image ${action}" is not an image action.`, { hint: 'Use "image build", "image ls" or "image rm [IMAGE...]".' });
  }
}
