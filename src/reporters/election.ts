/**
 * Election figures of `measure election`: the statistics of each cluster size,
 * the table printed, and the SVG chart (election time against manager count,
 * every sample drawn so that the spread is visible).
 */

/** What was measured on one cluster size. */
export interface ElectionSample {
  managers: number;
  /** Milliseconds from the Leader's death to a new Leader, one per round. */
  electionMs: number[];
  /** Milliseconds from the Leader's death to the first write accepted, one per round. */
  firstWriteMs: number[];
  /** Swarm's timers in effect, from `docker info`. */
  settings: { electionTick: number; heartbeatTick: number; heartbeatPeriodMs: number };
}

export interface Stats {
  n: number;
  min: number;
  median: number;
  p95: number;
  max: number;
}

/** min / median / p95 (nearest rank) / max; all 0 for no values. */
export function stats(values: readonly number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { n, min: 0, median: 0, p95: 0, max: 0 };
  const at = (i: number) => sorted[Math.min(n - 1, Math.max(0, i))] ?? 0;
  const median = n % 2 === 1 ? at((n - 1) / 2) : (at(n / 2 - 1) + at(n / 2)) / 2;
  return { n, min: at(0), median, p95: at(Math.ceil(0.95 * n) - 1), max: at(n - 1) };
}

const s = (ms: number) => (ms / 1000).toFixed(1);

/** The table `measure election` prints: one row per cluster size, seconds. */
export function electionTable(samples: readonly ElectionSample[]): string {
  const header = ['managers', 'n', 'election min', 'median', 'p95', 'max', 'first write min', 'median', 'p95', 'max'];
  const rows = samples.map((sample) => {
    const e = stats(sample.electionMs);
    const w = stats(sample.firstWriteMs);
    return [String(sample.managers), String(e.n), s(e.min), s(e.median), s(e.p95), s(e.max), s(w.min), s(w.median), s(w.p95), s(w.max)];
  });
  const lines = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  const text = lines.map((l) => l.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')).join('\n');
  return `${text}\n(seconds)\n${settingsLine(samples)}\n`;
}

/** Swarm's timers under the figures; one line per distinct setting. */
export function settingsLine(samples: readonly ElectionSample[]): string {
  const distinct = [...new Set(samples.map((x) => `raft ElectionTick ${x.settings.electionTick}, HeartbeatTick ${x.settings.heartbeatTick}; dispatcher HeartbeatPeriod ${s(x.settings.heartbeatPeriodMs)} s`))];
  return `Swarm's settings (docker info): ${distinct.join(' | ')}`;
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The chart: manager count along x, seconds up y; per size every election as a
 * dot (blue) and every first write (orange), a bar from min to max and a tick at
 * the median of each. Plain SVG 1.1, no script, opens in any browser.
 */
export function electionSvg(samples: readonly ElectionSample[], title: string): string {
  const width = 640;
  const height = 400;
  const left = 60;
  const right = 20;
  const top = 50;
  const bottom = 60;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const all = samples.flatMap((x) => [...x.electionMs, ...x.firstWriteMs]);
  // Headroom above the highest dot for the legend.
  const maxS = Math.max(1, Math.ceil((Math.max(0, ...all) * 1.2) / 1000 / 5) * 5);
  // The axis starts below the lowest dot (at a multiple of 5 s, labelled), so that the spread is visible.
  const minS = Math.min(maxS - 5, Math.max(0, Math.floor((Math.min(...all, maxS * 1000) * 0.8) / 1000 / 5) * 5));
  const y = (ms: number) => top + plotH - ((ms / 1000 - minS) / (maxS - minS)) * plotH;
  const slot = plotW / Math.max(1, samples.length);
  const parts: string[] = [];
  parts.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="16">${escape(title)}</text>`);
  parts.push(`<text x="${width / 2}" y="40" text-anchor="middle" font-size="11" fill="#555">${escape(settingsLine(samples))}</text>`);
  // Axes and grid.
  for (let tick = minS; tick <= maxS; tick += maxS - minS <= 10 ? 1 : 5) {
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(tick * 1000).toFixed(1)}" y2="${y(tick * 1000).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${left - 6}" y="${(y(tick * 1000) + 4).toFixed(1)}" text-anchor="end" font-size="11">${tick}</text>`);
  }
  parts.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#333"/>`);
  parts.push(`<line x1="${left}" x2="${width - right}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`);
  parts.push(`<text x="16" y="${top + plotH / 2}" font-size="12" transform="rotate(-90 16 ${top + plotH / 2})" text-anchor="middle">seconds after the Leader died</text>`);
  parts.push(`<text x="${left + plotW / 2}" y="${height - 14}" text-anchor="middle" font-size="12">managers</text>`);
  const series = [
    { key: 'electionMs' as const, color: '#1f77b4', label: 'new Leader', offset: -0.15 },
    { key: 'firstWriteMs' as const, color: '#ff7f0e', label: 'first write accepted', offset: 0.15 },
  ];
  samples.forEach((sample, i) => {
    const cx = left + slot * (i + 0.5);
    parts.push(`<text x="${cx.toFixed(1)}" y="${top + plotH + 18}" text-anchor="middle" font-size="12">${sample.managers}</text>`);
    for (const line of series) {
      const values = sample[line.key];
      const st = stats(values);
      const x = cx + line.offset * slot;
      if (values.length > 0) {
        parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${y(st.min).toFixed(1)}" y2="${y(st.max).toFixed(1)}" stroke="${line.color}" stroke-width="2" opacity="0.5"/>`);
        parts.push(`<line x1="${(x - 10).toFixed(1)}" x2="${(x + 10).toFixed(1)}" y1="${y(st.median).toFixed(1)}" y2="${y(st.median).toFixed(1)}" stroke="${line.color}" stroke-width="3"><title>median ${s(st.median)} s</title></line>`);
      }
      values.forEach((ms, j) => {
        const jitter = values.length > 1 ? ((j / (values.length - 1)) - 0.5) * 8 : 0;
        parts.push(`<circle cx="${(x + jitter).toFixed(1)}" cy="${y(ms).toFixed(1)}" r="3.5" fill="${line.color}" fill-opacity="0.75"><title>${escape(`${sample.managers} managers, ${line.label} ${j + 1}: ${s(ms)} s`)}</title></circle>`);
      });
    }
  });
  series.forEach((line, i) => {
    const lx = left + 10 + i * 270;
    parts.push(`<circle cx="${lx}" cy="${top + 8}" r="4" fill="${line.color}"/><text x="${lx + 8}" y="${top + 12}" font-size="11">${escape(line.label)} (bar: min–max, tick: median)</text>`);
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}
