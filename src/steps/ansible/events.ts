import { z } from 'zod';
import { quoteCommand } from '../../transport/index.js';
import type { AnsibleRecap, HostStatus } from '../types.js';

// What the swarm_molecule_events callback writes (callback.ts), one JSON object a line.

const statsSchema = z.object({
  ok: z.number(),
  changed: z.number(),
  failures: z.number(),
  unreachable: z.number(),
  skipped: z.number(),
  rescued: z.number().default(0),
  ignored: z.number().default(0),
});

const eventSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('play'), name: z.string(), time: z.number() }),
  z.object({ event: z.literal('task'), name: z.string(), path: z.string().default(''), time: z.number() }),
  z.object({
    event: z.literal('result'),
    status: z.enum(['ok', 'changed', 'failed', 'skipped', 'unreachable']),
    ignored: z.boolean().default(false),
    host: z.string(),
    task: z.string(),
    action: z.string().default(''),
    path: z.string().default(''),
    result: z.record(z.string(), z.unknown()).default({}),
    time: z.number(),
  }),
  z.object({ event: z.literal('stats'), hosts: z.record(z.string(), statsSchema), time: z.number() }),
]);

export type HostStats = z.output<typeof statsSchema>;

/** One task's result on one host, as Ansible reported it. */
export interface TaskResult {
  host: string;
  task: string;
  status: 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';
  /** A failure of a task with `ignore_errors`. */
  ignored: boolean;
  action: string;
  /** `file:line` of the task. */
  path: string;
  /** The module's result (censored for `no_log` tasks). */
  result: Record<string, unknown>;
  /** Epoch seconds when the result arrived. */
  time: number;
  /** Time from the task's start to this result. */
  durationMs: number;
}

/** What a playbook run reported. */
export interface PlaybookEvents {
  results: TaskResult[];
  /** Ansible's recap per host; absent when the run stopped before its end. */
  stats: Record<string, HostStats> | undefined;
}

/** The callback's events in `lines`; a line that is not one (cut short by an interrupted run, say) is skipped. */
function* callbackEvents(lines: Iterable<string>): Generator<z.output<typeof eventSchema>> {
  for (const line of lines) {
    if (line.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      continue;
    }
    const parsed = eventSchema.safeParse(json);
    if (parsed.success) yield parsed.data;
  }
}

/** Read the callback's JSON lines; a line cut short by an interrupted run is skipped. */
export function parseEvents(text: string): PlaybookEvents {
  const results: TaskResult[] = [];
  let stats: Record<string, HostStats> | undefined;
  let taskStarted: number | undefined;
  for (const event of callbackEvents(text.split('\n'))) {
    if (event.event === 'task') taskStarted = event.time;
    else if (event.event === 'result') {
      const { event: _kind, ...rest } = event;
      results.push({ ...rest, durationMs: Math.max(0, (event.time - (taskStarted ?? event.time)) * 1000) });
    } else if (event.event === 'stats') stats = event.hosts;
  }
  return { results, stats };
}

/** What one host did in a playbook run, in the words of the step runners. */
export interface HostSummary {
  host: string;
  status: HostStatus;
  /** One line per changed task: `task "NAME": changed (what: before → after)`. */
  changes: string[];
  message?: string;
  /** Ansible could not reach the host: the machinery, not the playbook. */
  unreachable: boolean;
  /** Ansible's PLAY RECAP line of the host. */
  counts: AnsibleRecap;
  durationMs: number;
}

/**
 * A host's PLAY RECAP counts: Ansible's own when the run reached its recap;
 * otherwise counted from the task results as Ansible counts them (a changed
 * task is also ok, an ignored failure is ok and ignored; rescues cannot be told).
 */
