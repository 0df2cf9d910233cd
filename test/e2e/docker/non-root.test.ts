import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli.js';
import { objectsOn, startTestEngine, type TestEngine } from './support/engine.js';

/**
 * The docker driver without root: a user in the `docker` group runs the
 * docker scenario against the engine's socket, which that group may use.
 */

const USER = 'sm-docker-user';
const bin = join(repoRoot, 'bin', 'swarm-molecule.js');
const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' });
const groupExists = (name: string) => execa('getent', ['group', name], { reject: false }).then((r) => r.exitCode === 0);

let engine: TestEngine;
let project: string;
let madeGroup = false;
let home: string;

/** The CLI as the test user, in its own project, with its own HOME. */
const asUser = (args: string[]) =>
  execa('/usr/sbin/runuser', ['-u', USER, '--', 'node', bin, ...args], {
    cwd: project,
    reject: false,
    all: true,
    extendEnv: false,
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home, CI: 'true', NO_COLOR: '1', DOCKER_HOST: `unix://${engine.socket}` },
  });

beforeAll(async () => {
  engine = await startTestEngine();
  if (!(await groupExists('docker'))) {
    run('groupadd', ['--system', 'docker']);
    madeGroup = true;
  }
  run('useradd', ['--create-home', '--shell', '/bin/sh', USER]);
  home = run('getent', ['passwd', USER]).split(':')[5] ?? '';
  project = mkdtempSync(join(tmpdir(), 'sm-docker-user-'));
  cpSync(join(repoRoot, 'scenarios', 'docker'), join(project, 'scenarios', 'docker'), { recursive: true });
  cpSync(join(repoRoot, 'scenarios', 'default', 'steps'), join(project, 'scenarios', 'default', 'steps'), { recursive: true });
  run('chown', ['-R', `${USER}:`, project]);
  chmodSync(project, 0o755);
});

afterAll(async () => {
  try {
    // Whatever the user's run did, nothing of it remains on the engine.
    if (engine) expect(await objectsOn(engine.docker)).toEqual([]);
  } finally {
    await engine?.stop();
    await execa('userdel', ['--remove', USER], { reject: false });
    if (madeGroup) await execa('groupdel', ['docker'], { reject: false });
    if (project) rmSync(project, { recursive: true, force: true });
  }
});

describe('the docker driver as a user in the docker group (not root)', () => {
  it('says exactly what is missing while the user may not use the engine socket', async () => {
    expect(run('runuser', ['-u', USER, '--', 'id', '-u']).trim()).not.toBe('0');
    const result = await asUser(['create', '-s', 'docker']);
    expect(result.exitCode, result.all).not.toBe(0);
    expect(result.all).toMatch(/This user may not use the Docker engine socket unix:\/\/.*docker\.sock \(DOCKER_HOST\)/);
    expect(result.all).toMatch(/usermod -aG docker/);
    expect(await objectsOn(engine.docker)).toEqual([]);
  });

  it('passes test -s docker once the user is in the group that owns the socket', async () => {
    run('usermod', ['-aG', 'docker', USER]);
    // What a docker package does for its socket: group docker, mode 0660; the directories above it only traversable.
    run('chgrp', ['docker', engine.socket]);
    chmodSync(engine.socket, 0o660);
    for (let dir = dirname(engine.socket); dir !== dirname(dirname(dirname(engine.socket))); dir = dirname(dir)) chmodSync(dir, 0o711);
    const result = await asUser(['test', '-s', 'docker']);
    const output = result.all;
    expect(result.exitCode, output).toBe(0);
    for (const action of ['create', 'converge', 'idempotence', 'verify', 'destroy']) expect(output).toMatch(new RegExp(`^ {2}${action}\\s+passed`, 'm'));
    expect(output).toMatch(/passed\s+swarm\/failover-leader/);
    // The run's files are the user's: nothing was done as root.
    const uid = Number(run('id', ['-u', USER]).trim());
    expect(statSync(join(project, '.swarm-molecule', 'docker', 'state.json')).uid).toBe(uid);
    chownSync(engine.socket, 0, 0);
  });
});
