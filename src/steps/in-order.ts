import type { StepSection } from '../config/index.js';
import type { StepEvents } from './types.js';

/**
 * Step events in the list's order while steps overlap: the step being shown
 * reports as it goes; a later step's events wait until every step before it
 * has settled, then come at once. So the terminal prints each step's block
 * with its host lines in scenario order, and JSON and JUnit see the same.
 */
export class InOrder {
  #shown = 0;
  readonly #steps: { name: string; index: number; started: boolean; settled: boolean; headed: boolean; queue: (() => void)[] }[];

  constructor(
    private readonly events: StepEvents,
    private readonly section: StepSection,
    count: number,
  ) {
    this.#steps = Array.from({ length: count }, () => ({ name: '', index: 0, started: false, settled: false, headed: false, queue: [] }));
  }

  /** The step's name and entry index, once it is resolved. */
  name(step: number, name: string, index: number): void {
    const s = this.#at(step);
    s.name = name;
    s.index = index;
  }

  /** The hooks a step reports through. */
  eventsOf(step: number): StepEvents {
    const emit =
      <K extends keyof StepEvents>(key: K) =>
      (...args: Parameters<NonNullable<StepEvents[K]>>) =>
        this.#emit(step, () => (this.events[key] as ((...a: unknown[]) => void) | undefined)?.(...args));
    return {
      hostResult: emit('hostResult'),
      log: emit('log'),
      taskStart: emit('taskStart'),
      taskResult: emit('taskResult'),
      waiting: emit('waiting'),
      verifyResult: emit('verifyResult'),
    };
  }

  /** A task of the step has started: it will be shown, in its turn. */
  started(step: number): void {
    this.#at(step).started = true;
    this.#pump();
  }

  /** Every task of the step has ended or will never run. */
  settled(step: number): void {
    this.#at(step).settled = true;
    this.#pump();
  }

  /** The walk is over (or stopped by an interrupt): whatever waits is shown now, in order. */
  finish(): void {
    for (const s of this.#steps) s.settled = true;
    this.#pump();
  }

  #at(step: number) {
    const s = this.#steps[step];
    if (!s) throw new RangeError(`No step ${step} in this list.`);
    return s;
  }

  #emit(step: number, event: () => void): void {
    const s = this.#at(step);
    // After the walk (a step still ending after an interrupt) there is no order left to keep.
    if ((step === this.#shown && s.headed) || this.#shown >= this.#steps.length) event();
    else s.queue.push(event);
  }

  #pump(): void {
    for (let s = this.#steps[this.#shown]; s; s = this.#steps[this.#shown]) {
      if (s.started && !s.headed) {
        s.headed = true;
        this.events.stepStart?.(this.section, s.name, s.index);
      }
      if (s.headed) for (const event of s.queue.splice(0)) event();
      if (!s.settled) return;
      this.#shown++;
    }
  }
}
