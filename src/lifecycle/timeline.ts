import type { ActionPhase } from '../reporters/types.js';
import type { StepSpan } from '../steps/types.js';

/**
 * Where an action's time goes, with every millisecond attributed: phases are
 * contiguous (each begins where the one before it ends), so their durations add
 * up to the action's. An action names its phases as it enters them
 * (`start`, `steps`, `save state`). Where steps overlap (the converge walk)
 * they are one phase, with each step's span inside it.
 */
export class Timeline {
  readonly #marks: { name: string; at: number; spans?: StepSpan[] }[];

  constructor(
    readonly startedAt: number,
    first: string,
  ) {
    this.#marks = [{ name: first, at: startedAt }];
  }

  /** The action enters the phase `name` now (the current phase ends). */
  phase(name: string, at = performance.now()): void {
    this.#marks.push({ name, at });
  }

  /** When each step ran within the current phase (from its start). */
  spans(spans: readonly StepSpan[]): void {
    const mark = this.#marks.at(-1);
    if (mark) mark.spans = [...spans];
  }

  /**
   * The phases up to `endedAt`, in order; consecutive phases of one name are one,
   * and phases that took no time are left out (their time is nobody's).
   */
  finish(endedAt: number): ActionPhase[] {
    const phases: ActionPhase[] = [];
    for (const [i, mark] of this.#marks.entries()) {
      const end = Math.max(mark.at, Math.min(this.#marks[i + 1]?.at ?? endedAt, endedAt));
      const durationMs = end - mark.at;
      const last = phases.at(-1);
      if (last?.name === mark.name) last.durationMs += durationMs;
      else if (durationMs > 0) phases.push({ name: mark.name, durationMs, ...(mark.spans ? { spans: mark.spans } : {}) });
    }
    return phases;
  }
}
