import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { electionSvg, electionTable, stats, type ElectionSample } from './election.js';

const settings = { electionTick: 10, heartbeatTick: 1, heartbeatPeriodMs: 5000 };
const samples: ElectionSample[] = [
  { managers: 3, electionMs: [21_000, 19_500, 23_000, 20_100, 30_000], firstWriteMs: [21_400, 19_900, 23_300, 20_500, 30_600], settings },
  { managers: 5, electionMs: [18_000, 25_000], firstWriteMs: [18_300, 25_200], settings },
];

describe('stats', () => {
  it('gives min, median (mean of the middle two when even), p95 by nearest rank, and max', () => {
    expect(stats([21_000, 19_500, 23_000, 20_100, 30_000])).toEqual({ n: 5, min: 19_500, median: 21_000, p95: 30_000, max: 30_000 });
    expect(stats([4, 1, 3, 2])).toEqual({ n: 4, min: 1, median: 2.5, p95: 4, max: 4 });
    expect(stats(Array.from({ length: 20 }, (_, i) => i + 1)).p95).toBe(19);
    expect(stats([])).toEqual({ n: 0, min: 0, median: 0, p95: 0, max: 0 });
  });
});

describe('electionTable', () => {
  it('prints one row per size in seconds, and Swarm\'s settings under it', () => {
    expect(electionTable(samples)).toBe(
      [
        'managers  n  election min  median   p95   max  first write min  median   p95   max',
        '3         5          19.5    21.0  30.0  30.0             19.9    21.4  30.6  30.6',
        '5         2          18.0    21.5  25.0  25.0             18.3    21.8  25.2  25.2',
        '(seconds)',
        "Swarm's settings (docker info): raft ElectionTick 10, HeartbeatTick 1; dispatcher HeartbeatPeriod 5.0 s",
        '',
      ].join('\n'),
    );
  });
});

describe('electionSvg', () => {
  const svg = electionSvg(samples, 'Leader election <test> & more');

  it('draws every sample as a dot, with its value in a tooltip, and escapes text', () => {
    expect(svg.match(/<circle /g)).toHaveLength(14 + 2); // 14 samples + 2 legend dots
    expect(svg).toContain('<title>3 managers, new Leader 5: 30.0 s</title>');
    expect(svg).toContain('Leader election &lt;test&gt; &amp; more');
  });

  it('is well-formed SVG (parsed by an XML parser)', () => {
    const tag = execFileSync('python3', ['-c', 'import sys, xml.etree.ElementTree as E; print(E.fromstring(sys.stdin.read().encode()).tag)'], { input: svg, encoding: 'utf8' });
    expect(tag.trim()).toBe('{http://www.w3.org/2000/svg}svg');
  });
});
