import { CheckFailed } from '../errors.js';

/** A verify check that did not hold: what was expected, and what the nodes showed. */
export class AssertionFailed extends CheckFailed {
  readonly expected: string;
  readonly observed: string;

  constructor(message: string, details: { expected: string; observed: string; hint?: string }) {
    super(message, details.hint === undefined ? undefined : { hint: details.hint });
    this.expected = details.expected;
    this.observed = details.observed;
  }
}

/** Fail unless `condition` holds. */
export function expectThat(condition: boolean, message: string, details: { expected: string; observed: string }): asserts condition {
  if (!condition) throw new AssertionFailed(message, details);
}
