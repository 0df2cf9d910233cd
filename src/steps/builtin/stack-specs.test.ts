import { describe, expect, it } from 'vitest';
import { interpolate, specDifferences, stackChanges, summariseCompose } from './stack-specs.js';

const spec = (image: string, replicas = 1) => ({ Name: 'demo_web', TaskTemplate: { ContainerSpec: { Image: image } }, Mode: { Replicated: { Replicas: replicas } } });

describe('stackChanges', () => {
  it('is empty when every service kept its spec: a redeploy that changed nothing is ok', () => {
    const specs = new Map([['demo_web', spec('web:v1')]]);
    expect(stackChanges(specs, new Map(specs), { before: ['demo_default'], after: ['demo_default'] })).toEqual([]);
  });

  it('names each service created, updated (with what changed) and removed, and networks created', () => {
    const before = new Map([
      ['demo_web', spec('web:v1')],
      ['demo_old', spec('old:v1')],
    ]);
    const after = new Map([
      ['demo_web', spec('web:v2', 3)],
      ['demo_client', spec('client:v1')],
    ]);
    expect(stackChanges(before, after, { before: [], after: ['demo_default'] })).toEqual([
      'network demo_default: (none) → created',
      'service demo_client: (none) → created',
      'service demo_web: updated (Mode.Replicated.Replicas: 1 → 3; TaskTemplate.ContainerSpec.Image: web:v1 → web:v2)',
      'service demo_old: present → removed',
    ]);
  });
});

describe('specDifferences', () => {
  it('gives the paths that differ, at most `limit`, with added and removed keys', () => {
    expect(specDifferences({ a: 1, b: { c: [1] } }, { a: 1, b: { c: [2], d: 'x' } })).toEqual([
      { path: 'b.c', before: [1], after: [2] },
      { path: 'b.d', before: undefined, after: 'x' },
    ]);
    expect(specDifferences({ a: 1, b: 2, c: 3 }, { a: 2, b: 3, c: 4 }, 2)).toHaveLength(2);
  });
});

describe('interpolate', () => {
  it('substitutes variables as docker stack deploy does, defaults and $$ included', () => {
    const env = { TAG: 'v2', EMPTY: '' };
    expect(interpolate('image: web:${TAG} $TAG ${MISSING:-v1} ${EMPTY:-d} ${EMPTY-d} $$HOME ${UNSET}', env)).toBe('image: web:v2 v2 v1 d  $HOME ');
  });
});

describe('summariseCompose', () => {
  it('lists the services with their images after substitution', () => {
    const summary = summariseCompose('services:\n  web:\n    image: web:${TAG}\n  client:\n    image: client:v1\n', { TAG: 'v2' });
    expect(summary).toEqual({ services: [{ name: 'web', image: 'web:v2' }, { name: 'client', image: 'client:v1' }], problems: [] });
  });

  it('refuses what the node cannot resolve from a compose file on stdin: builds, env files, file secrets and configs', () => {
    const text = [
      'services:',
      '  web:',
      '    build: .',
      '  client:',
      '    image: c',
      '    env_file: client.env',
      'secrets:',
      '  token:',
      '    file: token.txt',
      'configs:',
      '  conf:',
      '    external: true',
    ].join('\n');
    expect(summariseCompose(text, {}).problems.map((p) => p.message)).toEqual([
      'service "web" has no image (docker stack deploy does not build; load the image onto the nodes and name it)',
      'service "client" uses env_file, which the nodes cannot read (the compose file is sent alone); use environment or the step\'s env',
      'secret "token" is read from a file, which the nodes cannot read; create it with swarm/secret and declare it "external: true"',
    ]);
  });

  it('says when the file is not YAML or declares no services', () => {
    expect(summariseCompose('services: [', {}).problems[0]?.message).toMatch(/^not valid YAML/);
    expect(summariseCompose('networks: {}\n', {}).problems.map((p) => p.message)).toEqual(['it declares no services']);
  });
});
