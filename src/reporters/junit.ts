import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import type { Diagnostic } from '../errors.js';
import { secrets } from '../secrets/index.js';
import type { HostResult, StepCrash, VerifyStepResult } from '../steps/types.js';
import { spansText } from './spans.js';
import type { ActionResult, Reporter, RunSummary } from './types.js';

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
  /** `type` of a failure or error: the error's class, e.g. `CheckFailed`, `TypeError`. */
  outcome?: { tag: 'failure' | 'error' | 'skipped'; message: string; type?: string; body?: string };
  /** `ctx.log()` lines and the like. */
  systemOut?: string;
}

const position = (d: Diagnostic) => `${d.file}:${d.line}:${d.col}: ${d.severity} ${d.code}: ${d.message}${d.hint ? `\n  ${d.hint}` : ''}`;

/** Each action's name, made unique where a sequence runs one twice (`destroy` at both ends of `test`). */
function actionNames(actions: readonly ActionResult[]): string[] {
  const total = new Map<string, number>();
  for (const a of actions) total.set(a.action, (total.get(a.action) ?? 0) + 1);
  const seen = new Map<string, number>();
  return actions.map((a) => {
    const n = (seen.get(a.action) ?? 0) + 1;
    seen.set(a.action, n);
    if ((total.get(a.action) ?? 1) === 1) return a.action;
    return n === 1 ? `${a.action} (before)` : n === total.get(a.action) ? `${a.action} (after)` : `${a.action} (${n})`;
  });
}

function crashBody(crash: StepCrash): string {
  return [crash.file ? `${crash.file}:${crash.line ?? 0}:${crash.col ?? 0}` : '', crash.frame ?? '', crash.stack].filter(Boolean).join('\n\n');
}

function hostCase(classname: string, step: string, host: HostResult, idempotence: boolean): Case {
  const name = `${step} on ${host.host}`;
  const base = { classname, name, ms: host.durationMs };
  if (host.error) return { ...base, outcome: { tag: 'error', message: host.message ?? '', type: host.error.name, body: crashBody(host.error) } };
  if (host.status === 'failed') return { ...base, outcome: { tag: 'failure', message: host.message ?? '', type: 'CheckFailed' } };
  if (host.status === 'skipped') return { ...base, outcome: { tag: 'skipped', message: host.message ?? '' } };
  if (idempotence && host.status === 'changed') {
    return { ...base, outcome: { tag: 'failure', message: `changed on the second converge: ${host.changes.join('; ')}`, type: 'NotIdempotent', body: host.changes.join('\n') } };
  }
  return host.changes.length > 0 ? { ...base, systemOut: host.changes.join('\n') } : base;
}

function checkCase(classname: string, check: VerifyStepResult): Case {
  const base = { classname, name: check.name, ms: check.durationMs, ...(check.log.length > 0 ? { systemOut: check.log.map((l) => l.message).join('\n') } : {}) };
  if (check.error) return { ...base, outcome: { tag: 'error', message: check.message ?? '', type: check.error.name, body: crashBody(check.error) } };
  if (check.status === 'skipped') return { ...base, outcome: { tag: 'skipped', message: check.message ?? '' } };
  if (check.status === 'failed') {
    const body = [check.message, check.expected !== undefined ? `expected:\n${check.expected}` : '', check.observed !== undefined ? `observed:\n${check.observed}` : ''];
    return { ...base, outcome: { tag: 'failure', message: check.message ?? '', type: 'CheckFailed', body: body.filter(Boolean).join('\n\n') } };
  }
  return base;
}

/**
 * The test cases of one scenario's run: a case per action, per converge step
 * and host, and per verify check. A failure is counted once, where it is: a
 * failed check fails its own case, not the verify action's too.
 */
export function casesOf(summary: RunSummary): Case[] {
  const scenario = summary.info.scenario;
  const cases: Case[] = [];
  const names = actionNames(summary.actions);
  for (const [i, action] of summary.actions.entries()) {
    const message = action.message ?? '';
    const children: Case[] = [];
    for (const step of action.converge ?? []) {
      for (const host of step.hosts) children.push(hostCase(`${scenario}.${action.action}`, step.name, host, action.action === 'idempotence'));
    }
    for (const check of action.verify ?? []) children.push(checkCase(`${scenario}.verify`, check));
    const childFailed = children.some((c) => c.outcome && c.outcome.tag !== 'skipped');
    const diagnostics = action.diagnostics ?? [];
    const body = [message, ...diagnostics.map(position), action.hint ?? ''].filter(Boolean).join('\n');
    const outcome: Case['outcome'] =
      action.status === 'skipped'
        ? { tag: 'skipped', message }
        : action.status === 'failed' && !childFailed
          ? { tag: action.kind === 'error' ? 'error' : 'failure', message, type: action.kind === 'error' ? 'InfrastructureError' : 'CheckFailed', ...(body !== message ? { body } : {}) }
          : undefined;
    // Where the action's time went (its phases add up to its time), then what it found.
    const timing = action.phases && action.phases.length > 0 ? `time: ${action.phases.map((p) => `${p.name} ${time(p.durationMs)} s${p.spans && p.spans.length > 0 ? ` (${spansText(p.spans, '; ')})` : ''}`).join(', ')}` : '';
    const found = action.status !== 'failed' && diagnostics.length > 0 ? diagnostics.map(position).join('\n') : '';
    const systemOut = [timing, found].filter(Boolean).join('\n') || undefined;
    cases.push({ classname: `${scenario}.action`, name: names[i] ?? action.action, ms: action.durationMs, ...(outcome ? { outcome } : {}), ...(systemOut ? { systemOut } : {}) });
    cases.push(...children);
  }
  return cases;
}

/** JUnit XML: a testsuite per scenario, written by hand (as vitest does). */
export function junitXml(summaries: readonly RunSummary[], host: string = hostname()): string {
  const count = (cases: Case[], tag: string) => cases.filter((c) => c.outcome?.tag === tag).length;
  const suites = summaries.map((summary) => {
    const cases = casesOf(summary);
    const body = cases.map((c) => {
      const open = `    <testcase classname="${escape(c.classname)}" name="${escape(c.name)}" time="${time(c.ms)}"`;
      const out = c.systemOut ? `\n      <system-out>${escape(c.systemOut)}</system-out>` : '';
      if (!c.outcome) return out ? `${open}>${out}\n    </testcase>` : `${open}/>`;
      const { tag, message, type, body: text } = c.outcome;
      const inner = text ? `>${escape(text)}</${tag}>` : '/>';
      return `${open}>\n      <${tag} message="${escape(message)}"${tag === 'skipped' ? '' : ` type="${escape(type ?? 'CheckFailed')}"`}${inner}${out}\n    </testcase>`;
    });
    const timestamp = (summary.startedAt ?? new Date().toISOString()).replace(/\.\d+Z$/, '');
    return {
      xml: `  <testsuite name="${escape(summary.info.scenario)}" timestamp="${timestamp}" hostname="${escape(host)}" tests="${cases.length}" failures="${count(cases, 'failure')}" errors="${count(cases, 'error')}" skipped="${count(cases, 'skipped')}" time="${time(summary.durationMs)}">\n${body.join('\n')}\n  </testsuite>`,
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
