import { describe, expect, it } from 'vitest';
import { playbookArgs, playLevelError } from './playbook.js';

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

describe('playLevelError', () => {
  const stderr = `ERROR! 'swarm_app_port' is undefined\n\nThe error appears to be in '/p/scenarios/default/converge.yml': line 3, column 3, but may\nbe elsewhere in the file depending on the exact syntax problem.\n`;
  it('is the error of a run that stopped with no failed task, with Ansible\'s file and line', () => {
    expect(playLevelError(4, stderr, [{ status: 'ok' }, { status: 'ok' }])).toBe("'swarm_app_port' is undefined (at /p/scenarios/default/converge.yml:3:3)");
    expect(playLevelError(2, 'something broke\n', [])).toBe('something broke');
  });

  it('is nothing when the run passed or a task failed (that task says why)', () => {
    expect(playLevelError(0, stderr, [{ status: 'ok' }])).toBeUndefined();
    expect(playLevelError(2, stderr, [{ status: 'failed' }])).toBeUndefined();
  });
});
