import { existsSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import pMap from 'p-map';
import { InfraError, Interrupted } from '../../errors.js';
import type { Host, StepContext } from '../api.js';
import { engineOrCli } from './engine.js';
import { nodeList, type NodeRow } from './node-list.js';
import { dockerArchitecture, layer, saveArchive, savedImage, type ImageSpec, type SavedImage } from './save-format.js';

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

const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];
const FIXTURES = fileURLToPath(new URL('../../../fixtures/images/', import.meta.url));

/** A test image as built here: what it is made of, and its config and ID as every node gets them. */
export interface TestImage {
  tag: TestImageTag;
  reference: string;
  spec: ImageSpec;
  image: SavedImage;
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

/**
 * Two layers make the three images: v1's (busybox, /bin/sh, /tmp and
 * /www/index.html of v1, which compose files serve with `-h /www`), which
 * broken shares with another command, and a small one on top of it that makes
 * v2 by replacing the page. A node unpacks each layer once, whichever images
 * it gets.
 */
function build(busybox: Buffer, template: string): Map<TestImageTag, TestImage> {
  const page = (version: 'v1' | 'v2') => ({ type: 'file' as const, path: 'www/index.html', content: template.replaceAll('{{version}}', version) });
  const v1 = layer([
    { type: 'dir', path: 'bin' },
    { type: 'file', path: 'bin/busybox', content: busybox, mode: 0o755 },
    { type: 'symlink', path: 'bin/sh', target: 'busybox' },
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'dir', path: 'www' },
    page('v1'),
  ]);
  const v2 = layer([{ type: 'dir', path: 'www' }, page('v2')]);
  const v1History = 'swarm-molecule: static busybox as /bin/busybox and /bin/sh, /www/index.html of v1';
  const httpd = ['/bin/busybox', 'httpd', '-f', '-p', String(WEB_PORT), '-h', '/www'];
  const architecture = dockerArchitecture();
  const specs: Record<TestImageTag, ImageSpec> = {
    v1: { layers: [v1], cmd: httpd, history: [v1History], architecture },
    v2: { layers: [v1, v2], cmd: httpd, history: [v1History, 'swarm-molecule: /www/index.html of v2'], architecture },
    broken: {
      layers: [v1],
      cmd: ['/bin/busybox', 'sh', '-c', 'echo "swarm-molecule/web:broken exits at start, on purpose" >&2; exit 1'],
      history: [v1History],
      architecture,
    },
  };
  return new Map(
    (Object.keys(TEST_IMAGES) as TestImageTag[]).map((tag) => [tag, { tag, reference: TEST_IMAGES[tag], spec: specs[tag], image: savedImage(specs[tag]) }]),
  );
}

let built: Map<TestImageTag, TestImage> | undefined;

/** The test images, built once per process from fixtures/images and this machine's busybox. */
export function testImages(): Map<TestImageTag, TestImage> {
  if (!built) built = build(staticBusybox(), readFileSync(`${FIXTURES}web/index.html`, 'utf8'));
  return built;
}

const archives = new Map<string, Buffer>();

/** One `docker save` archive of `images` (their shared layer once), built once per set of images. */
export function testImageArchive(images: readonly TestImage[]): Buffer {
  const key = images.map((i) => i.tag).join(',');
  let archive = archives.get(key);
  if (!archive) {
    archive = saveArchive(images.map((i) => ({ image: i.image, tags: [i.reference] })));
    archives.set(key, archive);
  }
  return archive;
}

/** The nodes the test images go to: the step's hosts, and the leader that knows which of them can run a task. */
export type ImageHosts = Pick<StepContext<unknown>, 'hosts' | 'leader'>;

/**
 * The hosts that may run a task: all but those whose every node entry (by
 * hostname) is at availability Drain. A host the list does not name gets
 * images: better an image too many than a task that cannot start.
 */
export function hostsThatRunTasks(hosts: readonly Host[], nodes: readonly NodeRow[]): Host[] {
  return hosts.filter((host) => {
    const entries = nodes.filter((n) => n.Hostname === host.name);
    return entries.length === 0 || entries.some((n) => n.Availability.toLowerCase() !== 'drain');
  });
}

