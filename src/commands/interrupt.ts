import { err } from './output.js';

/** The two stages of an interrupt, as the runner takes them. */
export interface InterruptSignals {
  /** Aborted by the first SIGINT/SIGTERM: stop the current step, then clean up. */
  signal: AbortSignal;
  /** Aborted by the second: abandon the cleanup too. */
  cleanupSignal: AbortSignal;
  dispose(): void;
}

/**
 * Signals: the first SIGINT/SIGTERM stops the current step and lets the run
 * clean up; a second one abandons the cleanup and says what is left.
 */
export function interruptSignals(): InterruptSignals {
  const interrupt = new AbortController();
  const cleanup = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (!interrupt.signal.aborted) {
      err(`\n${signal}: stopping the current step, then cleaning up. Send it again to abandon the cleanup.\n`);
      interrupt.abort(signal);
    } else if (!cleanup.signal.aborted) {
      err(`\n${signal} again: abandoning the cleanup; the end of the run says what is left.\n`);
      cleanup.abort(signal);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: interrupt.signal,
    cleanupSignal: cleanup.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
