import { describe, expect, it } from 'vitest';
import { CONTAINER_INIT } from './container-init.js';
import { mirrorFromSources, mountsUnder, nodeImageAt, recipeHash } from './index.js';

describe('the node image', () => {
  it('is cached and tagged by a hash of its recipe', () => {
    expect(recipeHash()).toMatch(/^[0-9a-f]{12}$/);
    expect(recipeHash()).toBe(recipeHash());
    const image = nodeImageAt('/cache');
    expect(image).toEqual({
      hash: recipeHash(),
      dir: `/cache/node-${recipeHash()}`,
      rootfs: `/cache/node-${recipeHash()}/rootfs`,
      archive: `/cache/node-${recipeHash()}/image.tar`,
      tag: `swarm-molecule/node:${recipeHash()}`,
    });
  });

  it('has a container init that keeps the node off any default route and starts dockerd offline-first', () => {
    expect(CONTAINER_INIT).toContain('ip route del default');
    expect(CONTAINER_INIT).toContain('"${SWARM_MOLECULE_HARNESS:-}"');
    expect(CONTAINER_INIT).toContain('DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 dockerd');
    expect(CONTAINER_INIT).toMatch(/exec \/usr\/sbin\/sshd -D/);
  });
});

describe('mirrorFromSources', () => {
  it('reads a deb822 .sources file, skipping security', () => {
    const text = [
      'Types: deb',
      'URIs: http://deb.debian.org/debian-security',
      'Suites: bookworm-security',
      'Components: main',
      '',
      'Types: deb deb-src',
      'URIs: http://mirror.example/debian/',
      'Suites: bookworm bookworm-updates',
      'Components: main',
    ].join('\n');
    expect(mirrorFromSources(text)).toBe('http://mirror.example/debian');
  });

  it('skips disabled and source-only stanzas', () => {
    expect(mirrorFromSources('Types: deb-src\nURIs: http://a/debian\nSuites: bookworm\n\nTypes: deb\nEnabled: no\nURIs: http://b/debian\nSuites: bookworm')).toBeUndefined();
  });

  it('reads a one-line sources.list', () => {
    expect(mirrorFromSources('# x\ndeb [arch=amd64] http://ftp.de.debian.org/debian/ bookworm main\ndeb http://security.debian.org/ bookworm-security main')).toBe(
      'http://ftp.de.debian.org/debian',
    );
  });
});

describe('mountsUnder', () => {
  it('finds mount points below a directory, deepest first, with escapes decoded', () => {
    const mountinfo = [
      '22 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
      '90 22 0:5 / /var/cache/swarm-molecule/.build-x/rootfs/proc rw - proc proc rw',
      '91 90 0:6 / /var/cache/swarm-molecule/.build-x/rootfs/proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw',
      '92 22 0:7 / /var/cache/swarm-molecule/.build-x/a\\040b rw - tmpfs tmpfs rw',
      '93 22 0:8 / /var/cache/swarm-molecule/.build-xy rw - tmpfs tmpfs rw',
    ].join('\n');
    expect(mountsUnder(mountinfo, '/var/cache/swarm-molecule/.build-x')).toEqual([
      '/var/cache/swarm-molecule/.build-x/rootfs/proc/sys/fs/binfmt_misc',
      '/var/cache/swarm-molecule/.build-x/rootfs/proc',
      '/var/cache/swarm-molecule/.build-x/a b',
    ]);
  });
});
