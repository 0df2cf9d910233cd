import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pMap from 'p-map';
import { InfraError } from '../../errors.js';
import type { Host } from '../api.js';
import { tar } from '../../transport/tar.js';

/** The test images the service steps run; see fixtures/images/README.md. */
export const TEST_IMAGES = {
  v1: 'swarm-molecule/web:v1',
  v2: 'swarm-molecule/web:v2',
  broken: 'swarm-molecule/web:broken',
} as const;
export type TestImageTag = keyof typeof TEST_IMAGES;

/** The port the web images listen on inside the container. */
export const WEB_PORT = 8080;

/** What `GET /` answers on a task of a web image. */
export const bodyOf = (tag: 'v1' | 'v2'): string => `swarm-molecule web ${tag}`;

/** A busybox httpd as PID 1 ignores SIGTERM: stop tasks after 1 s instead of 10. */
export const STOP_GRACE = '1s';

const DIGEST_LABEL = 'io.swarm-molecule.digest';
const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];
const FIXTURES = fileURLToPath(new URL('../../../fixtures/images/', import.meta.url));

interface BuiltImage {
  reference: string;
  /** `docker import --change` instructions. */
  changes: string[];
  archive: Buffer;
  digest: string;
}

function staticBusybox(): Buffer {
  const path = BUSYBOX_CANDIDATES.find((candidate) => existsSync(candidate));
  if (!path) {
    throw new InfraError('The test images need a static busybox on this machine, and there is none (looked for /bin/busybox).', {
      hint: 'Install it: apt-get install busybox-static',
    });
  }
  const binary = readFileSync(path);
  if (hasInterpreter(binary)) {
    throw new InfraError(`${path} is dynamically linked; the test images need a static busybox (it is the only file in them).`, {
      hint: 'Install the static one: apt-get install busybox-static',
    });
  }
  return binary;
}

/** Whether an ELF file asks for a dynamic loader (a PT_INTERP program header). */
export function hasInterpreter(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46) throw new InfraError('busybox is not an ELF executable.');
  const is64 = elf[4] === 2;
  const little = elf[5] === 1;
  const u16 = (offset: number) => (little ? elf.readUInt16LE(offset) : elf.readUInt16BE(offset));
  const u32 = (offset: number) => (little ? elf.readUInt32LE(offset) : elf.readUInt32BE(offset));
  const phoff = is64 ? Number(little ? elf.readBigUInt64LE(32) : elf.readBigUInt64BE(32)) : u32(28);
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  for (let i = 0; i < phnum; i++) {
    if (u32(phoff + i * phentsize) === 3) return true;
  }
  return false;
}

function build(tag: TestImageTag, busybox: Buffer, template: string): BuiltImage {
  const base = [
    { type: 'dir' as const, path: 'bin' },
    { type: 'file' as const, path: 'bin/busybox', content: busybox, mode: 0o755 },
    { type: 'symlink' as const, path: 'bin/sh', target: 'busybox' },
    { type: 'dir' as const, path: 'tmp', mode: 0o1777 },
  ];
  const www =
    tag === 'broken'
      ? []
      : [
          { type: 'dir' as const, path: 'www' },
          { type: 'file' as const, path: 'www/index.html', content: template.replaceAll('{{version}}', tag) },
        ];
  const cmd =
    tag === 'broken'
      ? ['/bin/busybox', 'sh', '-c', 'echo "swarm-molecule/web:broken exits at start, on purpose" >&2; exit 1']
      : ['/bin/busybox', 'httpd', '-f', '-p', String(WEB_PORT), '-h', '/www'];
  const archive = tar([...base, ...www]);
  const changes = [`CMD ${JSON.stringify(cmd)}`];
  const digest = createHash('sha256').update(archive).update(changes.join('\n')).digest('hex');
  return { reference: TEST_IMAGES[tag], changes: [...changes, `LABEL ${DIGEST_LABEL}=${digest}`], archive, digest };
}

let built: Map<TestImageTag, BuiltImage> | undefined;

/** The test images' archives, built once per process from fixtures/images and this machine's busybox. */
export function testImages(): Map<TestImageTag, BuiltImage> {
  if (!built) {
    const busybox = staticBusybox();
    const template = readFileSync(`${FIXTURES}web/index.html`, 'utf8');
    built = new Map((Object.keys(TEST_IMAGES) as TestImageTag[]).map((tag) => [tag, build(tag, busybox, template)]));
  }
  return built;
}

/** The digest label of each image reference present on the host (absent ones are left out). */
async function presentDigests(host: Host, references: readonly string[]): Promise<Map<string, string>> {
  // `image inspect` of several names prints those that exist and exits 1 if any is missing.
  const result = await host.run(['docker', 'image', 'inspect', '--format', `{{index .Config.Labels "${DIGEST_LABEL}"}}`, ...references], {
    readOnly: true,
  });
  const lines = result.stdout.split('\n');
  if (result.exitCode === 0) return new Map(references.map((ref, i) => [ref, lines[i]?.trim() ?? '']));
  // Some are missing: ask one by one to know which.
  const found = new Map<string, string>();
  for (const ref of references) {
    const one = await host.run(['docker', 'image', 'inspect', '--format', `{{index .Config.Labels "${DIGEST_LABEL}"}}`, ref], { readOnly: true });
    if (one.exitCode === 0) found.set(ref, one.stdout.trim());
  }
  return found;
}

/**
 * Import the test images on every host that lacks them (or has another build of
 * them), in parallel; hosts that have them are left alone. Returns what was imported.
 */
export async function ensureTestImages(hosts: readonly Host[], tags: readonly TestImageTag[] = ['v1', 'v2', 'broken']): Promise<string[]> {
  const images = testImages();
  const wanted = tags.map((tag) => images.get(tag) as BuiltImage);
  const imported: string[] = [];
  await pMap(hosts, async (host) => {
    const present = await presentDigests(
      host,
      wanted.map((image) => image.reference),
    );
    for (const image of wanted) {
      if (present.get(image.reference) === image.digest) continue;
      await host.docker(['import', ...image.changes.flatMap((change) => ['--change', change]), '-', image.reference], {
        stdin: image.archive,
        timeoutMs: 60_000,
      });
      imported.push(`${image.reference} on ${host.name}`);
    }
  });
  return imported;
}
