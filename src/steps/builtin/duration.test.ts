import { describe, expect, it } from 'vitest';
import { duration, durationMs, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['1s', 1000],
    ['500ms', 500],
    ['90s', 90_000],
    ['2m', 120_000],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    ['1h', 3_600_000],
    [' 5s ', 5000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '1', 's', '1 s', '-1s', '1d', '1sec', 'abc', '1s2'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('duration option', () => {
  it('keeps the text as written, for docker', () => {
    expect(duration().parse('1m30s')).toBe('1m30s');
  });

  it('explains what it expects', () => {
    const result = duration().safeParse('ten seconds');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/duration such as 500ms, 1s/);
  });

  it('durationMs throws on text that is no duration', () => {
    expect(() => durationMs('soon')).toThrow(/not a duration/);
  });
});
