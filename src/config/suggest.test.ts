import { describe, expect, it } from 'vitest';
import { closest, didYouMean, levenshtein } from './suggest.js';

describe('levenshtein', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(levenshtein('groups', 'groups')).toBe(0);
    expect(levenshtein('grups', 'groups')).toBe(1);
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('', 'abc')).toBe(3);
    expect(levenshtein('abc', '')).toBe(3);
  });

  it('counts a swap of neighbouring characters as one edit', () => {
    expect(levenshtein('gorups', 'groups')).toBe(1);
    expect(levenshtein('whit', 'with')).toBe(2);
    expect(closest('whit', ['step', 'with', 'hosts'])).toBe('with');
  });
});

describe('closest', () => {
  it('suggests a near miss', () => {
    expect(closest('grups', ['name', 'groups', 'labels'])).toBe('groups');
    expect(closest('convrge', ['converge', 'verify'])).toBe('converge');
  });

  it('ignores case when comparing', () => {
    expect(closest('Labels', ['labels', 'groups'])).toBe('labels');
  });

  it('suggests nothing for a word that is not close', () => {
    expect(closest('zzzzzz', ['name', 'groups'])).toBeUndefined();
    expect(closest('x', [])).toBeUndefined();
  });

  it('words the suggestion', () => {
    expect(didYouMean('netnss', ['netns', 'vagrant'])).toBe(' Did you mean "netns"?');
    expect(didYouMean('qqq', ['netns'])).toBe('');
  });
});
