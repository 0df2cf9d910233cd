import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testImages } from '../../../src/steps/builtin/images.js';
import { saveArchive, savedImage } from '../../../src/steps/builtin/save-format.js';
import { writeSaveArchive } from '../../support/save-archive.js';
import { startTestEngine, type TestEngine } from '../docker/support/engine.js';
import { swarmMolecule } from '../support/cli.js';
import { findLeftovers, leftoversSince, NOTHING_LEFT, type Leftovers } from '../support/leaks.js';

/**
 * Images from "the machine's Docker engine" onto the nodes (kind load docker-image):
 * the engine is the project's own dockerd in a netns with no route out (never this
 * machine's), reached through DOCKER_HOST as a user's would be.
 */
const SCENARIO = (images: string[]) => `driver:
  name: netns
platforms:
  - name: img-manager
    groups: [swarm-leader]
  - name: img-worker
    groups: [swarm-worker]
images:
${images.map((i) => `  - ${i}`).join('\n')}
converge:
  - step: swarm/init
  - step: swarm/join-workers
`;
const NODES = ['img-manager', 'img-worker'];

/** A web service of the loaded image, its port published in host mode, with a named (local) volume. */
const COMPOSE = `version: "3.8"
services:
  web:
    image: sm-e2e/app:1
    ports:
      - { target: 8080, published: 18091, mode: host }
    volumes:
      - data:/data
    stop_grace_period: 1s
    deploy:
      replicas: 1
volumes:
  data: {}
`;
const STACK_STEPS = `  - step: swarm/stack
    with: { name: app, compose: compose.yml }
verify:
  - step: swarm/stack-healthy
    with: { stack: app, timeout: 60s, stable: 2s }
  - step: swarm/http
    with:
      published: { service: app_web, port: 18091 }
      body: swarm-molecule web v1
      timeout: 30s
  - step: swarm/volume-survives
    with: { service: app_web }
  - step: swarm/volume-survives
    name: volume after a restart
    with: { service: app_web, force: restart }
`;

