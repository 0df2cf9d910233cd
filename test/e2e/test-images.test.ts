import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testImages, TEST_IMAGES } from '../../src/steps/builtin/images.js';
import { repoRoot, swarmMolecule } from './support/cli.js';
import { findLeftovers, leftoversSince, NOTHING_LEFT, type Leftovers } from './support/leaks.js';

const project = join(repoRoot, 'fixtures', 'projects', 'test-images');
const run = (args: string[]) => swarmMolecule(args, project);

/** The test images a node has: `reference ID` lines, sorted. */
async function imagesOn(node: string): Promise<string[]> {
  const ls = await run(['exec', '-h', node, '--', 'docker', 'image', 'ls', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}', 'swarm-molecule/web']);
  expect(ls.exitCode, ls.all).toBe(0);
  return ls.stdout.split('\n').filter(Boolean).sort();
}

describe('the test images on real nodes (netns driver)', () => {
  let before: Leftovers;
  beforeAll(() => {
    before = findLeftovers();
  });
  afterAll(async () => {
    const destroy = await run(['destroy']);
    expect(destroy.exitCode, destroy.all).toBe(0);
    expect(leftoversSince(before)).toEqual(NOTHING_LEFT);
  });

  it('loads them on the nodes that can run a task, under the IDs built here, and a rolling update runs them', async () => {
    const converge = await run(['converge']);
    expect(converge.exitCode, converge.all).toBe(0);
    const verify = await run(['verify']);
    expect(verify.exitCode, verify.all).toBe(0);
    // 3 images on 2 workers; the drained manager gets none.
    expect(verify.all).toMatch(/swarm\/rolling-update: loaded 6 test image\(s\) on the nodes in [\d.]+ s/);
    expect(verify.all).toMatch(/swarm\/rolling-update: 2 tasks of swarm-molecule\/web:v1 running on timg-worker-\d(, timg-worker-\d)?$/m);
    const expected = [...testImages().values()].map((i) => `${i.reference} ${i.image.id}`).sort();
    expect(await imagesOn('timg-worker-1')).toEqual(expected);
    expect(await imagesOn('timg-worker-2')).toEqual(expected);
    expect(await imagesOn('timg-manager')).toEqual([]);
    // The IDs are the ones built here, so the next step finds them there and loads nothing.
    expect(expected.map((line) => line.split(' ')[0])).toEqual(Object.values(TEST_IMAGES).sort());
  });
});