export function recapOf(events: PlaybookEvents, host: string): AnsibleRecap {
  const stats = events.stats?.[host];
  if (stats) {
    const { failures, ...rest } = stats;
    return { ...rest, failed: failures, fromRecap: true };
  }
  const results = events.results.filter((r) => r.host === host);
  const count = (keep: (r: TaskResult) => boolean) => results.filter(keep).length;
  return {
    ok: count((r) => r.status === 'ok' || r.status === 'changed' || (r.status === 'failed' && r.ignored)),
    changed: count((r) => r.status === 'changed'),
    unreachable: count((r) => r.status === 'unreachable'),
    failed: count((r) => r.status === 'failed' && !r.ignored),
    skipped: count((r) => r.status === 'skipped'),
    rescued: 0,
    ignored: count((r) => r.status === 'failed' && r.ignored),
    fromRecap: false,
  };
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

function firstLines(value: string, max = 300): string {
  const oneLine = value.split('\n').map((l) => l.trim()).filter(Boolean).join(' | ');
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

const CENSORED = 'output hidden by no_log';

/** Why a task failed, from its result: the message, the command and its output. */
export function failureOf(result: Record<string, unknown>): string {
  if (result.censored !== undefined) return `(${CENSORED})`;
  const items = Array.isArray(result.results) ? (result.results as unknown[]) : [];
  const failedItem = items.find((item): item is Record<string, unknown> => typeof item === 'object' && item !== null && (item as { failed?: unknown }).failed === true);
  if (failedItem) {
    const label = text(failedItem._ansible_item_label) ?? (failedItem.item === undefined ? undefined : JSON.stringify(failedItem.item));
    return `${label === undefined ? '' : `item ${label}: `}${failureOf(failedItem)}`;
  }
  // gather_facts (and other multi-module actions) nest the failed module's own result:
  // its stderr says why (`/bin/sh: 1: /usr/bin/python: not found`), the top-level msg only which module.
  const modules = result.failed_modules;
  if (typeof modules === 'object' && modules !== null && !Array.isArray(modules)) {
    const nested = Object.entries(modules as Record<string, unknown>).filter(
      (entry): entry is [string, Record<string, unknown>] => typeof entry[1] === 'object' && entry[1] !== null && !Array.isArray(entry[1]),
    );
    if (nested.length > 0) return nested.map(([module, own]) => `${module}: ${failureOf(own)}`).join('; ');
  }
  const parts: string[] = [];
  const msg = text(result.msg);
  const cmd = Array.isArray(result.cmd) ? quoteCommand(result.cmd.map(String)) : text(result.cmd);
  const rc = typeof result.rc === 'number' ? result.rc : undefined;
  if (cmd !== undefined && rc !== undefined) parts.push(`"${cmd}" exited ${rc}`);
  // The command module's own message says only that the exit code was not 0.
  // One line: a module's msg often runs on ("…set the interpreter.\nSee stdout/stderr for the exact error").
  if (msg !== undefined && !(msg === 'non-zero return code' && rc !== undefined)) parts.push(firstLines(msg, 500));
  // ansible.builtin.assert names the condition that did not hold.
  const assertion = text(result.assertion);
  if (assertion !== undefined) parts.push(assertion);
  const output = text(result.stderr) ?? text(result.module_stderr) ?? text(result.stdout) ?? text(result.module_stdout);
  if (output !== undefined) parts.push(firstLines(output));
  return parts.length > 0 ? parts.join(': ') : 'failed (no message)';
}

interface Diff {
  before?: unknown;
  after?: unknown;
  before_header?: unknown;
  after_header?: unknown;
  prepared?: unknown;
}

function diffsOf(result: Record<string, unknown>): Diff[] {
  const own = result.diff;
  const list: unknown[] = Array.isArray(own) ? (own as unknown[]) : own !== undefined ? [own] : [];
  const items = Array.isArray(result.results) ? (result.results as unknown[]) : [];
  const fromItems = items.flatMap((item) =>
    typeof item === 'object' && item !== null && (item as { changed?: unknown }).changed === true ? diffsOf(item as Record<string, unknown>) : [],
  );
  return [...list, ...fromItems].filter((d): d is Diff => typeof d === 'object' && d !== null);
}

const shown = (value: string) => (value === '' ? '(empty)' : JSON.stringify(value));

function countLines(before: string, after: string): string {
  const remaining = new Map<string, number>();
  for (const line of before.split('\n')) remaining.set(line, (remaining.get(line) ?? 0) + 1);
  let added = 0;
  for (const line of after.split('\n')) {
    const n = remaining.get(line) ?? 0;
    if (n > 0) remaining.set(line, n - 1);
    else added++;
  }
  const removed = [...remaining.values()].reduce((a, b) => a + b, 0);
  return `+${added} -${removed} lines`;
}

/** One diff as `what: before → after` (short values) or `what: +a -b lines`. */
function diffLine(diff: Diff, target: string | undefined): string | undefined {
  if (typeof diff.prepared === 'string') return firstLines(diff.prepared, 120) || undefined;
  const { before, after } = diff;
  if (typeof before === 'string' && typeof after === 'string') {
    if (before === after) return undefined;
    // A module's after_header is often a temporary file: name the target instead.
    const header = text(diff.before_header) ?? target ?? text(diff.after_header) ?? 'content';
    const single = (s: string) => !s.trimEnd().includes('\n') && s.trim().length <= 80;
    if (single(before) && single(after)) return `${header}: ${shown(before.trim())} → ${shown(after.trim())}`;
    return `${header}: ${countLines(before, after)}`;
  }
  if (typeof before === 'object' && before !== null && typeof after === 'object' && after !== null) {
    const b = before as Record<string, unknown>;
    const a = after as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter((k) => JSON.stringify(b[k]) !== JSON.stringify(a[k]));
    if (keys.length === 0) return undefined;
    const path = text(a.path) ?? text(b.path) ?? text(diff.before_header) ?? target;
    const value = (v: unknown) => (v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));
    const changes = keys.map((k) => `${k}: ${value(b[k])} → ${value(a[k])}`).join(', ');
    return path === undefined ? changes : `${path} ${changes}`;
  }
  return undefined;
}

/** What a changed task changed, from the diff Ansible gives with `--diff`; undefined without one. */
export function diffSummary(result: Record<string, unknown>): string | undefined {
  const target = text(result.dest) ?? text(result.path);
  const lines = diffsOf(result)
    .map((diff) => diffLine(diff, target))
    .filter((l): l is string => l !== undefined);
  if (lines.length === 0) return undefined;
  const joined = lines.join('; ');
  return joined.length > 240 ? `${joined.slice(0, 239)}…` : joined;
}

/** The change line of a changed task: it names the task, and what changed when Ansible says. */
export function changeLine(result: TaskResult): string {
  const diff = diffSummary(result.result);
  return `task "${result.task}": changed${diff === undefined ? '' : ` (${diff})`}`;
}

const counted = (n: number, word: string) => `${n} ${word}`;

/**
 * Per host: failed (a task failed, or the host was unreachable), changed (one
 * line per changed task), else ok. Ansible's recap decides the status; the
 * results give the names and messages. Hosts in `order` first, in that order.
 */
export function summarize(events: PlaybookEvents, order: readonly string[] = []): HostSummary[] {
  const seen = [...new Set([...Object.keys(events.stats ?? {}), ...events.results.map((r) => r.host)])];
  const hosts = [...order.filter((h) => seen.includes(h)), ...seen.filter((h) => !order.includes(h))];
  return hosts.map((host) => {
    const results = events.results.filter((r) => r.host === host);
    const stats = events.stats?.[host];
    const counts = recapOf(events, host);
    const durationMs = results.reduce((sum, r) => sum + r.durationMs, 0);
    const unreachable = results.find((r) => r.status === 'unreachable');
    if (unreachable || (stats?.unreachable ?? 0) > 0) {
      const why = unreachable ? (text(unreachable.result.msg) ?? 'unreachable') : 'unreachable';
      return { host, status: 'failed', changes: [], unreachable: true, counts, durationMs, message: `unreachable at task "${unreachable?.task ?? '?'}": ${firstLines(why)}` };
    }
    // The recap decides (a failure a rescue block handled is not one); without it, the results do.
    const failed = results.filter((r) => r.status === 'failed' && !r.ignored);
    if (stats ? stats.failures > 0 : failed.length > 0) {
      const last = failed.at(-1);
      const message = last ? `task "${last.task}" failed: ${failureOf(last.result)}` : 'a task failed';
      return { host, status: 'failed', changes: [], unreachable: false, counts, durationMs, message };
    }
    const changed = results.filter((r) => r.status === 'changed');
    if (changed.length > 0) {
      return { host, status: 'changed', changes: changed.map(changeLine), unreachable: false, counts, durationMs };
    }
    const ok = results.filter((r) => r.status === 'ok').length;
    const skipped = results.filter((r) => r.status === 'skipped').length;
    return { host, status: 'ok', changes: [], unreachable: false, counts, durationMs, message: `${counted(ok, 'ok')}, ${counted(skipped, 'skipped')}` };
  });
}

/** The lines a task result adds to its node's log. */
export function logLines(result: TaskResult, playbook: string): string[] {
  const when = new Date(result.time * 1000).toISOString();
  const suffix = result.ignored ? ' (ignored)' : '';
  const r = result.result;
  // The command modules time the command itself (delta): the rest is Ansible and SSH.
  const delta = typeof r.delta === 'string' ? ` (command ${r.delta})` : '';
  const lines = [`# ${when} ansible ${playbook}: task "${result.task}" ${result.status}${suffix} ${result.durationMs.toFixed(0)}ms${delta}`];
  if (r.censored !== undefined) return [...lines, `(${CENSORED})`];
  if (result.status === 'skipped') return lines;
  if (Array.isArray(r.cmd)) lines.push(`$ ${quoteCommand(r.cmd.map(String))}`);
  else if (text(r.cmd) !== undefined) lines.push(`$ ${text(r.cmd) ?? ''}`);
  const stdout = text(r.stdout);
  const stderr = text(r.stderr) ?? text(r.module_stderr);
  if (stdout !== undefined) lines.push(stdout);
  if (stderr !== undefined) lines.push(`[stderr]\n${stderr}`);
  const msg = text(r.msg);
  if (msg !== undefined && stdout === undefined && stderr === undefined) lines.push(msg);
  for (const item of Array.isArray(r.results) ? (r.results as unknown[]) : []) {
    if (typeof item !== 'object' || item === null) continue;
    const i = item as Record<string, unknown>;
    const status = i.failed === true ? 'failed' : i.skipped === true ? 'skipped' : i.changed === true ? 'changed' : 'ok';
    const label = text(i._ansible_item_label) ?? JSON.stringify(i.item ?? null);
    const output = i.failed === true ? failureOf(i) : (text(i.stdout) ?? '');
    lines.push(`- item ${label}: ${status}${output === '' ? '' : ` ${firstLines(output)}`}`);
  }
  if (result.status === 'changed') {
    const diff = diffSummary(r);
    if (diff !== undefined) lines.push(`[diff] ${diff}`);
  }
  return lines;
}

/** A play, a task starting, or a task's result on a host, as it happens. */
export type LiveEvent =
  | { kind: 'play'; name: string }
  | { kind: 'task'; name: string }
  | { kind: 'result'; host: string; task: string; status: TaskResult['status']; ignored: boolean; message?: string };

/** The live events of whole lines of the callback's output (a line cut short is left for the next read). */
export function liveEventsOf(lines: readonly string[]): LiveEvent[] {
  const events: LiveEvent[] = [];
  for (const event of callbackEvents(lines)) {
    if (event.event === 'play') events.push({ kind: 'play', name: event.name });
    else if (event.event === 'task') events.push({ kind: 'task', name: event.name });
    else if (event.event === 'result') {
      const failed = event.status === 'failed' || event.status === 'unreachable';
      events.push({
        kind: 'result',
        host: event.host,
        task: event.task,
        status: event.status,
        ignored: event.ignored,
        ...(failed ? { message: firstLines(failureOf(event.result), 200) } : {}),
      });
    }
  }
  return events;
}
