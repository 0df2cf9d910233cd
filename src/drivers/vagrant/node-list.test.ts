import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PlatformConfig } from '../../config/index.js';
import { UsageError } from '../../errors.js';
import { buildNodeList, privateAddress, writeNodeList } from './node-list.js';
import { optionsSchema } from './options.js';

const platforms: PlatformConfig[] = [
  { name: 'manager-01', groups: ['swarm-leader', 'swarm-manager'], labels: {} },
  { name: 'worker-01', groups: ['swarm-worker'], labels: { zone: 'a' }, box: 'generic/ubuntu2204', memory: 2048 },
  { name: 'worker-02', groups: ['swarm-worker'], labels: {}, cpus: 2 },
];

describe('the node list', () => {
  it('gives VM platforms a box, memory, cpus and a private address, platform values first', () => {
    const list = buildNodeList(platforms, optionsSchema.parse({ provider: 'virtualbox', memory: 1536 }));
    expect(list).toEqual({
      version: 1,
      provider: 'virtualbox',
      nodes: [
        { name: 'manager-01', groups: ['swarm-leader', 'swarm-manager'], box: 'debian/bookworm64', memory: 1536, cpus: 1, ip: '192.168.56.11' },
        { name: 'worker-01', groups: ['swarm-worker'], box: 'generic/ubuntu2204', memory: 2048, cpus: 1, ip: '192.168.56.12' },
        { name: 'worker-02', groups: ['swarm-worker'], box: 'debian/bookworm64', memory: 1536, cpus: 2, ip: '192.168.56.13' },
      ],
    });
  });

  it('uses the configured private network', () => {
    expect(privateAddress('10.20.30.0/24', 0)).toBe('10.20.30.11');
    expect(buildNodeList(platforms.slice(0, 1), optionsSchema.parse({ provider: 'libvirt', privateNetwork: '10.20.30.0/24' })).nodes[0]?.ip).toBe('10.20.30.11');
  });

  it('carries the docker provider settings, and no VM settings', () => {
    const docker = {
      ssh: { username: 'root', privateKeyPath: '/p/.swarm-molecule/s/ssh/id_ed25519' },
      settings: { image: 'swarm-molecule/vagrant-node:abc', containerPrefix: 'smvg-123456', keysDir: '/p/keys', harness: '10.214.0.129/32' },
    };
    const list = buildNodeList([platforms[0]!, platforms[2]!], optionsSchema.parse({ provider: 'docker' }), docker);
    expect(list).toEqual({
      version: 1,
      provider: 'docker',
      nodes: [
        { name: 'manager-01', groups: ['swarm-leader', 'swarm-manager'] },
        { name: 'worker-02', groups: ['swarm-worker'] },
      ],
      ssh: docker.ssh,
      docker: docker.settings,
    });
  });

  it('refuses a box with the docker provider, naming the platform', () => {
    expect(() => buildNodeList(platforms, optionsSchema.parse({ provider: 'docker' }))).toThrow(UsageError);
    expect(() => buildNodeList(platforms, optionsSchema.parse({ provider: 'docker' }))).toThrow(/platform worker-01 names a box/);
  });

  it('is written as JSON atomically, leaving no temporary file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'node-list-'));
    try {
      const path = join(dir, 'vagrant', 'nodes.json');
      const list = buildNodeList(platforms, optionsSchema.parse({}));
      await writeNodeList(path, list);
      await writeNodeList(path, list);
      expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(list);
      expect(await readdir(join(dir, 'vagrant'))).toEqual(['nodes.json']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
