import { describe, expect, it } from 'vitest';
import { playbookArgs } from './playbook.js';

describe('playbookArgs', () => {
  it('always skips molecule-notest, adds the action\'s and scenario\'s skipped tags, and passes "--" arguments through last', () => {
    expect(playbookArgs({ tags: ['web'], limit: 'w1' }, { extraVarsFiles: ['/a.json', '/b.json'], skipTags: ['slow', 'molecule-idempotence-notest'], args: ['--forks', '2'] })).toEqual([
      '--extra-vars',
      '@/a.json',
      '--extra-vars',
      '@/b.json',
      '--tags',
      'web',
      '--skip-tags',
      'molecule-notest,slow,molecule-idempotence-notest',
      '--limit',
      'w1',
      '--forks',
      '2',
    ]);
    expect(playbookArgs({}, { extraVarsFiles: [], skipTags: ['molecule-notest'], args: [] })).toEqual(['--skip-tags', 'molecule-notest']);
  });
});
