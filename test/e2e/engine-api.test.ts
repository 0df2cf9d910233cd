import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SocketUnreachable, SshConnection, type SshTarget } from '../../src/transport/index.js';
import { repoRoot, swarmMolecule } from './support/cli.js';
import { findLeftovers, leftoversSince, NOTHING_LEFT, type Leftovers } from './support/leaks.js';

const project = join(repoRoot, 'fixtures', 'projects', 'engine-api');
const refusedDir = join(project, 'scenarios', 'refused');
/** A second sshd on the worker, on this port, that refuses stream forwarding. */
const REFUSING_PORT = 2222;

const nodesOf = (scenario: string): SshTarget[] =>
  (JSON.parse(readFileSync(join(project, '.swarm-molecule', scenario, 'state.json'), 'utf8')) as { driverState: { nodes: SshTarget[] } }).driverState.nodes;

describe('the built-in steps talk to the Docker Engine API over SSH', () => {
  let before: Leftovers;
  beforeAll(() => {
    before = findLeftovers();
  });
  afterAll(async () => {
    await swarmMolecule(['destroy', '-s', 'refused'], project);
    await swarmMolecule(['destroy', '-s', 'nodes'], project);
    rmSync(refusedDir, { recursive: true, force: true });
    rmSync(join(project, '.swarm-molecule'), { recursive: true, force: true });
    expect(leftoversSince(before)).toEqual(NOTHING_LEFT);
  });

  it('on netns nodes: reads and writes are Engine API requests, not docker commands', async () => {
    const result = await swarmMolecule(['converge', '-s', 'nodes', '-v'], project);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toMatch(/changed\s+api-worker .*swarm: inactive → worker/);
    expect(result.all).toMatch(/changed\s+api-worker .*label zone: \(none\) → b/);
    // -v echoes every request and command on the nodes.
    expect(result.all).toMatch(/api-leader \$ docker-api GET \/info/);
    expect(result.all).toMatch(/api-worker \$ docker-api GET \/info/);
    expect(result.all).toMatch(/api-leader \$ docker-api POST \/swarm\/init/);
    expect(result.all).toMatch(/api-leader \$ docker-api GET \/swarm\b/);
    expect(result.all).toMatch(/api-leader \$ docker-api GET \/nodes\b/);
    expect(result.all).toMatch(/api-leader \$ docker-api POST \/nodes\/\w+\/update/);
    // No docker CLI ran for any of it, and the join token was shown nowhere.
    expect(result.all).not.toMatch(/\$ docker (info|swarm|node)\b/);
    expect(result.all).not.toMatch(/SWMTKN-1-\w/);
    expect(readFileSync(join(project, '.swarm-molecule', 'nodes', 'logs', 'api-leader.log'), 'utf8')).not.toMatch(/SWMTKN-1-\w/);

    const again = await swarmMolecule(['idempotence', '-s', 'nodes'], project);
    expect(again.exitCode, again.all).toBe(0);
    const verified = await swarmMolecule(['verify', '-s', 'nodes', '-v'], project);
    expect(verified.exitCode, verified.all).toBe(0);
    expect(verified.all).toMatch(/api-leader \$ docker-api GET \/nodes\b/);
    expect(verified.all).not.toMatch(/\$ docker node ls/);
  });

  it('on a node whose sshd refuses stream forwarding: the docker CLI, with the reason in the node log', async () => {
    const [leader, worker] = nodesOf('nodes');
    if (!leader || !worker) throw new Error('the nodes scenario has no nodes');
    // A second sshd on the worker, forwarding refused; it ends with the node.
    const started = await swarmMolecule(
      [
        'exec', '-s', 'nodes', '-h', worker.name, '--',
        '/usr/sbin/sshd', '-f', '/dev/null', '-h', '/etc/ssh/ssh_host_ed25519_key', '-o', `ListenAddress=${worker.host}:${REFUSING_PORT}`,
        '-o', 'AllowStreamLocalForwarding=no', '-o', 'PidFile=none', '-o', 'PasswordAuthentication=no', '-o', 'PermitRootLogin=prohibit-password', '-o', 'UseDNS=no',
      ],
      project,
    );
    expect(started.exitCode, started.all).toBe(0);
    // The fault is real: that sshd refuses to forward the Docker socket, while the usual one forwards it.
    const refusing = new SshConnection({ ...worker, port: REFUSING_PORT });
    const usual = new SshConnection(worker);
    try {
      const error = await refusing.openSocket('/var/run/docker.sock').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SocketUnreachable);
      (await usual.openSocket('/var/run/docker.sock')).destroy();
    } finally {
      refusing.close();
      usual.close();
    }

    mkdirSync(refusedDir, { recursive: true });
    writeFileSync(
      join(refusedDir, 'scenario.yml'),
      `driver:
  name: existing
platforms:
  - name: ${leader.name}
    groups: [swarm-leader, swarm-manager]
    address: ${leader.host}
    identityFile: ${leader.identityFile}
  - name: ${worker.name}
    groups: [swarm-worker]
    address: ${worker.host}
    port: ${REFUSING_PORT}
    identityFile: ${worker.identityFile}
    labels:
      zone: b
converge:
  - step: swarm/init
  - step: swarm/join-workers
  - step: swarm/drain-managers
  - step: swarm/labels
verify:
  - step: swarm/node-roles
`,
    );
    const created = await swarmMolecule(['create', '-s', 'refused'], project);
    expect(created.exitCode, created.all).toBe(0);
    const result = await swarmMolecule(['converge', '-s', 'refused', '-v'], project);
    expect(result.exitCode, result.all).toBe(0);
    // The same swarm, read the other way on the worker: everything in place, nothing changed.
    expect(result.all).toMatch(/ok\s+api-worker .*already a worker/);
    expect(result.all).not.toMatch(/changed\s+api-/);
    expect(result.all).toMatch(/api-worker \$ docker info --format/);
    expect(result.all).not.toMatch(/api-worker \$ docker-api/);
    expect(result.all).toMatch(/api-leader \$ docker-api GET \/info/);
    // Why, once, in the node log and with -v.
    const reason = /Docker Engine API not used on api-worker, the docker CLI is: sshd of api-worker did not open \/var\/run\/docker.sock for root \(\(SSH\) Channel open failure: open failed\): it refuses unix-socket forwarding/;
    expect(result.all).toMatch(reason);
    const log = readFileSync(join(project, '.swarm-molecule', 'refused', 'logs', 'api-worker.log'), 'utf8');
    expect(log.split('\n').filter((line) => reason.test(line))).toHaveLength(1);
  });
});
