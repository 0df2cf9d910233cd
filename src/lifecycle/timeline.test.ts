import { describe, expect, it } from 'vitest';
import { Timeline } from './timeline.js';

describe('Timeline', () => {
  it('attributes every millisecond: contiguous phases that add up to the action, in order, a repeated phase counted once', () => {
    const timeline = new Timeline(1000, 'start');
    timeline.phase('check nodes', 1000); // the start took no time: it is left out
    timeline.phase('connect', 1310);
    timeline.phase('gather', 1710);
    timeline.phase('gather', 1760);
    timeline.phase('swarm/init', 1830);
    const phases = timeline.finish(2440);
    expect(phases).toEqual([
      { name: 'check nodes', durationMs: 310 },
      { name: 'connect', durationMs: 400 },
      { name: 'gather', durationMs: 120 },
      { name: 'swarm/init', durationMs: 610 },
    ]);
    expect(phases.reduce((sum, p) => sum + p.durationMs, 0)).toBe(2440 - 1000);
  });

  it('keeps the spans of the steps that overlapped inside one phase (the converge walk), the phases still adding up', () => {
    const timeline = new Timeline(0, 'start');
    timeline.phase('steps', 100);
    const spans = [
      { name: 'swarm/join-managers', startMs: 0, durationMs: 900 },
      { name: 'swarm/join-workers', startMs: 10, durationMs: 300 },
    ];
    timeline.spans(spans);
    timeline.phase('save state', 1000);
    const phases = timeline.finish(1010);
    expect(phases).toEqual([
      { name: 'start', durationMs: 100 },
      { name: 'steps', durationMs: 900, spans },
      { name: 'save state', durationMs: 10 },
    ]);
    expect(phases.reduce((sum, p) => sum + p.durationMs, 0)).toBe(1010);
  });

  it('never counts time past the end of the action', () => {
    const timeline = new Timeline(0, 'start');
    timeline.phase('late', 50);
    expect(timeline.finish(40)).toEqual([{ name: 'start', durationMs: 40 }]);
  });
});
