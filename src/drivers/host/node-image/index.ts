import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { InfraError, Interrupted, UsageError } from '../../../errors.js';
import { CONTAINER_INIT, INIT_PATH } from './container-init.js';
import { hostDebianMirror } from './mirror.js';

export { INIT_PATH } from './container-init.js';
export { hostDebianMirror, mirrorFromSources } from './mirror.js';

/**
 * The node image: a Debian root filesystem made with debootstrap (no registry
 * needed), one for every driver. It is built once per recipe and cached under
 * the cache dir as `node-HASH/`, holding
 * - `rootfs/`: the extracted tree, the read-only lower layer of netns nodes;
 * - `image.tar`: the same tree packed, which container drivers `docker import`.
 * HASH is a hash of the recipe, so a changed recipe is a new image.
 */
const RECIPE = {
  suite: 'bookworm',
  variant: 'minbase',
  // python3 and python3-apt: Ansible's modules (and its apt module) run on the node.
  packages: ['openssh-server', 'docker.io', 'iproute2', 'iptables', 'procps', 'python3', 'python3-apt'],
  // What the image does not need: package caches and lists, docs, locales, and
  // the build's SSH host keys (each node gets its own).
  remove: [
    'var/cache/apt/archives/*.deb',
    'var/cache/apt/*.bin',
    'var/lib/apt/lists/*',
    'usr/share/doc/*',
    'usr/share/man/*',
    'usr/share/info/*',
    'usr/share/locale/*',
    'etc/ssh/ssh_host_*',
  ],
  files: {
    [INIT_PATH]: { text: CONTAINER_INIT, mode: 0o755 },
    // debootstrap copies this machine's resolver; nodes have no DNS (they reach only each other and the harness).
    '/etc/resolv.conf': { text: '', mode: 0o644 },
  },
} as const;

export { DEFAULT_CACHE_DIR } from './cache-dir.js';

export function recipeHash(): string {
  return createHash('sha256').update(JSON.stringify(RECIPE)).digest('hex').slice(0, 12);
}

/** One cached node image. */
export interface NodeImage {
  hash: string;
  dir: string;
  /** The extracted root filesystem (never written to: nodes write to their own overlay upper dir). */
  rootfs: string;
  /** The packed root filesystem, for `docker import`. */
  archive: string;
  /** The name of the image in a dockerd; the tag changes whenever the recipe does. */
  tag: string;
}

export function nodeImageAt(cacheDir: string, hash = recipeHash()): NodeImage {
  const dir = join(cacheDir, `node-${hash}`);
  return { hash, dir, rootfs: join(dir, 'rootfs'), archive: join(dir, 'image.tar'), tag: `swarm-molecule/node:${hash}` };
}

/** The image of the current recipe when it is in the cache. */
export function cachedNodeImage(cacheDir: string): NodeImage | undefined {
  const image = nodeImageAt(cacheDir);
  // The directory appears by an atomic rename once both parts are complete.
  return existsSync(image.dir) ? image : undefined;
}

export interface BuildOptions {
  cacheDir: string;
  /** The Debian mirror to build from; default the one in this machine's APT sources. */
  mirror?: string | undefined;
  signal: AbortSignal;
  log: (line: string) => void;
}

/** The cached node image, built first when it is missing (one builder at a time per cache). */
export async function ensureNodeImage(options: BuildOptions): Promise<NodeImage> {
  const cached = cachedNodeImage(options.cacheDir);
  if (cached) return cached;
  const image = nodeImageAt(options.cacheDir);
  await mkdir(options.cacheDir, { recursive: true, mode: 0o755 });
  return await withLock(`${image.dir}.lock`, options.signal, options.log, async () => {
    if (existsSync(image.dir)) return image; // another run built it while we waited
    const started = performance.now();
    const mirror = options.mirror ?? (await hostDebianMirror());
    options.log(`building the node image ${image.hash} (debootstrap ${RECIPE.suite} from ${mirror}, a few minutes, once); it is cached in ${options.cacheDir}`);
    await build(image, mirror, options);
    const size = (await stat(image.archive)).size;
    options.log(`built the node image in ${((performance.now() - started) / 1000).toFixed(1)} s (${Math.round(size / 2 ** 20)} MiB)`);
    return image;
  });
}

