import type { StepSpan } from '../steps/types.js';

const secs = (ms: number) => (ms / 1000).toFixed(2);

/** `swarm/init 0.00–0.62 s · swarm/join-managers 0.62–2.90 s`: when each step ran, from the start of its phase. */
export function spansText(spans: readonly StepSpan[], separator = ' · '): string {
  return spans.map((s) => `${s.name} ${secs(s.startMs)}–${secs(s.startMs + s.durationMs)} s`).join(separator);
}
