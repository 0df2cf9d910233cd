import { describe, expect, it } from 'vitest';
import { parseMachineReadable } from './client.js';
import { parseSshConfig, sshConfigsOf } from './ssh-config.js';

describe('parseSshConfig', () => {
  it('reads the blocks vagrant ssh-config prints (docker provider, one machine)', () => {
    const text = [
      'Host m1',
      '  HostName 10.214.250.2',
      '  User root',
      '  Port 22',
      '  UserKnownHostsFile /dev/null',
      '  StrictHostKeyChecking no',
      '  PasswordAuthentication no',
      '  IdentityFile /work/main/.swarm-molecule/vagrant-docker/ssh/id_ed25519',
      '  IdentitiesOnly yes',
      '  LogLevel FATAL',
      '',
    ].join('\n');
    expect(parseSshConfig(text)).toEqual([
      { host: 'm1', hostName: '10.214.250.2', port: 22, user: 'root', identityFiles: ['/work/main/.swarm-molecule/vagrant-docker/ssh/id_ed25519'] },
    ]);
  });

  it('reads several hosts, quoted paths with spaces, Keyword=value and relative keys', () => {
    const text = [
      'Host manager-01',
      '  HostName 127.0.0.1',
      '  User vagrant',
      '  Port 2222',
      '  IdentityFile "/home/a user/.vagrant.d/machines/manager-01/virtualbox/private_key"',
      '  IdentityFile /home/a/.vagrant.d/insecure_private_key',
      '',
      'Host worker-01',
      '  hostname=127.0.0.1',
      '  port=2200',
      '  user vagrant',
      '  identityfile .vagrant/machines/worker-01/libvirt/private_key',
    ].join('\n');
    expect(parseSshConfig(text, '/project')).toEqual([
      {
        host: 'manager-01',
        hostName: '127.0.0.1',
        port: 2222,
        user: 'vagrant',
        identityFiles: ['/home/a user/.vagrant.d/machines/manager-01/virtualbox/private_key', '/home/a/.vagrant.d/insecure_private_key'],
      },
      { host: 'worker-01', hostName: '127.0.0.1', port: 2200, user: 'vagrant', identityFiles: ['/project/.vagrant/machines/worker-01/libvirt/private_key'] },
    ]);
  });

  it('ignores comments and lines before the first Host', () => {
    expect(parseSshConfig('# comment\nUser nobody\nHost a\n  # HostName x\n  HostName 10.0.0.1')).toEqual([
      { host: 'a', hostName: '10.0.0.1', port: 22, user: 'root', identityFiles: [] },
    ]);
  });
});

describe('sshConfigsOf', () => {
  it('maps machines to configs from machine-readable output', () => {
    const lines = parseMachineReadable(
      [
        '1795612608,m1,metadata,provider,docker',
        '1795612608,m1,ssh-config,Host m1\\n  HostName 10.214.250.2\\n  User root\\n  Port 22\\n  IdentityFile /k\\n',
        '1795612608,w1,ssh-config,Host w1\\n  HostName 10.214.250.3\\n  User root\\n  Port 22\\n  IdentityFile /k\\n',
        'Host m1',
        '  HostName 10.214.250.2',
      ].join('\n'),
    );
    const configs = sshConfigsOf(lines);
    expect([...configs.keys()]).toEqual(['m1', 'w1']);
    expect(configs.get('w1')).toEqual({ host: 'w1', hostName: '10.214.250.3', port: 22, user: 'root', identityFiles: ['/k'] });
  });
});
