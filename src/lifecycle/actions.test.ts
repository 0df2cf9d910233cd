import { describe, expect, it } from 'vitest';
import { nothingAppliedWarning } from './actions.js';

const step = (...statuses: string[]) => ({ hosts: statuses.map((status) => ({ status })) });

describe('nothingAppliedWarning', () => {
  it('warns when the first converge of fresh nodes changes nothing (a Molecule 3 include_role that matched nothing)', () => {
    expect(nothingAppliedWarning([step('ok', 'skipped')], true)).toMatch(/^converge changed nothing on nodes never converged before/);
    expect(nothingAppliedWarning([step()], true)).toMatch(/changed nothing/);
    expect(nothingAppliedWarning([], true)).toMatch(/^converge has no steps/);
  });

  it('is quiet when something changed or failed, and on nodes converged before', () => {
    expect(nothingAppliedWarning([step('ok'), step('changed')], true)).toBeUndefined();
    expect(nothingAppliedWarning([step('failed')], true)).toBeUndefined();
    expect(nothingAppliedWarning([step('ok')], false)).toBeUndefined();
  });
});
