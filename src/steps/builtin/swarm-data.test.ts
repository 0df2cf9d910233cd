import { describe, expect, it } from 'vitest';
import { CheckFailed } from '../../errors.js';
import { secrets } from '../../transport/index.js';
import type { Host, StepContext } from '../api.js';
import type { RunOptions } from '../../transport/index.js';
import { configStep, secretStep } from './swarm-data.js';

interface Call {
  argv: readonly string[];
  options?: RunOptions;
}

/** A leader whose `docker secret|config inspect` answers with `labels` (or not found), recording every command. */
function fakeLeader(labels?: Record<string, string>): { host: Host; calls: Call[] } {
  const calls: Call[] = [];
  const run = (argv: readonly string[], options?: RunOptions) => {
    calls.push({ argv, ...(options ? { options } : {}) });
    const inspect = argv[2] === 'inspect';
    const found = labels !== undefined;
    return Promise.resolve({ argv, stdout: inspect && found ? JSON.stringify(labels) : '', stderr: inspect && !found ? 'Error: No such secret' : '', exitCode: inspect && !found ? 1 : 0, durationMs: 1 });
  };
  const host = {
    name: 'leader',
    run,
    docker: (args: readonly string[], options?: RunOptions) => run(['docker', ...args], options).then((r) => r.stdout),
  } as unknown as Host;
  return { host, calls };
}

const context = <O>(options: O) => ({ options, scenario: { name: 'unit', dir: '/unit', platforms: [], converge: [] }, secret: (v: string) => secrets.add(v), signal: new AbortController().signal }) as unknown as StepContext<O>;

const parse = (step: typeof secretStep, input: unknown) => step.options?.safeParse(input);
const secretOptions = (input: unknown) => {
  const parsed = parse(secretStep, input);
  if (!parsed?.success) throw new Error('options did not parse');
  return parsed.data;
};

describe('swarm/secret and swarm/config', () => {
  it('takes exactly one of value, file or env, and a secret value long enough to be masked', () => {
    expect(parse(secretStep, { name: 'token' })?.success).toBe(false);
    expect(parse(secretStep, { name: 'token', value: 'long-enough-value', env: 'TOKEN' })?.success).toBe(false);
    expect(parse(secretStep, { name: 'token', value: 'short' })?.error?.issues[0]?.message).toMatch(/at least 8 characters/);
    expect(parse(configStep, { name: 'conf', value: 'short' })?.success).toBe(true);
  });

  it('masks a secret value from the moment its options are read', () => {
    parse(secretStep, { name: 'token', value: 'unit-secret-value-0001' });
    expect(secrets.mask('token is unit-secret-value-0001')).toBe('token is ********');
  });

  it('creates a missing secret with its data on stdin only, labelled with its digest', async () => {
    const { host, calls } = fakeLeader();
    const options = secretOptions({ name: 'token', value: 'unit-secret-value-0002' });
    const outcome = await secretStep.apply(context(options), host);
    expect(outcome).toEqual({ status: 'changed', changes: ['secret token: (none) → created from its value'] });
    const create = calls.find((c) => c.argv[2] === 'create');
    expect(create?.argv.join(' ')).toMatch(/^docker secret create --label io\.swarm-molecule\.digest=[0-9a-f]{64} token -$/);
    expect(create?.options?.stdin).toBe('unit-secret-value-0002');
    expect(create?.options?.secrets).toEqual(['unit-secret-value-0002']);
    expect(calls.flatMap((c) => c.argv).join(' ')).not.toContain('unit-secret-value-0002');
  });

  it('is ok when the secret exists with the same data, and refuses one with other data instead of remaking it', async () => {
    const first = fakeLeader();
    const options = secretOptions({ name: 'token', value: 'unit-secret-value-0003' });
    await secretStep.apply(context(options), first.host);
    const digest = first.calls.find((c) => c.argv[2] === 'create')?.argv[4] ?? '';
    const [key = '', value = ''] = digest.split('=');

    const same = fakeLeader({ [key]: value });
    expect(await secretStep.apply(context(options), same.host)).toEqual({ status: 'ok', message: 'secret token in place' });
    expect(same.calls.map((c) => c.argv[2])).toEqual(['inspect']);

    const other = fakeLeader({ [key]: 'f'.repeat(64) });
    const refused = secretStep.apply(context(options), other.host);
    await expect(refused).rejects.toBeInstanceOf(CheckFailed);
    await expect(refused).rejects.toThrow('The secret "token" exists with other data than its value; Swarm secrets are immutable, so it is left as it is.');
    expect(other.calls.map((c) => c.argv[2])).toEqual(['inspect']);
  });
});
