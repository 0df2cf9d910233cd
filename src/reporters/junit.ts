import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { secrets } from '../secrets/index.js';
import type { Reporter, RunSummary } from './types.js';

const escape = (text: string) =>
  text
    // XML 1.0 forbids most control characters, even escaped.
    // eslint-disable-next-line no-control-regex -- matching them is the point
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');

const time = (ms: number) => (ms / 1000).toFixed(3);

interface Case {
  classname: string;
  name: string;
  ms: number;
  outcome?: { tag: 'failure' | 'error' | 'skipped'; message: string; body?: string };
}

/** The test cases of one scenario's run: one per action, one per verify check. */
export function casesOf(summary: RunSummary): Case[] {
  const scenario = summary.info.scenario;
  const cases: Case[] = [];
  for (const action of summary.actions) {
    const message = action.message ?? '';
    const outcome: Case['outcome'] =
      action.status === 'skipped'
        ? { tag: 'skipped', message }
        : action.status === 'failed'
          ? { tag: action.kind === 'error' ? 'error' : 'failure', message, ...(action.hint ? { body: `${message}\n${action.hint}` } : {}) }
          : undefined;
    cases.push({ classname: `${scenario}.action`, name: action.action, ms: action.durationMs, ...(outcome ? { outcome } : {}) });
    for (const check of action.verify ?? []) {
      const checkOutcome: Case['outcome'] =
        check.status === 'skipped'
          ? { tag: 'skipped', message: check.message ?? '' }
          : check.status === 'failed'
            ? {
                tag: 'failure',
                message: check.message ?? '',
                body: [check.message, check.expected !== undefined ? `expected:\n${check.expected}` : '', check.observed !== undefined ? `observed:\n${check.observed}` : '']
                  .filter(Boolean)
                  .join('\n\n'),
              }
            : undefined;
      cases.push({ classname: `${scenario}.verify`, name: check.name, ms: check.durationMs, ...(checkOutcome ? { outcome: checkOutcome } : {}) });
    }
  }
  return cases;
}

/** JUnit XML: a testsuite per scenario, written by hand (as vitest does). */
export function junitXml(summaries: readonly RunSummary[]): string {
  const count = (cases: Case[], tag: string) => cases.filter((c) => c.outcome?.tag === tag).length;
  const suites = summaries.map((summary) => {
    const cases = casesOf(summary);
    const body = cases.map((c) => {
      const open = `    <testcase classname="${escape(c.classname)}" name="${escape(c.name)}" time="${time(c.ms)}"`;
      if (!c.outcome) return `${open}/>`;
      const { tag, message, body: text } = c.outcome;
      const inner = text ? `>${escape(text)}</${tag}>` : '/>';
      return `${open}>\n      <${tag} message="${escape(message)}"${tag === 'skipped' ? '' : ` type="${tag === 'error' ? 'InfrastructureError' : 'CheckFailed'}"`}${inner}\n    </testcase>`;
    });
    return {
      xml: `  <testsuite name="${escape(summary.info.scenario)}" tests="${cases.length}" failures="${count(cases, 'failure')}" errors="${count(cases, 'error')}" skipped="${count(cases, 'skipped')}" time="${time(summary.durationMs)}">\n${body.join('\n')}\n  </testsuite>`,
      cases,
      ms: summary.durationMs,
    };
  });
  const all = suites.flatMap((s) => s.cases);
  const total = suites.reduce((sum, s) => sum + s.ms, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="swarm-molecule" tests="${all.length}" failures="${count(all, 'failure')}" errors="${count(all, 'error')}" skipped="${count(all, 'skipped')}" time="${time(total)}">\n${suites.map((s) => s.xml).join('\n')}\n</testsuites>\n`;
}

/** Write a report atomically: a CI job never reads half a file. */
export function writeReport(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, secrets.mask(text));
  renameSync(temp, file);
}

/** `--junit FILE`: rewritten after every scenario, so a failed or interrupted run still leaves one. */
export class JunitReporter implements Reporter {
  readonly #summaries: RunSummary[] = [];
  constructor(private readonly file: string) {}

  runEnd(summary: RunSummary): void {
    this.#summaries.push(summary);
    writeReport(this.file, junitXml(this.#summaries));
  }
}
