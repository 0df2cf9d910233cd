import { describe, expect, it } from 'vitest';
import { disabledRules, isDisabled } from './disable.js';

describe('disabledRules', () => {
  const disabled = disabledRules([
    'a: 1 # swarm-molecule-lint-disable-line yaml-truthy, yaml-tabs',
    '# swarm-molecule-lint-disable-next-line swarm-even-managers',
    'b: 2',
    'c: 3 # swarm-molecule-lint-disable-line',
    'd: "# swarm-molecule-lint-disable-line yaml-tabs" # a comment',
    'e: 4 #swarm-molecule-lint-disable-line yaml-truthy # why: Ansible wants it',
  ]);

  it('disables the named rules on the same line', () => {
    expect(isDisabled(disabled, 1, 'yaml-truthy')).toBe(true);
    expect(isDisabled(disabled, 1, 'yaml-tabs')).toBe(true);
    expect(isDisabled(disabled, 1, 'yaml-trailing-spaces')).toBe(false);
  });

  it('disables the named rules on the next line only', () => {
    expect(isDisabled(disabled, 2, 'swarm-even-managers')).toBe(false);
    expect(isDisabled(disabled, 3, 'swarm-even-managers')).toBe(true);
  });

  it('disables every rule when none is named', () => {
    expect(isDisabled(disabled, 4, 'anything')).toBe(true);
  });

  it('stops the id list at the next comment', () => {
    expect(isDisabled(disabled, 6, 'yaml-truthy')).toBe(true);
    expect(isDisabled(disabled, 6, 'why:')).toBe(false);
  });

  it('leaves other lines alone, and directives inside strings', () => {
    expect(isDisabled(disabled, 5, 'yaml-tabs')).toBe(false);
    expect(isDisabled(disabled, 7, 'yaml-tabs')).toBe(false);
  });
});
