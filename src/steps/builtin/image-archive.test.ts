import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tar } from '../../transport/tar.js';
import { writeSaveArchive } from '../../../test/support/save-archive.js';
import { imagesOfManifest, readImageArchive } from './image-archive.js';

const dir = mkdtempSync(join(tmpdir(), 'sm-archive-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readImageArchive', () => {
  it('reads the image ID and tags of a docker save archive without reading its layers', async () => {
    const path = join(dir, 'app.tar');
    const id = await writeSaveArchive(path, { tag: 'unit/app:1', padBytes: 3 << 20 });
    const archive = readImageArchive(path);
    expect(archive.images).toEqual([{ id, tags: ['unit/app:1'] }]);
    expect(archive.bytes).toBeGreaterThan(3 << 20);
  });

  it('says when a file is not a docker save archive', () => {
    const path = join(dir, 'plain.tar');
    writeFileSync(path, tar([{ type: 'file', path: 'hello.txt', content: 'hi' }]));
    expect(() => readImageArchive(path)).toThrow(`${path} is not a "docker save" archive: it has no manifest.json`);
  });
});

describe('imagesOfManifest', () => {
  it('takes the ID from the config name in both layouts (legacy <hex>.json, OCI blobs/sha256/<hex>)', () => {
    const hex = 'a'.repeat(64);
    expect(imagesOfManifest(JSON.stringify([{ Config: `${hex}.json`, RepoTags: ['x:1'] }]), 'f')).toEqual([{ id: `sha256:${hex}`, tags: ['x:1'] }]);
    expect(imagesOfManifest(JSON.stringify([{ Config: `blobs/sha256/${hex}`, RepoTags: null }]), 'f')).toEqual([{ id: `sha256:${hex}`, tags: [] }]);
    expect(() => imagesOfManifest('[]', 'f')).toThrow('f: manifest.json lists no image');
  });
});
