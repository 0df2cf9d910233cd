import { describe, expect, it } from 'vitest';
import type { PlatformConfig } from '../../config/index.js';
import type { SshTarget } from '../../transport/index.js';
import { buildInventory, knownHosts, limitOf, mergeKnownHosts } from './inventory.js';

const platforms: PlatformConfig[] = [
  { name: 'manager-01', groups: ['swarm-leader', 'swarm-manager'], labels: {} },
  { name: 'manager-02', groups: ['swarm-manager'], labels: {} },
  { name: 'worker-01', groups: ['swarm-worker'], labels: { zone: 'a' } },
];

const target = (name: string, host: string, extra: Partial<SshTarget> = {}): SshTarget => ({
  name,
  host,
  port: 22,
  user: 'root',
  identityFile: '/p/.swarm-molecule/default/ssh/id_ed25519',
  hostKey: `ssh-ed25519 AAAA${name} ${name} host key`,
  ...extra,
});

const targets = [target('manager-01', '10.213.0.11'), target('manager-02', '10.213.0.12'), target('worker-01', '10.213.0.13')];

describe('buildInventory', () => {
  const inventory = buildInventory({ platforms, targets, driver: 'netns', knownHostsFile: '/p/.swarm-molecule/default/ansible/known_hosts' });

  it('connects through a published port but gives the node its own address where the driver says they differ (docker, remote engine)', () => {
    const published = [{ ...target('worker-01', '192.0.2.7', { port: 24001 }), address: '10.215.3.13' }];
    const hosts = buildInventory({ platforms, targets: published, driver: 'docker', knownHostsFile: '/k' }).all.hosts;
    expect(hosts['worker-01']).toMatchObject({ ansible_host: '192.0.2.7', ansible_port: 24001, swarm_molecule_address: '10.215.3.13' });
  });

  it('puts each platform in the groups it declares, named exactly as declared', () => {
    expect(inventory.all.children).toEqual({
      'swarm-leader': { hosts: { 'manager-01': {} } },
      'swarm-manager': { hosts: { 'manager-01': {}, 'manager-02': {} } },
      'swarm-worker': { hosts: { 'worker-01': {} } },
    });
  });

  it('gives each host the driver\'s connection variables, its own address and labels', () => {
    expect(inventory.all.hosts['worker-01']).toEqual({
      ansible_host: '10.213.0.13',
      ansible_port: 22,
      ansible_user: 'root',
      ansible_ssh_private_key_file: '/p/.swarm-molecule/default/ssh/id_ed25519',
      swarm_molecule_address: '10.213.0.13',
      swarm_molecule_labels: { zone: 'a' },
    });
  });

  it('checks recorded host keys strictly, and uses this machine\'s Python on netns nodes', () => {
    expect(inventory.all.vars).toEqual({
      ansible_ssh_transfer_method: 'piped',
      ansible_python_interpreter: '/usr/bin/python3',
      ansible_ssh_common_args:
        '-o UserKnownHostsFile=/p/.swarm-molecule/default/ansible/known_hosts -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes',
    });
  });

  it('trusts first keys (accept-new) when the driver recorded none, and quotes paths for shlex', () => {
    const noKeys = targets.map(({ hostKey: _hostKey, ...rest }) => rest);
    const vars = buildInventory({ platforms, targets: noKeys, driver: 'existing', knownHostsFile: '/my project/known_hosts' }).all.vars;
    expect(vars.ansible_ssh_common_args).toContain("-o 'UserKnownHostsFile=/my project/known_hosts'");
    expect(vars.ansible_ssh_common_args).toContain('StrictHostKeyChecking=accept-new');
    expect(vars.ansible_python_interpreter).toBe('auto_silent');
  });

  it('has only groups and addresses for the offline syntax check', () => {
    const offline = buildInventory({ platforms: [{ name: 'a', groups: ['swarm-leader', 'all'], labels: {}, address: '192.0.2.1' }], driver: 'existing' });
    expect(offline.all.hosts).toEqual({ a: { swarm_molecule_address: '192.0.2.1', swarm_molecule_labels: {} } });
    // "all" is Ansible's own group: a host cannot be added to it.
    expect(Object.keys(offline.all.children)).toEqual(['swarm-leader']);
    expect(offline.all.vars.ansible_ssh_common_args).toBeUndefined();
  });
});

describe('known_hosts', () => {
  it('has a line per recorded key, with [host]:port off port 22 and without the comment', () => {
    expect(knownHosts([target('a', '10.0.0.1'), target('b', 'node-b', { port: 2222 }), target('c', '10.0.0.3', { hostKey: undefined })])).toBe(
      '10.0.0.1 ssh-ed25519 AAAAa\n[node-b]:2222 ssh-ed25519 AAAAb\n',
    );
  });

  it('keeps keys ssh learned for nodes without a recorded one, and replaces recorded ones', () => {
    const existing = '10.0.0.1 ssh-ed25519 OLD\n10.0.0.3 ssh-ed25519 LEARNED\n';
    expect(mergeKnownHosts(existing, [target('a', '10.0.0.1'), target('c', '10.0.0.3', { hostKey: undefined })])).toBe(
      '10.0.0.3 ssh-ed25519 LEARNED\n10.0.0.1 ssh-ed25519 AAAAa\n',
    );
    // All recorded: nothing stale survives.
    expect(mergeKnownHosts(existing, [target('a', '10.0.0.1')])).toBe('10.0.0.1 ssh-ed25519 AAAAa\n');
  });
});

describe('limitOf', () => {
  it('is the entry\'s limit, else its hosts', () => {
    expect(limitOf({ limit: 'swarm-worker:!worker-02', hosts: 'all' })).toBe('swarm-worker:!worker-02');
    expect(limitOf({ hosts: 'swarm-manager' })).toBe('swarm-manager');
    expect(limitOf({})).toBeUndefined();
  });
});

describe('buildInventory with the scenario\'s host_vars and group_vars', () => {
  it('adds them to hosts, groups and all, theirs winning over ours', () => {
    const inventory = buildInventory({
      platforms,
      targets,
      driver: 'netns',
      hostVars: { 'worker-01': { app_port: 8080, ansible_user: 'deploy' } },
      groupVars: { all: { env_name: 'test' }, 'swarm-manager': { role: 'manager' }, 'no-such-group': { x: 1 } },
    });
    expect(inventory.all.hosts['worker-01']).toMatchObject({ app_port: 8080, ansible_user: 'deploy', ansible_host: '10.213.0.13' });
    expect(inventory.all.vars).toMatchObject({ env_name: 'test', ansible_python_interpreter: '/usr/bin/python3' });
    expect(inventory.all.children['swarm-manager']).toEqual({ hosts: { 'manager-01': {}, 'manager-02': {} }, vars: { role: 'manager' } });
    expect(inventory.all.children['no-such-group']).toBeUndefined();
  });
});
