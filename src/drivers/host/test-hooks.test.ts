import { afterEach, describe, expect, it, vi } from 'vitest';
import { DOCKERD_RESTART_DELAY_ENV, dockerdRestartDelaySeconds, PAUSE_AT_ENV, pauseAt, pausedLine, TEST_HOOKS_ENV } from './test-hooks.js';

describe('test hooks', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('are ignored unless the test-hooks switch is set', async () => {
    vi.stubEnv(PAUSE_AT_ENV, 'lease');
    vi.stubEnv(DOCKERD_RESTART_DELAY_ENV, '15');
    await pauseAt('lease', new AbortController().signal);
    expect(dockerdRestartDelaySeconds()).toBe(0);
  });

  it('pause at the named point only, saying so on stderr, until interrupted', async () => {
    vi.stubEnv(TEST_HOOKS_ENV, '1');
    vi.stubEnv(PAUSE_AT_ENV, 'lease');
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (written.push(String(chunk)), true));
    await pauseAt('bridge', new AbortController().signal);
    expect(written).toEqual([]);
    const abort = new AbortController();
    const paused = pauseAt('lease', abort.signal, 'n1');
    await new Promise((r) => setTimeout(r, 50));
    expect(written).toEqual([`${pausedLine('lease', 'n1')}\n`]);
    abort.abort();
    await expect(paused).rejects.toThrow();
  });

  it('take a dockerd delay in whole seconds and refuse anything else', () => {
    vi.stubEnv(TEST_HOOKS_ENV, '1');
    vi.stubEnv(DOCKERD_RESTART_DELAY_ENV, '15');
    expect(dockerdRestartDelaySeconds()).toBe(15);
    vi.stubEnv(DOCKERD_RESTART_DELAY_ENV, '15s');
    expect(() => dockerdRestartDelaySeconds()).toThrow(/not a number of seconds/);
  });
});