/** The swarm's node list as the leader has it; every host when it cannot say (the images then go everywhere). */
async function imageHosts(where: ImageHosts): Promise<readonly Host[]> {
  try {
    return hostsThatRunTasks(where.hosts, await nodeList(where.leader()));
  } catch (error) {
    if (error instanceof Interrupted) throw error;
    return where.hosts;
  }
}

const imageListSchema = z.array(z.looseObject({ Id: z.string(), RepoTags: z.array(z.string()).nullish() }));

/** The image ID of each test image reference on the host (those it lacks are left out); one request. */
async function presentIds(host: Host): Promise<Map<string, string>> {
  const repository = TEST_IMAGES.v1.replace(/:.*$/, '');
  const images = await engineOrCli(host, {
    engine: { label: 'GET /images/json', call: (docker) => docker.listImages({ filters: { reference: [repository] } }) },
    cli: async () => {
      const out = await host.docker(['image', 'ls', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}', repository], { readOnly: true });
      return out
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => {
          const [reference = '', id = ''] = line.trim().split(' ');
          return { Id: id, RepoTags: [reference] };
        });
    },
    schema: imageListSchema,
  });
  return new Map(images.flatMap((image) => (image.RepoTags ?? []).map((reference) => [reference, image.Id] as const)));
}

const LOAD_TIMEOUT_MS = 60_000;

/** What `POST /images/load` streamed back: Docker's words of the first error, if any. */
export function loadError(answer: string): string | undefined {
  for (const line of answer.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const message = (JSON.parse(line) as { error?: unknown }).error;
      if (typeof message === 'string' && message !== '') return message;
    } catch {
      return answer.trim();
    }
  }
  return undefined;
}

/** `docker load` of one archive on the host: through its Engine API, or the CLI where the socket is not forwarded. */
async function load(host: Host, archive: Buffer): Promise<void> {
  const answer = await host.engine({
    label: 'POST /images/load',
    timeoutMs: LOAD_TIMEOUT_MS,
    // Loading images a node already has changes nothing; the archive is made anew for each try.
    repeatable: true,
    call: async (docker) => {
      const stream = await docker.loadImage(Readable.from([archive]), { quiet: true });
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
      return Buffer.concat(chunks).toString('utf8');
    },
  });
  if (answer === undefined) {
    await host.docker(['load', '--quiet'], { stdin: archive, timeoutMs: LOAD_TIMEOUT_MS });
    return;
  }
  const error = loadError(answer);
  if (error !== undefined) {
    throw new InfraError(`Loading the test images on ${host.name} failed: ${error}`, {
      hint: `Check the node's Docker daemon and its disk ("swarm-molecule exec -h ${host.name} -- docker info").`,
    });
  }
}

/**
 * Put the test images `tags` on every host that can run a task and lacks them
 * (by image ID: another build of an image counts as missing), hosts in
 * parallel, with one `docker load` per host of an archive holding just what it
 * lacks; hosts that have them are left alone. Given a step's context, nodes at
 * availability Drain are left out (the leader's node list says which); given
 * hosts, every one of them gets the images. Returns what was placed, an entry
 * per image and host.
 */
export async function ensureTestImages(where: ImageHosts | readonly Host[], tags: readonly TestImageTag[] = ['v1', 'v2', 'broken']): Promise<string[]> {
  const images = testImages();
  const wanted = tags.map((tag) => images.get(tag) as TestImage);
  const hosts = 'leader' in where ? await imageHosts(where) : where;
  const placed: string[] = [];
  await pMap(hosts, async (host) => {
    const present = await presentIds(host);
    const missing = wanted.filter((image) => present.get(image.reference) !== image.image.id);
    if (missing.length === 0) return;
    await load(host, testImageArchive(missing));
    placed.push(...missing.map((image) => `${image.reference} on ${host.name}`));
  });
  return placed;
}
