import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { repoRoot, swarmMolecule } from './support/cli.js';
import { findLeftovers, leftoversSince, NOTHING_LEFT, type Leftovers } from './support/leaks.js';
import { machineGroupEntries } from './support/machine.js';

// Each netns node boots its own root filesystem (an overlay on the cached node
// image): what a node writes stays on it, and nothing of this machine leaks in.
const project = join(repoRoot, 'fixtures', 'projects', 'hermetic');
const NODES = ['hermetic-01', 'hermetic-02'];

/**
 * What the scenario's converge writes, as this machine would show it had a node
 * shared its root filesystem: the nodes' groups, root's ~/.bashrc, /usr/local/bin/x
 * and procps's selection in the dpkg database. Only those, never whole system
 * files, which other suites on this machine change while this test runs.
 */
const fileHash = (f: string) => (existsSync(f) ? createHash('sha256').update(readFileSync(f)).digest('hex') : 'absent');
const dpkgStanza = (name: string) => readFileSync('/var/lib/dpkg/status', 'utf8').split('\n\n').find((stanza) => stanza.startsWith(`Package: ${name}\n`)) ?? 'absent';
const machineView = () => ({
  groups: machineGroupEntries('hermetic-'),
  '/root/.bashrc': fileHash('/root/.bashrc'),
  '/usr/local/bin/x': fileHash('/usr/local/bin/x'),
  'dpkg procps': dpkgStanza('procps'),
});

const exec = (node: string, ...argv: string[]) => swarmMolecule(['exec', '-h', node, '--', ...argv], project);

/** PIDs whose mount namespace still has an overlay with an upper dir under `dir`. */
function overlaysUnder(dir: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/mountinfo`, 'utf8').includes(`upperdir=${dir}`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('hermetic nodes (netns driver)', () => {
  let before: Leftovers;
  beforeEach(() => {
    before = findLeftovers();
  });
  afterEach(() => {
    expect(leftoversSince(before)).toEqual(NOTHING_LEFT);
  });

  it('keeps every node to its own root filesystem, home and environment', async () => {
    const machineBefore = machineView();
    // No node's group on this machine to begin with, so one that leaked would show.
    expect(machineBefore.groups).toEqual([]);
    // What bit nodes that shared this machine's home: a slow ~/.bashrc and a stale lock file.
    // The planted line is slow only for this test's nodes, so other runs on the machine are not slowed.
    const bashrc = readFileSync('/root/.bashrc');
    const lock = '/root/.swarm-molecule-hermetic-test.lock';
    const planted = `\n# planted by test/e2e/hermetic.test.ts\ncase "$(cat /proc/sys/kernel/hostname)" in hermetic-0*) sleep 5 ;; esac\nexport HERMETIC_PLANTED=1\n`;
    let runDir: string | undefined;
    try {
      writeFileSync('/root/.bashrc', Buffer.concat([bashrc, Buffer.from(planted)]));
      writeFileSync(lock, `${process.pid}\n`);

      const converge = await swarmMolecule(['converge'], project);
      expect(converge.exitCode, converge.all).toBe(0);
      expect(converge.all).toMatch(/changed\s+hermetic-02 .*task "A group named after the node": changed/);
      const state = JSON.parse(readFileSync(join(project, '.swarm-molecule', 'default', 'state.json'), 'utf8')) as {
        driverState: { data: { runDir: string }; nodes: { name: string; data: { dir: string; rootfs: string } }[] };
      };
      runDir = state.driverState.data.runDir;
      const rootfs = state.driverState.nodes[0]?.data.rootfs ?? '';
      expect(rootfs).toMatch(/\/node-[0-9a-f]{12}\/rootfs$/);

      for (const node of NODES) {
        const other = NODES.find((n) => n !== node) ?? '';
        // Its own writes, and not the other node's.
        expect((await exec(node, 'x')).stdout.trim()).toBe(node);
        expect((await exec(node, 'getent', 'group', `hermetic-${node}`)).exitCode).toBe(0);
        expect((await exec(node, 'getent', 'group', `hermetic-${other}`)).exitCode).toBe(2);
        expect((await exec(node, 'dpkg', '--get-selections', 'procps')).stdout).toMatch(/procps\s+hold/);
        // The image's home, with the node's own line; nothing planted on this machine.
        const home = await exec(node, 'sh', '-c', 'cat ~/.bashrc; ls -a ~; echo "planted=${HERMETIC_PLANTED:-no}"');
        expect(home.stdout).toContain(`export HERMETIC_NODE=${node}`);
        expect(home.stdout).not.toContain('planted by test');
        expect(home.stdout).not.toContain('.swarm-molecule-hermetic-test.lock');
        expect(home.stdout).not.toContain('.pyenv');
        expect(home.stdout).toContain('planted=no');
        // The image's docker, client and server.
        expect((await exec(node, 'sh', '-c', 'command -v docker')).stdout.trim()).toBe('/usr/bin/docker');
        const imageDocker = createHash('sha256').update(readFileSync(join(rootfs, 'usr/bin/docker'))).digest('hex');
        expect((await exec(node, 'sha256sum', '/usr/bin/docker')).stdout).toContain(imageDocker);
        const versions = (await exec(node, 'docker', 'version', '--format', '{{.Client.Version}} {{.Server.Version}}')).stdout.trim().split(' ');
        expect(versions[0]).toMatch(/^20\.10\./);
        expect(versions[1]).toBe(versions[0]);
        // Python for Ansible, no route out.
        expect((await exec(node, 'python3', '--version')).exitCode).toBe(0);
        expect((await exec(node, 'ip', 'route', 'show', 'default')).stdout.trim()).toBe('');
      }
      // The image itself is never written to.
      expect(existsSync(join(rootfs, 'usr/local/bin/x'))).toBe(false);

      const destroy = await swarmMolecule(['destroy'], project);
      expect(destroy.exitCode, destroy.all).toBe(0);
      expect(existsSync(runDir)).toBe(false);
      expect(overlaysUnder(runDir)).toEqual([]);
    } finally {
      writeFileSync('/root/.bashrc', bashrc);
      rmSync(lock, { force: true });
      if (runDir && existsSync(runDir)) await swarmMolecule(['destroy'], project);
    }
    expect(machineView()).toEqual(machineBefore);
  });
});
