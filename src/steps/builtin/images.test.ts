import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { Interrupted } from '../../errors.js';
import type { EngineCall } from '../../transport/index.js';
import type { Host } from '../api.js';
import { readImageArchive } from './image-archive.js';
import { bodyOf, ensureTestImages, hasInterpreter, hostsThatRunTasks, loadError, testImageArchive, testImages, TEST_IMAGES } from './images.js';
import type { NodeRow } from './node-list.js';

describe('hasInterpreter', () => {
  it('tells a static executable from a dynamic one', () => {
    expect(hasInterpreter(readFileSync(process.execPath))).toBe(true);
    if (existsSync('/bin/busybox')) expect(hasInterpreter(readFileSync('/bin/busybox'))).toBe(false);
  });
});

const configOf = (tag: 'v1' | 'v2' | 'broken') => JSON.parse(testImages().get(tag)?.image.config ?? '') as { config: { Cmd: string[] }; rootfs: { diff_ids: string[] } };

describe.skipIf(!existsSync('/bin/busybox'))('testImages', () => {
  it("builds v1, v2 and broken from fixtures/images and this machine's busybox, on two layers", () => {
    const images = testImages();
    expect([...images.values()].map((i) => i.reference)).toEqual([TEST_IMAGES.v1, TEST_IMAGES.v2, TEST_IMAGES.broken]);
    expect(configOf('v1').config.Cmd).toEqual(['/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/www']);
    expect(configOf('v2').config.Cmd).toEqual(configOf('v1').config.Cmd);
    expect(configOf('broken').config.Cmd.join(' ')).toMatch(/^\/bin\/busybox sh -c .*exit 1$/);
    // v1's layer for all three (a node unpacks it once); v2 replaces the page in a layer on top.
    const [first] = configOf('v1').rootfs.diff_ids;
    expect(configOf('v1').rootfs.diff_ids).toEqual([first]);
    expect(configOf('broken').rootfs.diff_ids).toEqual([first]);
    expect(configOf('v2').rootfs.diff_ids).toHaveLength(2);
    expect(configOf('v2').rootfs.diff_ids[0]).toBe(first);
    // Different content or command, different IDs.
    expect(new Set([...images.values()].map((i) => i.image.id)).size).toBe(3);
  });

  it('puts the wanted images in one archive that docker load reads, the shared layer once', () => {
    const images = testImages();
    const wanted = [images.get('v2'), images.get('broken')].filter((i) => i !== undefined);
    const dir = mkdtempSync(join(tmpdir(), 'sm-images-test-'));
    try {
      const path = join(dir, 'images.tar');
      writeFileSync(path, testImageArchive(wanted));
      expect(readImageArchive(path).images).toEqual(wanted.map((i) => ({ id: i.image.id, tags: [i.reference] })));
      const names = execFileSync('tar', ['-tf', path], { encoding: 'utf8' }).split('\n').filter(Boolean);
      const layers = names.filter((n) => n.endsWith('/layer.tar'));
      expect(layers).toHaveLength(2);
      execFileSync('tar', ['-xf', path, '-C', dir, ...layers]);
      const hexOf = (digest: string | undefined) => (digest ?? '').replace('sha256:', '');
      const [v1, v2] = configOf('v2').rootfs.diff_ids.map((d) => join(dir, hexOf(d), 'layer.tar'));
      const list = (file: string | undefined) => execFileSync('tar', ['-tf', file ?? ''], { encoding: 'utf8' }).split('\n').filter(Boolean);
      const pageIn = (file: string | undefined) => execFileSync('tar', ['-xOf', file ?? '', 'www/index.html'], { encoding: 'utf8' }).trim();
      expect(list(v1)).toEqual(['bin/', 'bin/busybox', 'bin/sh', 'tmp/', 'www/', 'www/index.html']);
      expect(list(v2)).toEqual(['www/', 'www/index.html']);
      expect(pageIn(v1)).toBe(bodyOf('v1'));
      expect(pageIn(v2)).toBe(bodyOf('v2'));
      // Built once per set of images, the same bytes each time.
      expect(testImageArchive(wanted)).toBe(testImageArchive(wanted));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const row = (Hostname: string, Availability: string): NodeRow => ({ ID: `${Hostname}-id`, Hostname, Status: 'Ready', Availability, ManagerStatus: '', EngineVersion: '20.10.24' });

describe('hostsThatRunTasks', () => {
  const hosts = ['m1', 'm2', 'w1', 'w2', 'vm-a'].map((name) => ({ name }) as Host);
  const names = (list: readonly Host[]) => list.map((h) => h.name);

  it('leaves out the nodes at availability Drain', () => {
    const nodes = [row('m1', 'Drain'), row('m2', 'Drain'), row('w1', 'Active'), row('w2', 'Pause'), row('vm-a', 'Active')];
    expect(names(hostsThatRunTasks(hosts, nodes))).toEqual(['w1', 'w2', 'vm-a']);
  });

  it('keeps a host the list does not name (its hostname is not its platform name) and one with any entry not drained', () => {
    // m2 left the swarm drained and joined again: the old entry stays, Down and Drain.
    const nodes = [row('m1', 'Drain'), row('m2', 'Drain'), row('m2', 'Active'), row('w1', 'Active'), row('w2', 'Active')];
    expect(names(hostsThatRunTasks(hosts, nodes))).toEqual(['m2', 'w1', 'w2', 'vm-a']);
  });
});

describe('loadError', () => {
  it("finds Docker's words in what POST /images/load streamed back", () => {
    expect(loadError('{"stream":"Loaded image: swarm-molecule/web:v1\\n"}\n')).toBeUndefined();
    expect(loadError('{"errorDetail":{"message":"no space left on device"},"error":"no space left on device"}\n')).toBe('no space left on device');
    expect(loadError('not json')).toBe('not json');
  });
});

/**
 * A node for ensureTestImages: its image store (reference → ID), its Engine API
 * (dockerode as far as ensureTestImages uses it) or, with `cli`, only the CLI;
 * what it was asked, in order.
 */
function fakeNode(name: string, store: Map<string, string>, options: { cli?: boolean; nodes?: NodeRow[] | Error } = {}) {
  const asked: string[] = [];
  const loaded: Buffer[] = [];
  const loadArchive = (archive: Buffer) => {
    loaded.push(archive);
    const dir = mkdtempSync(join(tmpdir(), 'sm-images-load-'));
    try {
      writeFileSync(join(dir, 'a.tar'), archive);
      for (const image of readImageArchive(join(dir, 'a.tar')).images) for (const tag of image.tags) store.set(tag, image.id);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const nodesAnswer = () => {
    if (options.nodes instanceof Error) return Promise.reject(options.nodes);
    return Promise.resolve(
      (options.nodes ?? []).map((n) => ({ ID: n.ID, Version: { Index: 1 }, Spec: { Role: 'worker', Availability: n.Availability.toLowerCase() }, Description: { Hostname: n.Hostname }, Status: { State: 'ready' } })),
    );
  };
  const docker = {
    listNodes: () => (asked.push('GET /nodes'), nodesAnswer()),
    listImages: (opts: { filters: { reference: string[] } }) => {
      asked.push(`GET /images/json ${opts.filters.reference.join()}`);
      return Promise.resolve([...store].map(([reference, id]) => ({ Id: id, RepoTags: [reference] })));
    },
    loadImage: async (stream: Readable, opts: { quiet: boolean }) => {
      asked.push(`POST /images/load quiet=${opts.quiet}`);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      loadArchive(Buffer.concat(chunks));
      return (async function* answer() {
        yield Buffer.from('{"stream":"Loaded image"}\n');
      })();
    },
  } as unknown as Docker;
  const cli = (args: readonly string[], stdin?: unknown): string => {
    asked.push(`$ docker ${args.join(' ')}`);
    if (args[0] === 'load') {
      loadArchive(stdin as Buffer);
      return '';
    }
    if (args[0] === 'image' && args[1] === 'ls') return [...store].map(([reference, id]) => `${reference} ${id}`).join('\n');
    if (args[0] === 'node') return (options.nodes instanceof Array ? options.nodes : []).map((n) => JSON.stringify(n)).join('\n');
    throw new Error(`unexpected docker ${args.join(' ')}`);
  };
  const host = {
    name,
    docker: (args: readonly string[], o?: { stdin?: unknown }) => Promise.resolve(cli(args, o?.stdin)),
    engine: <T>(call: EngineCall<T>) => (options.cli ? Promise.resolve(undefined) : call.call(docker)),
  } as unknown as Host;
  return { host, asked, loaded, store };
}

describe.skipIf(!existsSync('/bin/busybox'))('ensureTestImages', () => {
  const id = (tag: 'v1' | 'v2' | 'broken') => testImages().get(tag)?.image.id ?? '';
  const swarm = [row('m1', 'Drain'), row('w1', 'Active'), row('w2', 'Active'), row('w3', 'Active')];

  it('loads one archive of what each active node lacks, through the Engine API; drained and complete nodes get nothing', async () => {
    const leader = fakeNode('m1', new Map(), { nodes: swarm });
    const empty = fakeNode('w1', new Map());
    const partial = fakeNode('w2', new Map([[TEST_IMAGES.v1, id('v1')], [TEST_IMAGES.v2, 'sha256:another-build']]));
    const complete = fakeNode('w3', new Map([[TEST_IMAGES.v1, id('v1')], [TEST_IMAGES.v2, id('v2')]]));
    const nodes = [leader, empty, partial, complete];
    const placed = await ensureTestImages({ hosts: nodes.map((n) => n.host), leader: () => leader.host }, ['v1', 'v2']);

    expect(placed.sort()).toEqual([`${TEST_IMAGES.v1} on w1`, `${TEST_IMAGES.v2} on w1`, `${TEST_IMAGES.v2} on w2`]);
    expect(leader.asked).toEqual(['GET /nodes']);
    expect(empty.asked).toEqual(['GET /images/json swarm-molecule/web', 'POST /images/load quiet=true']);
    expect(complete.asked).toEqual(['GET /images/json swarm-molecule/web']);
    // Each node gets just what it lacks, and then has the images by ID.
    expect(empty.loaded).toHaveLength(1);
    expect(empty.loaded[0]?.equals(testImageArchive([testImages().get('v1'), testImages().get('v2')].filter((i) => i !== undefined)))).toBe(true);
    expect(partial.store.get(TEST_IMAGES.v2)).toBe(id('v2'));
    expect(empty.store).toEqual(new Map([[TEST_IMAGES.v1, id('v1')], [TEST_IMAGES.v2, id('v2')]]));
    // A second time there is nothing to do.
    expect(await ensureTestImages({ hosts: nodes.map((n) => n.host), leader: () => leader.host }, ['v1', 'v2'])).toEqual([]);
  });

  it('loads with the docker CLI where the socket is not forwarded, and the same images land', async () => {
    const leader = fakeNode('m1', new Map(), { cli: true, nodes: swarm });
    const worker = fakeNode('w1', new Map(), { cli: true });
    const placed = await ensureTestImages({ hosts: [leader.host, worker.host], leader: () => leader.host }, ['broken']);
    expect(placed).toEqual([`${TEST_IMAGES.broken} on w1`]);
    expect(worker.asked).toEqual(['$ docker image ls --no-trunc --format {{.Repository}}:{{.Tag}} {{.ID}} swarm-molecule/web', '$ docker load --quiet']);
    expect(worker.store.get(TEST_IMAGES.broken)).toBe(id('broken'));
  });

  it('puts the images on every node when the leader cannot list the nodes, and on every host it is given as a list', async () => {
    const leader = fakeNode('m1', new Map(), { nodes: new Error('no quorum') });
    const worker = fakeNode('w1', new Map());
    expect((await ensureTestImages({ hosts: [leader.host, worker.host], leader: () => leader.host }, ['v1'])).sort()).toEqual([`${TEST_IMAGES.v1} on m1`, `${TEST_IMAGES.v1} on w1`]);

    const drained = fakeNode('m1', new Map(), { nodes: swarm });
    expect(await ensureTestImages([drained.host], ['v1'])).toEqual([`${TEST_IMAGES.v1} on m1`]);
    expect(drained.asked).not.toContain('GET /nodes');
  });

  it('stops on an interrupt while the nodes are listed', async () => {
    const leader = fakeNode('m1', new Map(), { nodes: new Interrupted('SIGINT') });
    await expect(ensureTestImages({ hosts: [leader.host], leader: () => leader.host }, ['v1'])).rejects.toBeInstanceOf(Interrupted);
  });

  it("fails naming the node and Docker's words when the load streams an error", async () => {
    const worker = fakeNode('w1', new Map());
    const failing = {
      ...worker.host,
      engine: <T>(call: EngineCall<T>) =>
        call.label === 'POST /images/load' ? Promise.resolve('{"error":"no space left on device"}\n' as T) : worker.host.engine(call),
    };
    await expect(ensureTestImages([failing], ['v1'])).rejects.toThrow('Loading the test images on w1 failed: no space left on device');
  });
});
