/**
 * One measurement of the scenario `images:` list taking an image from a Docker
 * engine: a project-owned engine (a dockerd in a netns with no route out) holds a
 * ~100 MB image; a scenario of N nodes lists it; `converge` (max RSS of the CLI,
 * from /usr/bin/time) loads it, the second converge skips it on every node.
 * Run: npx jiti bench/engine-image.ts [nodes]
 */
import { createReadStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { startTestEngine } from '../test/e2e/docker/support/engine.js';
import { writeSaveArchive } from '../test/support/save-archive.js';

const nodes = Number(process.argv[2] ?? 2);
const root = new URL('../', import.meta.url).pathname;
const engine = await startTestEngine();
const project = mkdtempSync(join(tmpdir(), 'sm-bench-engine-image-'));
try {
  const archive = join(project, 'big.tar');
  await writeSaveArchive(archive, { tag: 'bench/big:1', padBytes: 100 * 1e6 });
  const bytes = statSync(archive).size;
  await engine.docker.loadImage(createReadStream(archive)).then((stream) => new Promise((resolve, reject) => engine.docker.modem.followProgress(stream, (error) => (error ? reject(error) : resolve(undefined)))));
  rmSync(archive);
  const dir = join(project, 'scenarios', 'engine-image');
  mkdirSync(dir, { recursive: true });
  const platforms = Array.from({ length: nodes }, (_, i) => `  - name: eimg-${String(i + 1).padStart(2, '0')}\n`).join('');
  writeFileSync(join(dir, 'scenario.yml'), `platforms:\n${platforms}images:\n  - bench/big:1\n`);
  const env = { DOCKER_HOST: `unix://${engine.socket}`, CI: 'true', NO_COLOR: '1' };
  const cli = (args: string[]) =>
    execa('/usr/bin/time', ['-f', 'maxrss_kb=%M elapsed_s=%e', 'node', join(root, 'bin/swarm-molecule.js'), ...args, '-s', 'engine-image'], { cwd: project, env, reject: false, all: true });
  const figure = (out: string) => /maxrss_kb=(\d+) elapsed_s=([\d.]+)/.exec(out)?.slice(1).map(Number) ?? [NaN, NaN];
  await cli(['create']);
  const first = await cli(['converge']);
  const second = await cli(['converge']);
  const [rss1 = NaN, s1 = NaN] = figure(first.all);
  const [rss2 = NaN, s2 = NaN] = figure(second.all);
  console.log(first.all.split('\n').filter((l) => /bench\/big|images/.test(l)).join('\n'));
  console.log(`image ${(bytes / 1e6).toFixed(1)} MB to ${nodes} nodes: converge ${s1} s (create excluded), max RSS ${(rss1 / 1024).toFixed(0)} MiB; second converge ${s2} s, max RSS ${(rss2 / 1024).toFixed(0)} MiB; exit ${first.exitCode}/${second.exitCode}`);
  await cli(['destroy']);
} finally {
  rmSync(project, { recursive: true, force: true });
  await engine.stop();
}
