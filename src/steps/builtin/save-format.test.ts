import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readImageArchive } from './image-archive.js';
import { dockerArchitecture, layer, saveArchive, savedImage } from './save-format.js';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

const base = layer([
  { type: 'dir', path: 'bin' },
  { type: 'file', path: 'bin/tool', content: 'tool', mode: 0o755 },
]);
const extra = layer([{ type: 'file', path: 'extra', content: 'more' }]);
const one = savedImage({ layers: [base], cmd: ['/bin/tool'], history: ['base'], architecture: 'amd64' });
const two = savedImage({ layers: [base, extra], cmd: ['/bin/tool', 'x'], labels: { a: 'b' }, history: ['base', 'extra'], architecture: 'amd64' });

/** Unpack an archive with tar(1): each file's bytes by path. */
function unpack(archive: Buffer): { files: Map<string, Buffer>; path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sm-save-format-'));
  const path = join(dir, 'archive.tar');
  writeFileSync(path, archive);
  const names = execFileSync('tar', ['-tf', path], { encoding: 'utf8' }).split('\n').filter((n) => n !== '' && !n.endsWith('/'));
  const files = new Map(names.map((name) => [name, execFileSync('tar', ['-xOf', path, name])]));
  return { files, path, dir };
}

describe('savedImage', () => {
  it('writes the image config Docker reads, its ID the SHA-256 of the config', () => {
    expect(one.id).toBe(`sha256:${sha256(one.config)}`);
    expect(base.diffId).toBe(`sha256:${sha256(base.tar)}`);
    const config = JSON.parse(two.config) as Record<string, unknown>;
    expect(config).toEqual({
      architecture: 'amd64',
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config: { Cmd: ['/bin/tool', 'x'], Labels: { a: 'b' } },
      rootfs: { type: 'layers', diff_ids: [base.diffId, extra.diffId] },
      history: [
        { created: '1970-01-01T00:00:00Z', created_by: 'base' },
        { created: '1970-01-01T00:00:00Z', created_by: 'extra' },
      ],
    });
  });

  it('gives the same ID for the same image, another for another command', () => {
    expect(savedImage({ layers: [base], cmd: ['/bin/tool'], history: ['base'], architecture: 'amd64' }).id).toBe(one.id);
    expect(savedImage({ layers: [base], cmd: ['/bin/other'], history: ['base'], architecture: 'amd64' }).id).not.toBe(one.id);
  });

  it('wants a history line per layer', () => {
    expect(() => savedImage({ layers: [base, extra], cmd: [], history: ['base'], architecture: 'amd64' })).toThrow(/one history line per layer/);
  });
});

describe('saveArchive', () => {
  it('holds a shared layer once, each config under its digest, and a manifest that names them', () => {
    const archive = saveArchive([
      { image: one, tags: ['t/one:1'] },
      { image: two, tags: ['t/two:1', 't/two:latest'] },
    ]);
    const { files, path, dir } = unpack(archive);
    try {
      const hex = (digest: string) => digest.replace('sha256:', '');
      expect([...files.keys()].sort()).toEqual(
        [`${hex(base.diffId)}/layer.tar`, `${hex(extra.diffId)}/layer.tar`, `${hex(one.id)}.json`, `${hex(two.id)}.json`, 'manifest.json'].sort(),
      );
      const manifest = JSON.parse(files.get('manifest.json')?.toString() ?? '') as { Config: string; RepoTags: string[]; Layers: string[] }[];
      expect(manifest).toEqual([
        { Config: `${hex(one.id)}.json`, RepoTags: ['t/one:1'], Layers: [`${hex(base.diffId)}/layer.tar`] },
        { Config: `${hex(two.id)}.json`, RepoTags: ['t/two:1', 't/two:latest'], Layers: [`${hex(base.diffId)}/layer.tar`, `${hex(extra.diffId)}/layer.tar`] },
      ]);
      // What docker load checks: each config file is its ID, each layer its diff ID in the config.
      for (const entry of manifest) {
        const config = files.get(entry.Config) as Buffer;
        expect(`${sha256(config)}.json`).toBe(entry.Config);
        const diffIds = (JSON.parse(config.toString()) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
        expect(entry.Layers.map((l) => `sha256:${sha256(files.get(l) as Buffer)}`)).toEqual(diffIds);
      }
      // The reader `swarm/images` uses sees the same images.
      expect(readImageArchive(path).images).toEqual([
        { id: one.id, tags: ['t/one:1'] },
        { id: two.id, tags: ['t/two:1', 't/two:latest'] },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is the same bytes for the same images', () => {
    const a = saveArchive([{ image: two, tags: ['t/two:1'] }]);
    expect(saveArchive([{ image: two, tags: ['t/two:1'] }]).equals(a)).toBe(true);
  });
});

describe('dockerArchitecture', () => {
  it("names Node's architectures as Docker does", () => {
    expect(dockerArchitecture('x64')).toBe('amd64');
    expect(dockerArchitecture('arm64')).toBe('arm64');
    expect(dockerArchitecture('mips')).toBe('mips');
  });
});