async function build(image: NodeImage, mirror: string, options: BuildOptions): Promise<void> {
  // On the cache's file system, so that the final rename is atomic.
  const work = await mkdtemp(join(options.cacheDir, '.build-'));
  const rootfs = join(work, 'rootfs');
  try {
    const bootstrap = execa(
      'debootstrap',
      [`--variant=${RECIPE.variant}`, `--include=${RECIPE.packages.join(',')}`, RECIPE.suite, rootfs, mirror],
      { reject: false, all: true, stdin: 'ignore', timeout: 45 * 60_000, cancelSignal: options.signal },
    );
    // Progress: the first line of each of debootstrap's phases (Retrieving, Extracting, Configuring...).
    const phases = new Set<string>();
    for await (const line of bootstrap.iterable({ from: 'all' })) {
      const verb = /^I: (\S+)/.exec(line)?.[1];
      if (verb && !phases.has(verb)) {
        phases.add(verb);
        options.log(`node image: ${line.slice(3)}`);
      }
    }
    const result = await bootstrap;
    if (result.isCanceled) throw new Interrupted(String(options.signal.reason ?? 'signal'));
    if (result.exitCode !== 0) {
      const log = await readFile(join(rootfs, 'debootstrap', 'debootstrap.log'), 'utf8').catch(() => '');
      const tail = (log || result.all).trim().split('\n').slice(-15).join('\n    ');
      throw new InfraError(`Building the node image failed: debootstrap exited with ${result.exitCode ?? 'a signal'}:\n    ${tail}`, {
        hint: `Check that ${mirror} is reachable, or name a Debian mirror that is (driver.options.mirror, or "swarm-molecule image build --mirror URL").`,
      });
    }
    // Globs are expanded here, not by a shell: every path stays inside the rootfs.
    for (const pattern of RECIPE.remove) await removeGlob(rootfs, pattern);
    for (const [path, { text, mode }] of Object.entries(RECIPE.files)) {
      await rm(join(rootfs, path), { force: true });
      await writeFile(join(rootfs, path), text, { mode });
      await chmod(join(rootfs, path), mode);
    }
    const tar = await execa('tar', ['--numeric-owner', '--xattrs', '-C', rootfs, '-cf', join(work, 'image.tar'), '.'], {
      reject: false,
      all: true,
      stdin: 'ignore',
      timeout: 10 * 60_000,
      cancelSignal: options.signal,
    });
    if (tar.exitCode !== 0) throw new InfraError(`Packing the node image failed: ${tar.all.trim().split('\n').slice(-5).join('; ')}`);
    await unmountUnder(work);
    await chmod(work, 0o755);
    await rename(work, image.dir);
  } finally {
    await unmountUnder(work);
    await rm(work, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** Every image in the cache, the current recipe's first. */
export async function listNodeImages(cacheDir: string): Promise<(NodeImage & { current: boolean; sizeBytes: number; builtAt: Date })[]> {
  const entries = existsSync(cacheDir) ? await readdir(cacheDir) : [];
  const images = [];
  for (const entry of entries) {
    const hash = /^node-([0-9a-f]+)$/.exec(entry)?.[1];
    if (!hash) continue;
    const image = nodeImageAt(cacheDir, hash);
    const archive = await stat(image.archive).catch(() => undefined);
    images.push({ ...image, current: hash === recipeHash(), sizeBytes: archive?.size ?? 0, builtAt: archive?.mtime ?? new Date(0) });
  }
  return images.sort((a, b) => Number(b.current) - Number(a.current) || b.builtAt.getTime() - a.builtAt.getTime());
}

/**
 * PIDs whose mount namespace has an overlay on this image's rootfs: running
 * netns nodes. Removing the lower layer under them would break them.
 */
export async function processesUsing(image: NodeImage): Promise<number[]> {
  const needle = `lowerdir=${image.rootfs}`;
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const mountinfo = await readFile(`/proc/${entry}/mountinfo`, 'utf8').catch(() => '');
    if (mountinfo.includes(needle)) pids.push(Number(entry));
  }
  return pids;
}

/** Remove a cached image; refused while a node runs on it. */
export async function removeNodeImage(image: NodeImage): Promise<void> {
  const users = await processesUsing(image);
  if (users.length > 0) {
    throw new UsageError(`The node image ${image.hash} is in use by running nodes (PIDs ${users.slice(0, 5).join(', ')}).`, {
      hint: 'Destroy the scenarios that use it first ("swarm-molecule destroy --all" in their projects).',
    });
  }
  // Renamed first, so that no reader ever sees a half-removed image as cached.
  const doomed = `${image.dir}.removing-${process.pid}`;
  await rename(image.dir, doomed);
  await rm(doomed, { recursive: true, force: true, maxRetries: 3 });
}

/** `dir/pattern` where the pattern's last part may hold `*`. */
async function removeGlob(root: string, pattern: string): Promise<void> {
  const slash = pattern.lastIndexOf('/');
  const dir = join(root, pattern.slice(0, slash));
  const glob = pattern.slice(slash + 1);
  const regex = new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  const entries = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(entries.filter((e) => regex.test(e)).map((e) => rm(join(dir, e), { recursive: true, force: true })));
}

/** Mount points under `dir` (debootstrap mounts /proc and /sys in the target; a failed run can leave them). */
export function mountsUnder(mountinfo: string, dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return mountinfo
    .split('\n')
    .map((line) => (line.split(' ')[4] ?? '').replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((point) => point.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

async function unmountUnder(dir: string): Promise<void> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  for (const point of mountsUnder(mountinfo, dir)) {
    await execa('umount', ['-l', point], { reject: false });
  }
}

/**
 * One build at a time per image: a lock directory holding the builder's PID.
 * A lock whose owner is dead is taken over.
 */
async function withLock<T>(lock: string, signal: AbortSignal, log: (line: string) => void, body: () => Promise<T>): Promise<T> {
  let waiting = false;
  for (;;) {
    if (signal.aborted) throw new Interrupted(String(signal.reason ?? 'signal'));
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number((await readFile(join(lock, 'pid'), 'utf8').catch(() => '')).trim());
    const age = Date.now() - ((await stat(lock).catch(() => undefined))?.mtimeMs ?? Date.now());
    if ((owner > 0 && !processExists(owner)) || (!owner && age > 10_000)) {
      await rm(lock, { recursive: true, force: true });
      continue;
    }
    if (!waiting) log(`waiting for another build of the node image (process ${owner || '?'})`);
    waiting = true;
    await sleep(1000);
  }
  await writeFile(join(lock, 'pid'), `${process.pid}\n`);
  try {
    return await body();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Import the cached image into a dockerd (about 3 s), unless it has it already. */
export async function importNodeImage(dockerEnv: Record<string, string>, image: NodeImage, signal: AbortSignal): Promise<boolean> {
  const inspect = await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', image.tag], { env: dockerEnv, reject: false, stdin: 'ignore' });
  if (inspect.exitCode === 0) return false;
  const result = await execa('docker', ['import', '--change', `CMD ["${INIT_PATH}"]`, image.archive, image.tag], {
    env: dockerEnv,
    reject: false,
    all: true,
    stdin: 'ignore',
    timeout: 10 * 60_000,
    cancelSignal: signal,
  });
  if (result.isCanceled) throw new Interrupted(String(signal.reason ?? 'signal'));
  if (result.exitCode !== 0) {
    throw new InfraError(`Importing the node image into the provider's dockerd failed: ${result.all.trim()}`, {
      hint: `The cached image ${image.dir} may be damaged: remove it ("swarm-molecule image rm ${image.hash}") and run again to rebuild it.`,
    });
  }
  return true;
}
