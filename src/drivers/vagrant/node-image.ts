import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { InfraError, Interrupted } from '../../errors.js';

/**
 * The node image of the docker provider: a Debian root filesystem made with
 * debootstrap (no registry needed), `docker import`ed into each run's dockerd.
 * It is built once and cached as a tar; the cache key is a hash of this recipe.
 */

/**
 * PID 1 of a node container.
 * - /sys and every cgroup hierarchy are remounted read-write: the node's own
 *   dockerd needs them, and `privileged` is not available (see the Vagrantfile).
 * - A fresh tmpfs on /run: a stale docker pid file broke dockerd after halt + up.
 * - Keys come from the read-only mount the driver provides.
 * - The default route is replaced by a route to the harness only.
 * - DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1: tasks use local images instead of
 *   asking a registry nodes cannot (and must not) reach.
 */
export const NODE_INIT = `#!/bin/sh
set -u
# A bind remount changes the flags of this mount only ("remount,rw" alone is refused: busy).
mount -o remount,bind,rw /sys 2>/dev/null || true
for d in /sys/fs/cgroup/*; do mount -o remount,bind,rw "$d" 2>/dev/null || true; done
mount -t tmpfs -o mode=0755,size=64m tmpfs /run
mkdir -p /run/sshd /run/lock
keys=/etc/swarm-molecule
if [ -r "$keys/authorized_keys" ]; then
  install -d -m 0700 /root/.ssh
  install -m 0600 "$keys/authorized_keys" /root/.ssh/authorized_keys
fi
if [ -r "$keys/ssh_host_ed25519_key" ]; then
  install -m 0600 "$keys/ssh_host_ed25519_key" /etc/ssh/ssh_host_ed25519_key
elif [ ! -e /etc/ssh/ssh_host_ed25519_key ]; then
  ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
fi
if [ -n "\${SWARM_MOLECULE_HARNESS:-}" ]; then
  gw=$(ip -4 route show default | awk '{ print $3; exit }')
  if [ -n "$gw" ]; then
    ip route replace "$SWARM_MOLECULE_HARNESS" via "$gw"
    ip route del default
  fi
fi
DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 dockerd >>/var/log/dockerd.log 2>&1 &
exec /usr/sbin/sshd -D -e -o HostKey=/etc/ssh/ssh_host_ed25519_key -o UseDNS=no \\
  -o PermitRootLogin=prohibit-password -o PasswordAuthentication=no -o PrintMotd=no -o PrintLastLog=no \\
  -o MaxSessions=200 -o MaxStartups=200
`;

export const INIT_PATH = '/usr/local/sbin/swarm-molecule-init';

const RECIPE = {
  suite: 'bookworm',
  variant: 'minbase',
  packages: ['openssh-server', 'docker.io', 'iproute2', 'iptables', 'procps'],
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
  init: NODE_INIT,
} as const;

/** The image name in a run's dockerd; the tag changes whenever the recipe does. */
export function nodeImageTag(): string {
  const hash = createHash('sha256').update(JSON.stringify(RECIPE)).digest('hex').slice(0, 12);
  return `swarm-molecule/vagrant-node:${hash}`;
}

function archiveName(tag: string): string {
  return `vagrant-node-${tag.split(':')[1] ?? 'latest'}.tar`;
}

/**
 * The Debian mirror in the host's APT sources (deb822 `.sources` or one-line
 * `sources.list`), so that the image is built from the mirror the host uses.
 */
export function mirrorFromSources(text: string): string | undefined {
  for (const stanza of text.split(/\n\s*\n/)) {
    const uris = /^URIs:\s*(\S+)/im.exec(stanza)?.[1];
    const suites = /^Suites:\s*(.+)$/im.exec(stanza)?.[1] ?? '';
    const enabled = !/^Enabled:\s*no/im.test(stanza);
    const types = (/^Types:\s*(.+)$/im.exec(stanza)?.[1] ?? '').split(/\s+/);
    if (uris && enabled && types.includes('deb') && !/security/.test(suites) && !/security/.test(uris)) {
      return uris.replace(/\/$/, '');
    }
  }
  for (const line of text.split('\n')) {
    const match = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
    if (match?.[1] && !/security/.test(match[1]) && !/security/.test(match[2] ?? '')) return match[1].replace(/\/$/, '');
  }
  return undefined;
}

export async function hostDebianMirror(): Promise<string> {
  const files = ['/etc/apt/sources.list'];
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) files.push(...(await readdir(dir)).filter((f) => f.endsWith('.sources') || f.endsWith('.list')).map((f) => join(dir, f)));
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const mirror = mirrorFromSources(text);
    if (mirror && /debian/.test(mirror)) return mirror;
  }
  return 'http://deb.debian.org/debian';
}