describe('workloads: images from the Docker engine and from archives, on real nodes (netns driver)', () => {
  let engine: TestEngine;
  let env: Record<string, string>;
  let project: string;
  let scenarioDir: string;
  let before: Leftovers;
  const ids: Record<string, string> = {};
  const run = ([command = '', ...args]: string[]) => swarmMolecule([command, '-s', 'images', ...args], project, env);
  const short = (id: string) => id.replace('sha256:', '').slice(0, 12);

  /** Put `reference` in the test engine: the test image (as fixtures/images), its ID made unique by a label. */
  async function buildInEngine(reference: string, tag: 'v1' | 'v2'): Promise<string> {
    const image = testImages().get(tag);
    if (!image) throw new Error(`no test image ${tag}`);
    const unique = savedImage({ ...image.spec, labels: { 'io.swarm-molecule.e2e': randomBytes(4).toString('hex') } });
    await execa('docker', ['-H', env.DOCKER_HOST ?? '', 'load', '--quiet'], { input: saveArchive([{ image: unique, tags: [reference] }]) });
    return (await engine.docker.getImage(reference).inspect()).Id;
  }

  beforeAll(async () => {
    engine = await startTestEngine({ nodes: false });
    env = { DOCKER_HOST: `unix://${engine.socket}` };
    project = mkdtempSync(join(tmpdir(), 'sm-images-'));
    scenarioDir = join(project, 'scenarios', 'images');
    mkdirSync(scenarioDir, { recursive: true });
    before = findLeftovers([project]);
    ids.app1 = await buildInEngine('sm-e2e/app:1', 'v1');
    ids.app2 = await buildInEngine('sm-e2e/app:2', 'v2');
    ids.archive = await writeSaveArchive(join(scenarioDir, 'extra.tar'), { tag: 'sm-e2e/extra:1', padBytes: 4 << 20 });
  });

  afterAll(async () => {
    try {
      if (project) {
        const destroy = await run(['destroy']);
        expect(destroy.exitCode, destroy.all).toBe(0);
        // No archive saved from the engine is left in the run's directory.
        expect(existsSync(join(project, '.swarm-molecule', 'images', 'images-tmp'))).toBe(false);
        expect(leftoversSince(before)).toEqual(NOTHING_LEFT);
        rmSync(project, { recursive: true, force: true });
      }
    } finally {
      await engine?.stop();
    }
  });

  it('refuses an image the engine does not have at syntax (exit 2), naming it, the engine and the entry', async () => {
    writeFileSync(join(scenarioDir, 'scenario.yml'), SCENARIO(['sm-e2e/app:1', 'sm-e2e/missing:1', 'nothere.tar']));
    const syntax = await run(['syntax']);
    expect(syntax.exitCode, syntax.all).toBe(2);
    expect(syntax.all).toMatch(/scenario\.yml:10:5/);
    expect(syntax.all).toContain(`Image sm-e2e/missing:1 is not in the Docker engine at unix://${engine.socket} (DOCKER_HOST).`);
    expect(syntax.all).toMatch(/scenario\.yml:11:5/);
    expect(syntax.all).toContain(`The image archive nothere.tar does not exist (looked for ${join(scenarioDir, 'nothere.tar')}).`);
    expect(syntax.all).not.toContain('sm-e2e/app:1 is not');
    // Nothing was made.
    const state = join(project, '.swarm-molecule', 'images', 'state.json');
    if (existsSync(state)) expect((JSON.parse(readFileSync(state, 'utf8')) as { created?: boolean }).created).toBeFalsy();
  });

  it('converge loads the engine image and the archive on every node; a second converge loads nothing', async () => {
    writeFileSync(join(scenarioDir, 'scenario.yml'), SCENARIO(['sm-e2e/app:1', 'extra.tar']));
    const syntax = await run(['syntax']);
    expect(syntax.exitCode, syntax.all).toBe(0);

    const first = await run(['converge']);
    expect(first.exitCode, first.all).toBe(0);
    for (const node of NODES) {
      expect(first.all).toMatch(new RegExp(`changed\\s+${node} .*image sm-e2e/app:1: \\(none\\) → loaded ${short(ids.app1 ?? '')} \\([\\d.]+ MB in [\\d.]+ s, [\\d.]+ MB/s\\); image extra\\.tar: \\(none\\) → loaded ${short(ids.archive ?? '')}`));
      // Plain output (not a terminal): a line per node when it has loaded an image.
      expect(first.all).toMatch(new RegExp(`sm-e2e/app:1: ${node} loaded \\([\\d.]+ MB in`));
    }
    // The node has the engine's image under its ID and tag, and it runs.
    for (const node of NODES) {
      const inspect = await run(['exec', '-h', node, '--', 'docker', 'image', 'inspect', '--format', '{{.Id}} {{json .RepoTags}}', 'sm-e2e/app:1']);
      expect(inspect.all.trim()).toBe(`${ids.app1 ?? ''} ["sm-e2e/app:1"]`);
    }
    const body = await run(['exec', '-h', 'img-worker', '--', 'docker', 'run', '--rm', 'sm-e2e/app:1', '/bin/busybox', 'cat', '/www/index.html']);
    expect(body.all).toContain('swarm-molecule web v1');

    const second = await run(['idempotence']);
    expect(second.exitCode, second.all).toBe(0);
    for (const node of NODES) expect(second.all).toMatch(new RegExp(`ok\\s+${node} .*2 image\\(s\\) present`));
    expect(second.all).not.toContain('loaded');
  });

  it('a stack of the loaded image: swarm/http from the harness to its host-mode port, swarm/volume-survives on its local volume', async () => {
    writeFileSync(join(scenarioDir, 'compose.yml'), COMPOSE);
    writeFileSync(join(scenarioDir, 'scenario.yml'), `${SCENARIO(['sm-e2e/app:1', 'extra.tar'])}${STACK_STEPS}`);
    const converge = await run(['converge']);
    expect(converge.exitCode, converge.all).toBe(0);
    expect(converge.all).toMatch(/service app_web: \(none\) → created/);

    const verify = await run(['verify']);
    const output = verify.all;
    expect(verify.exitCode, output).toBe(0);
    expect(output).toMatch(/passed\s+swarm\/http/);
    expect(output).toMatch(/GET http:\/\/10\.\d+\.\d+\.\d+:18091\/ \(img-(manager|worker)\): 200 in \d+ ms, body "swarm-molecule web v1"/);
    expect(output).toMatch(/passed\s+swarm\/volume-survives/);
    expect(output).toMatch(/wrote a marker to \/data\/\.swarm-molecule-volume-survives-\w+ \(volume app_data, driver local\) in app_web\.1 on img-(manager|worker)/);
    // Moved off its node, the task starts with the other node's own volume: the step says so and finds the marker where it was written.
    expect(output).toMatch(/a local volume does not follow the task to another node: the task moved img-(manager|worker) → img-(manager|worker) and starts with that node's own volume; the marker stayed on img-\w+, where it was written/);
    expect(output).toMatch(/passed\s+volume after a restart/);

    // The step gave back the placement it changed, and left no marker in either node's volume.
    const spec = await run(['exec', '-h', 'img-manager', '--', 'docker', 'service', 'inspect', '--format', '{{json .Spec.TaskTemplate.Placement}}', 'app_web']);
    expect(spec.all).not.toContain('node.hostname!=');
    for (const node of NODES) {
      const files = await run(['exec', '-h', node, '--', 'sh', '-c', 'ls -A "$(docker volume inspect --format "{{.Mountpoint}}" app_data 2>/dev/null || echo /nonexistent)" 2>/dev/null; true']);
      expect(files.all).not.toContain('.swarm-molecule-volume-survives');
    }

    // A body that does not match fails swarm/http with what each node answered.
    writeFileSync(join(scenarioDir, 'scenario.yml'), `${SCENARIO(['sm-e2e/app:1', 'extra.tar'])}${STACK_STEPS.replace('body: swarm-molecule web v1', 'body: swarm-molecule web v9')}`);
    const wrong = await run(['verify', '--step', 'swarm/http']);
    expect(wrong.exitCode, wrong.all).toBe(1);
    expect(wrong.all).toMatch(/GET http:\/\/NODE:18091\/ from the harness: img-(manager|worker): the body does not match \/swarm-molecule web v9\//);
  });

  it('images load -s NAME IMAGE… loads on the nodes that lack it, skips it after, refuses a missing one (exit 2)', async () => {
    const load = await run(['images', 'load', 'sm-e2e/app:2', 'sm-e2e/app:1']);
    expect(load.exitCode, load.all).toBe(0);
    for (const node of NODES) {
      expect(load.all).toMatch(new RegExp(`changed\\s+${node}\\s+image sm-e2e/app:2: \\(none\\) → loaded ${short(ids.app2 ?? '')} \\([\\d.]+ MB in`));
      expect(load.all).toMatch(new RegExp(`sm-e2e/app:2: ${node} loaded`));
    }
    const again = await run(['images', 'load', 'sm-e2e/app:2']);
    expect(again.exitCode, again.all).toBe(0);
    for (const node of NODES) expect(again.all).toMatch(new RegExp(`ok\\s+${node}\\s+1 image\\(s\\) present`));

    const missing = await run(['images', 'load', 'sm-e2e/app:9']);
    expect(missing.exitCode, missing.all).toBe(2);
    expect(missing.all).toContain(`Image sm-e2e/app:9 is not in the Docker engine at unix://${engine.socket} (DOCKER_HOST).`);
    const bad = await run(['images', 'load', 'Not An Image']);
    expect(bad.exitCode, bad.all).toBe(2);
    expect(bad.all).toContain('"Not An Image" is neither an image reference nor a .tar archive.');
  });
});
