import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { CommandResult, RunOptions } from '../../transport/index.js';
import { tar } from '../../transport/tar.js';
import type { Host } from '../api.js';
import type { LocalEngine } from './engine.js';
import { loadImages, type LoadOptions } from './load.js';
import { LoadProgress, terminalView } from './progress.js';
import { findImages, parseImageEntry, withTag, type ImageToLoad } from './sources.js';

const dir = mkdtempSync(join(tmpdir(), 'sm-images-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hex = (c: string) => c.repeat(64);
const ID = `sha256:${hex('a')}`;

/** A `docker save` archive of one image, with `padding` bytes of layer to make it bigger than one read. */
function archive(path: string, id: string, tags: string[], padding = 600_000): string {
  const manifest = JSON.stringify([{ Config: `${id.replace('sha256:', '')}.json`, RepoTags: tags, Layers: ['layer.tar'] }]);
  writeFileSync(path, tar([{ type: 'file', path: 'layer.tar', content: Buffer.alloc(padding, 1) }, { type: 'file', path: 'manifest.json', content: manifest }]));
  return path;
}

/**
 * A node with an image store in memory: `docker image inspect`, `docker tag`
 * and `docker load` (which reads its whole stdin, then has what the archive
 * under test holds). Every command it ran is kept.
 */
function fakeHost(name: string, images: Map<string, string[]>, loads: { id: string; tags: string[] }, failLoad = false): Host & { commands: string[]; received: number } {
  const host = {
    name,
    address: '10.0.0.1',
    groups: [],
    labels: {},
    commands: [] as string[],
    received: 0,
    async run(argv: readonly string[], options?: RunOptions): Promise<CommandResult> {
      host.commands.push(argv.join(' '));
      const result = (exitCode: number, stdout = '', stderr = ''): CommandResult => ({ argv: [...argv], exitCode, stdout, stderr, durationMs: 1 });
      if (argv[1] === 'image' && argv[2] === 'inspect') {
        const tags = images.get(argv.at(-1) ?? '');
        return tags ? result(0, JSON.stringify(tags)) : result(1, '', `Error: No such image: ${argv.at(-1) ?? ''}`);
      }
      if (argv[1] === 'tag') {
        images.get(argv[2] ?? '')?.push(argv[3] ?? '');
        return result(0);
      }
      if (argv[1] === 'load') {
        for await (const chunk of options?.stdin as Readable) host.received += (chunk as Buffer).length;
        if (failLoad) return result(1, '', 'open /var/lib/docker/tmp: no such file or directory');
        images.set(loads.id, [...loads.tags]);
        return result(0, `Loaded image: ${loads.tags[0] ?? ''}`);
      }
      return result(127, '', 'unexpected');
    },
    async check(argv: readonly string[], options?: RunOptions) {
      const r = await host.run(argv, options);
      if (r.exitCode !== 0) throw new Error(r.stderr);
      return r.stdout;
    },
    docker: (args: readonly string[], options?: RunOptions) => host.check(['docker', ...args], options),
    read: (argv: readonly string[]) => host.check(argv),
    dockerApi: () => Promise.reject(new Error('no API')),
    // No Engine API on this fake node: the built-in paths use the CLI.
    engine: async () => undefined,
  };
  return host;
}

const lines: string[] = [];
const options = (tmpDir = join(dir, 'tmp')): LoadOptions => ({ tmpDir, signal: new AbortController().signal, timeoutMs: 60_000, progress: { line: (l) => lines.push(l) } });

describe('loadImages', () => {
  it('loads an archive on the nodes that lack its ID, tags it where only the tag is missing, and leaves the rest alone', async () => {
    // 2 MB: each 256 KiB read is less than a quarter of it.
    const path = archive(join(dir, 'app.tar'), ID, ['app:1'], 2_000_000);
    const image: ImageToLoad = { entry: 'app.tar', images: [{ id: ID, tags: ['app:1'] }], bytes: 0, from: { archive: path } };
    const has = fakeHost('has', new Map([[ID, ['app:1']]]), { id: ID, tags: ['app:1'] });
    const lacks = fakeHost('lacks', new Map(), { id: ID, tags: ['app:1'] });
    const untagged = fakeHost('untagged', new Map([[ID, []]]), { id: ID, tags: ['app:1'] });
    lines.length = 0;
    const results = await loadImages([has, lacks, untagged], [image], options());

    expect(results.map((r) => [r.host, r.status])).toEqual([['has', 'ok'], ['lacks', 'changed'], ['untagged', 'changed']]);
    expect(results[0]?.message).toBe('1 image(s) present');
    expect(results[1]?.changes[0]).toMatch(/^image app\.tar: \(none\) → loaded aaaaaaaaaaaa \(2\.0 MB in [\d.]+ s, [\d.]+ MB\/s\)$/);
    expect(results[2]?.changes).toEqual(['image app:1: (untagged) → aaaaaaaaaaaa']);
    // The whole archive went to the node that lacked it, and nothing to the others.
    expect(lacks.received).toBe(statSync(path).size);
    expect(has.commands.filter((c) => c.includes('load'))).toEqual([]);
    expect(untagged.commands).toContain(`docker tag ${ID} app:1`);
    // Plain output: the quarters of the node's transfer, then what it loaded.
    expect(lines).toEqual([expect.stringMatching(/^app\.tar: lacks 0\.\d\/2\.0 MB \(25%\)$/), expect.stringMatching(/\(50%\)$/), expect.stringMatching(/\(75%\)$/), expect.stringMatching(/^app\.tar: lacks loaded \(2\.0 MB in /)]);
  });

  it('saves an image from the engine once for every node that lacks it, to a file it removes after', async () => {
    const saves: string[] = [];
    const engine: LocalEngine = {
      address: 'unix:///fake.sock',
      inspect: () => Promise.resolve({ id: ID, bytes: 1 }),
      save: (reference, path) => {
        saves.push(reference);
        archive(path, ID, [reference]);
        return Promise.resolve();
      },
    };
    const image: ImageToLoad = { entry: 'app:1', images: [{ id: ID, tags: ['app:1'] }], bytes: 1, from: { engine, reference: 'app:1' } };
    const tmp = join(dir, 'engine-tmp');
    const a = fakeHost('a', new Map(), { id: ID, tags: ['app:1'] });
    const b = fakeHost('b', new Map(), { id: ID, tags: ['app:1'] });
    const results = await loadImages([a, b], [image], options(tmp));
    expect(results.map((r) => r.status)).toEqual(['changed', 'changed']);
    expect(saves).toEqual(['app:1']);
    expect(a.received).toBeGreaterThan(600_000);
    expect(b.received).toBe(a.received);
    expect(readdirSync(dir)).not.toContain('engine-tmp');

    // A second load: every node has the ID, nothing is saved or sent.
    const again = await loadImages([a, b], [image], options(tmp));
    expect(again.map((r) => `${r.status} ${r.message ?? ''}`)).toEqual(['ok 1 image(s) present', 'ok 1 image(s) present']);
    expect(saves).toHaveLength(1);
  });

  it('fails the nodes when the engine saved another image than the one looked up (the tag moved)', async () => {
    const engine: LocalEngine = {
      address: 'unix:///fake.sock',
      inspect: () => Promise.resolve({ id: ID, bytes: 1 }),
      save: (reference, path) => Promise.resolve(void archive(path, `sha256:${hex('b')}`, [reference])),
    };
    const image: ImageToLoad = { entry: 'app:1', images: [{ id: ID, tags: ['app:1'] }], bytes: 1, from: { engine, reference: 'app:1' } };
    const node = fakeHost('a', new Map(), { id: ID, tags: ['app:1'] });
    const [result] = await loadImages([node], [image], options(join(dir, 'moved-tmp')));
    expect(result?.status).toBe('failed');
    expect(result?.message).toBe('app:1 changed in the Docker engine at unix:///fake.sock while it was saved (now bbbbbbbbbbbb, was aaaaaaaaaaaa)');
    expect(node.received).toBe(0);
    expect(readdirSync(dir)).not.toContain('moved-tmp');
  });

  it('a node whose load fails fails alone', async () => {
    const path = archive(join(dir, 'two.tar'), ID, ['two:1']);
    const image: ImageToLoad = { entry: 'two.tar', images: [{ id: ID, tags: ['two:1'] }], bytes: 0, from: { archive: path } };
    const good = fakeHost('good', new Map(), { id: ID, tags: ['two:1'] });
    const bad = fakeHost('bad', new Map(), { id: ID, tags: ['two:1'] }, true);
    const results = await loadImages([good, bad], [image], options());
    expect(results.map((r) => r.status)).toEqual(['changed', 'failed']);
    expect(results[1]?.message).toContain('no such file or directory');
  });
});

describe('image entries', () => {
  it('reads .tar as an archive and anything else as a reference, :latest when untagged', () => {
    expect(parseImageEntry('images/app.tar')).toEqual({ kind: 'archive', entry: 'images/app.tar' });
    expect(parseImageEntry('myorg/app')).toEqual({ kind: 'reference', entry: 'myorg/app', reference: 'myorg/app:latest' });
    expect(withTag('localhost:5000/app')).toBe('localhost:5000/app:latest');
    expect(withTag('localhost:5000/app:2')).toBe('localhost:5000/app:2');
    expect(withTag(`app@sha256:${hex('c')}`)).toBe(`app@sha256:${hex('c')}`);
    expect(withTag(`sha256:${hex('c')}`)).toBe(`sha256:${hex('c')}`);
  });

  it('names a missing archive and where it looked, and a missing image and the engine it asked', async () => {
    const { found, problems } = await findImages(['missing.tar'], dir);
    expect(found).toEqual([]);
    expect(problems.map((p) => [p.index, p.message])).toEqual([[0, `The image archive missing.tar does not exist (looked for ${join(dir, 'missing.tar')}).`]]);
  });
});

describe('progress', () => {
  it('redraws one line with every node on a terminal, and leaves a line per node when it is done', () => {
    const written: string[] = [];
    const view = terminalView({ isTTY: true, write: (t: string) => written.push(t) });
    const progress = new LoadProgress('app:1', 2_000_000, ['a', 'b'], view, 0);
    progress.advance('a', 1_000_000);
    progress.advance('b', 2_000_000);
    progress.done('b', 'loaded');
    view.end();
    expect(written[0]).toBe('\r\x1b[2Kapp:1 (2.0 MB) → a 0.0/2.0 MB · b 0.0/2.0 MB');
    expect(written).toContain('\r\x1b[2Kapp:1 (2.0 MB) → a 1.0/2.0 MB · b 2.0/2.0 MB');
    expect(written).toContain('app:1: b loaded\n');
    expect(written.filter((t) => t.includes('\n')).every((t) => t.startsWith('app:1: '))).toBe(true);
  });
});