export interface BuildOptions {
  cacheDir: string;
  mirror: string;
  signal: AbortSignal;
  log: (line: string) => void;
}

/** The cached archive of the node image, built first when it is missing. */
export async function ensureNodeImageArchive(options: BuildOptions): Promise<string> {
  const archive = join(options.cacheDir, archiveName(nodeImageTag()));
  if (existsSync(archive)) return archive;
  await mkdir(options.cacheDir, { recursive: true, mode: 0o755 });
  return await withLock(`${archive}.lock`, options.signal, async () => {
    if (existsSync(archive)) return archive; // another run built it while we waited
    const started = performance.now();
    options.log(`building the node image (debootstrap ${RECIPE.suite} from ${options.mirror}); it is cached in ${options.cacheDir}`);
    await build(archive, options);
    await removeOtherArchives(options.cacheDir, archive);
    const size = (await stat(archive)).size;
    options.log(`built the node image in ${((performance.now() - started) / 1000).toFixed(1)} s (${Math.round(size / 2 ** 20)} MiB)`);
    return archive;
  });
}

async function build(archive: string, options: BuildOptions): Promise<void> {
  // On the cache's file system, so that the final rename is atomic.
  const work = await mkdtemp(join(options.cacheDir, '.build-'));
  const rootfs = join(work, 'rootfs');
  try {
    const bootstrap = await execa(
      'debootstrap',
      [`--variant=${RECIPE.variant}`, `--include=${RECIPE.packages.join(',')}`, RECIPE.suite, rootfs, options.mirror],
      { reject: false, all: true, stdin: 'ignore', timeout: 45 * 60_000, cancelSignal: options.signal },
    );
    if (bootstrap.isCanceled) throw new Interrupted(String(options.signal.reason ?? 'signal'));
    if (bootstrap.exitCode !== 0) {
      const log = await readFile(join(rootfs, 'debootstrap', 'debootstrap.log'), 'utf8').catch(() => '');
      const tail = (log || bootstrap.all).trim().split('\n').slice(-15).join('\n    ');
      throw new InfraError(`Building the vagrant node image failed: debootstrap exited with ${bootstrap.exitCode ?? 'a signal'}:\n    ${tail}`, {
        hint: `Check that ${options.mirror} is reachable, or set driver.options.mirror to a Debian mirror that is.`,
      });
    }
    // Globs are expanded here, not by a shell: every path stays inside the rootfs.
    for (const pattern of RECIPE.remove) await removeGlob(rootfs, pattern);
    const init = join(rootfs, INIT_PATH);
    await writeFile(init, RECIPE.init, { mode: 0o755 });
    await chmod(init, 0o755);
    const tar = await execa('tar', ['--numeric-owner', '--xattrs', '-C', rootfs, '-cf', join(work, 'image.tar'), '.'], {
      reject: false,
      all: true,
      stdin: 'ignore',
      timeout: 10 * 60_000,
      cancelSignal: options.signal,
    });
    if (tar.exitCode !== 0) throw new InfraError(`Packing the vagrant node image failed: ${tar.all.trim().split('\n').slice(-5).join('; ')}`);
    await rename(join(work, 'image.tar'), archive);
  } finally {
    await unmountUnder(work);
    await rm(work, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** Images of earlier recipes are never used again. */
async function removeOtherArchives(cacheDir: string, keep: string): Promise<void> {
  for (const entry of await readdir(cacheDir)) {
    const path = join(cacheDir, entry);
    if (/^vagrant-node-[0-9a-f]+\.tar$/.test(entry) && path !== keep) await rm(path, { force: true });
  }
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
 * One build at a time per machine: a lock directory holding the builder's PID.
 * A lock whose owner is dead is taken over.
 */
async function withLock<T>(lock: string, signal: AbortSignal, body: () => Promise<T>): Promise<T> {
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

/** Import the cached archive into a run's dockerd (about 3 s), unless it has the image already. */
export async function importNodeImage(dockerEnv: Record<string, string>, archive: string, tag: string, signal: AbortSignal): Promise<boolean> {
  const inspect = await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', tag], { env: dockerEnv, reject: false, stdin: 'ignore' });
  if (inspect.exitCode === 0) return false;
  const result = await execa('docker', ['import', '--change', `CMD ["${INIT_PATH}"]`, archive, tag], {
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
      hint: `The cached image ${archive} may be damaged: delete it and run again to rebuild it.`,
    });
  }
  return true;
}
