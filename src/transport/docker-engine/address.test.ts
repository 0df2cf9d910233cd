import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../errors.js';
import { describeEngine, isLocalEngine, publishedHost, resolveEngine, type EngineLookup } from './address.js';

const HOME = '/home/user';
const metaDir = (name: string, dir = join(HOME, '.docker')) => join(dir, 'contexts', 'meta', createHash('sha256').update(name).digest('hex'));
const tlsDir = (name: string) => join(HOME, '.docker', 'contexts', 'tls', createHash('sha256').update(name).digest('hex'), 'docker');

/** A lookup over an in-memory home: `files` by absolute path. */
const lookup = (env: Record<string, string>, files: Record<string, string> = {}): EngineLookup => ({
  env,
  home: HOME,
  platform: 'linux',
  readFile: (path) => files[path],
  exists: (path) => path in files,
});

const meta = (name: string, host: string, skipTls = false) => JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: skipTls } } });

describe('resolveEngine (the engine the docker CLI would use)', () => {
  it('uses the local socket when nothing says otherwise', () => {
    expect(resolveEngine(lookup({}))).toEqual({ kind: 'unix', socketPath: '/var/run/docker.sock', source: 'the default socket' });
    expect(resolveEngine({ ...lookup({}), platform: 'win32' })).toMatchObject({ kind: 'npipe', socketPath: '\\\\.\\pipe\\docker_engine' });
  });

  it('reads DOCKER_HOST: unix, tcp (plain and TLS), ssh', () => {
    expect(resolveEngine(lookup({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }))).toEqual({ kind: 'unix', socketPath: '/run/user/1000/docker.sock', source: 'DOCKER_HOST' });
    expect(resolveEngine(lookup({ DOCKER_HOST: 'tcp://10.0.0.5:2375' }))).toEqual({ kind: 'tcp', host: '10.0.0.5', port: 2375, tls: undefined, source: 'DOCKER_HOST' });
    expect(resolveEngine(lookup({ DOCKER_HOST: 'tcp://docker' }))).toMatchObject({ host: 'docker', port: 2375, tls: undefined });
    expect(resolveEngine(lookup({ DOCKER_HOST: 'tcp://docker:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs/client' }))).toEqual({
      kind: 'tcp',
      host: 'docker',
      port: 2376,
      tls: { ca: '/certs/client/ca.pem', cert: '/certs/client/cert.pem', key: '/certs/client/key.pem', verify: true },
      source: 'DOCKER_HOST',
    });
    // GitLab's docker:dind service: TLS on, no port given, certs in ~/.docker by default.
    expect(resolveEngine(lookup({ DOCKER_HOST: 'tcp://docker', DOCKER_TLS_VERIFY: '1' }))).toMatchObject({ port: 2376, tls: { ca: join(HOME, '.docker', 'ca.pem') } });
    expect(resolveEngine(lookup({ DOCKER_HOST: 'ssh://ci@build-host:2222' }))).toEqual({ kind: 'ssh', host: 'build-host', port: 2222, username: 'ci', source: 'DOCKER_HOST' });
    expect(resolveEngine(lookup({ DOCKER_HOST: 'ssh://build-host' }))).toMatchObject({ kind: 'ssh', port: 22, username: undefined });
  });

  it('refuses a DOCKER_HOST it cannot use, naming it and the forms it takes', () => {
    for (const bad of ['not a url', 'ftp://host', 'unix://relative', 'tcp://']) {
      const error = (() => {
        try {
          resolveEngine(lookup({ DOCKER_HOST: bad }));
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error, bad).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toMatch(/from DOCKER_HOST is not usable/);
      expect((error as UsageError).hint).toMatch(/unix:\/\/\/var\/run\/docker\.sock/);
    }
  });

  it('follows the current context of the CLI config, and DOCKER_CONTEXT over it', () => {
    const files = {
      [join(HOME, '.docker', 'config.json')]: JSON.stringify({ auths: {}, currentContext: 'desktop-linux' }),
      [join(metaDir('desktop-linux'), 'meta.json')]: meta('desktop-linux', 'unix:///home/user/.docker/desktop/docker.sock'),
      [join(metaDir('remote'), 'meta.json')]: meta('remote', 'tcp://remote:2376'),
      [join(tlsDir('remote'), 'ca.pem')]: 'ca',
      [join(tlsDir('remote'), 'cert.pem')]: 'cert',
      [join(tlsDir('remote'), 'key.pem')]: 'key',
    };
    expect(resolveEngine(lookup({}, files))).toEqual({ kind: 'unix', socketPath: '/home/user/.docker/desktop/docker.sock', source: 'context "desktop-linux"' });
    expect(resolveEngine(lookup({ DOCKER_CONTEXT: 'remote' }, files))).toEqual({
      kind: 'tcp',
      host: 'remote',
      port: 2376,
      tls: { ca: join(tlsDir('remote'), 'ca.pem'), cert: join(tlsDir('remote'), 'cert.pem'), key: join(tlsDir('remote'), 'key.pem'), verify: true },
      source: 'context "remote"',
    });
    // As the CLI: DOCKER_HOST wins over any context; "default" is the local socket.
    expect(resolveEngine(lookup({ DOCKER_HOST: 'tcp://other:2375', DOCKER_CONTEXT: 'remote' }, files))).toMatchObject({ host: 'other', source: 'DOCKER_HOST' });
    expect(resolveEngine(lookup({ DOCKER_CONTEXT: 'default' }, files))).toMatchObject({ kind: 'unix', socketPath: '/var/run/docker.sock' });
  });

  it('reads the config from DOCKER_CONFIG', () => {
    const files = {
      '/etc/ci-docker/config.json': JSON.stringify({ currentContext: 'ci' }),
      [join(metaDir('ci', '/etc/ci-docker'), 'meta.json')]: meta('ci', 'ssh://runner@engine'),
    };
    expect(resolveEngine(lookup({ DOCKER_CONFIG: '/etc/ci-docker' }, files))).toMatchObject({ kind: 'ssh', host: 'engine', username: 'runner', source: 'context "ci"' });
  });

  it('refuses a config or context it cannot read, naming the file and the way out', () => {
    const config = join(HOME, '.docker', 'config.json');
    expect(() => resolveEngine(lookup({}, { [config]: '{ not json' }))).toThrow(new RegExp(`${config} is not JSON`));
    expect(() => resolveEngine(lookup({}, { [config]: JSON.stringify({ currentContext: 7 }) }))).toThrow(/is not what the docker CLI writes \(at "currentContext"/);
    expect(() => resolveEngine(lookup({ DOCKER_CONTEXT: 'gone' }, {}))).toThrow(/context "gone" is not usable: there is no such context/);
    expect(() => resolveEngine(lookup({ DOCKER_CONTEXT: '../etc' }, {}))).toThrow(/is not a context name/);
    const bad = { [join(metaDir('broken'), 'meta.json')]: JSON.stringify({ Name: 'broken', Endpoints: {} }) };
    expect(() => resolveEngine(lookup({ DOCKER_CONTEXT: 'broken' }, bad))).toThrow(/at "Endpoints.docker"/);
  });

  it('says where the engine is and where its published ports answer', () => {
    const local = resolveEngine(lookup({}));
    const remote = resolveEngine(lookup({ DOCKER_HOST: 'tcp://10.0.0.5:2376', DOCKER_TLS_VERIFY: '1' }));
    expect(describeEngine(local)).toBe('unix:///var/run/docker.sock (the default socket)');
    expect(describeEngine(remote)).toBe('tcp://10.0.0.5:2376 (TLS) (DOCKER_HOST)');
    expect([isLocalEngine(local), isLocalEngine(remote)]).toEqual([true, false]);
    expect([publishedHost(local), publishedHost(remote)]).toEqual(['127.0.0.1', '10.0.0.5']);
  });
});
