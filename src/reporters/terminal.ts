import { Chalk, type ChalkInstance } from 'chalk';
import type { Action, StepSection } from '../config/index.js';
import type { Diagnostic } from '../errors.js';
import { secrets } from '../secrets/index.js';
import { quoteCommand, type CommandResult } from '../transport/index.js';
import type { AnsibleRecap, HostResult, HostStatus, StepCrash, TaskLine, VerifyStepResult, WaitProgress } from '../steps/types.js';
import { formatDiagnostics } from './diagnostics.js';
import { spansText } from './spans.js';
import type { ActionPhase, ActionResult, Reporter, RunInfo, RunSummary } from './types.js';

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** The label of the whole command's row in the summary, distinct from any action's. */
export const TOTAL = 'total';

/** What the summary leaves out of an action's phases (`--json` and JUnit keep them all): it would print as 0.00s. */
const NEGLIGIBLE_MS = 5;

/** `start 0.41s · steps 3.60s · save state 0.01s`: an action's phases, in order. */
export function phasesText(phases: readonly ActionPhase[]): string {
  return phases
    .filter((p) => p.durationMs >= NEGLIGIBLE_MS)
    .map((p) => `${p.name} ${(p.durationMs / 1000).toFixed(2)}s`)
    .join(' · ');
}

export interface TerminalOptions {
  write(text: string): void;
  /** Colour (a terminal, not CI). */
  color: boolean;
  /** Wall-clock time on each action header, for CI logs. */
  timestamps?: boolean;
  /** Echo every remote command (`-v`). */
  verbose?: boolean;
  /** A live line at the bottom: the running action and step, what it waits for, the time (a terminal). */
  live?: boolean;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * A line per step per host, a recap per host and a summary of the actions:
 * what a person reads at a glance, coloured on a terminal and plain in CI.
 */
export class TerminalReporter implements Reporter {
  readonly #write: (text: string) => void;
  readonly #c: ChalkInstance;
  /** Per action (converge, idempotence), per host: the counts of the RECAP of built-in and TypeScript steps. */
  readonly #recap = new Map<Action, Map<string, Record<HostStatus, number>>>();
  /** Per action, per host: Ansible's own PLAY RECAP counts, summed over the action's playbook runs. */
  readonly #playRecap = new Map<Action, Map<string, PlayRecapRow>>();
  readonly #options: TerminalOptions;
  #action: Action | undefined;
  #hosts: readonly string[] = [];

  constructor(options: TerminalOptions) {
    this.#options = options;
    this.#write = (text) => options.write(secrets.mask(text));
    this.#c = new Chalk({ level: options.color ? 1 : 0 });
  }

  command(node: string, result: CommandResult): void {
    if (!this.#options.verbose) return;
    const status = result.exitCode === 0 ? '' : this.#c.red(` exit ${result.exitCode}`);
    this.#line(this.#c.dim(`       ${node} $ ${quoteCommand(result.argv)}${status} (${seconds(result.durationMs)})`));
  }

  note(node: string, message: string): void {
    if (!this.#options.verbose) return;
    this.#line(this.#c.dim(`       ${node} # ${message}`));
  }

  #liveText = '';
  #statusSince = 0;
  /** The timeout of what the live line waits for, shown beside the time spent. */
  #liveTimeoutMs: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #frame = 0;

  #line(text = ''): void {
    // The live line is redrawn below whatever is printed.
    this.#write(`${this.#options.live && this.#liveText ? '\r\x1b[2K' : ''}${text}\n`);
    this.#drawStatus();
  }

  #drawStatus(): void {
    if (!this.#options.live || !this.#liveText) return;
    const elapsed = ((performance.now() - this.#statusSince) / 1000).toFixed(0);
    const clock = this.#liveTimeoutMs === undefined ? `${elapsed}s` : `(${elapsed} s of ${(this.#liveTimeoutMs / 1000).toFixed(0)} s)`;
    this.#options.write(`\r\x1b[2K${this.#c.cyan(SPINNER[this.#frame++ % SPINNER.length] ?? '')} ${this.#liveText} ${this.#c.dim(clock)}`);
  }

  #setStatus(status: string, timeoutMs?: number, since?: number): void {
    if (!this.#options.live) return;
    this.#liveText = status;
    this.#statusSince = since ?? performance.now();
    this.#liveTimeoutMs = timeoutMs;
    this.#timer ??= setInterval(() => this.#drawStatus(), 120).unref();
    this.#drawStatus();
  }

  /**
   * What a step waits for, then what it last saw as it changes, with the time
   * spent out of its timeout: `verify › swarm/rolling-update › 2/3 tasks of app:v2 running (16 s of 120 s)`.
   */
  waiting(step: string, description: string, progress?: WaitProgress): void {
    const where = `${this.#action ?? ''} › ${step} › `;
    const text = progress?.observed !== undefined ? `${where}${oneLine(progress.observed)}` : `${where}waiting for ${description}`;
    // A new observed value of the same wait keeps its clock.
    const same = progress?.observed !== undefined && this.#waitingFor === `${step}\0${description}`;
    this.#waitingFor = `${step}\0${description}`;
    this.#setStatus(text, progress?.timeoutMs, same ? this.#statusSince : undefined);
  }

  #waitingFor = '';

  #status(status: string): string {
    const c = this.#c;
    const padded = status.padEnd(8);
    switch (status) {
      case 'ok':
      case 'passed':
        return c.green(padded);
      case 'changed':
        return c.yellow(padded);
      case 'failed':
      case 'error':
        return c.red(padded);
      default:
        return c.cyan(padded);
    }
  }

  runStart(info: RunInfo): void {
    const c = this.#c;
    this.#hosts = info.hosts ?? [];
    this.#line(c.bold(`swarm-molecule ${info.command}`) + c.dim(`  scenario ${info.scenario} · driver ${info.driver}`));
    this.#line(c.dim(`  ${info.actions.join(' → ')}`));
  }

  actionStart(action: Action): void {
    this.#action = action;
    this.#setStatus(action);
    this.#line();
    const clock = this.#options.timestamps ? this.#c.dim(`  ${new Date().toISOString().slice(11, 19)}`) : '';
    this.#line(this.#c.bold.blue(`── ${action}`) + clock);
  }

  driverLog(line: string, node?: string): void {
    this.#line(`   ${node ? `${node.padEnd(16)} ` : ''}${this.#c.dim(line)}`);
  }

  stepStart(_section: StepSection, name: string): void {
    this.#waitingFor = '';
    this.#setStatus(`${this.#action ?? _section} › ${name}`);
    if (_section !== 'verify') this.#line(`   ${this.#c.bold(name)}`);
  }

  hostResult(_step: string, result: HostResult): void {
    const action = this.#action ?? 'converge';
    if (result.ansible) this.#countPlay(action, result.host, result.status, result.ansible);
    else {
      const byHost = this.#recap.get(action) ?? new Map<string, Record<HostStatus, number>>();
      this.#recap.set(action, byHost);
      const counts = byHost.get(result.host) ?? { ok: 0, changed: 0, failed: 0, skipped: 0 };
      counts[result.status]++;
      byHost.set(result.host, counts);
    }
    const detail = result.status === 'changed' ? result.changes.join('; ') : (result.message ?? '');
    const label = result.error ? 'error' : result.status;
    this.#line(`     ${this.#status(label)} ${result.host.padEnd(16)} ${this.#c.dim(seconds(result.durationMs).padStart(6))}  ${result.error ? this.#c.red(detail) : detail}`);
    if (result.error) this.#crash(result.error, 14);
  }

  /** A playbook step's host: Ansible's counts add up per action, as in one long PLAY RECAP. */
  #countPlay(action: Action, host: string, status: HostStatus, recap: AnsibleRecap): void {
    const byHost = this.#playRecap.get(action) ?? new Map<string, PlayRecapRow>();
    this.#playRecap.set(action, byHost);
    const row = byHost.get(host) ?? { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0, stopped: false, fromTasks: false };
    for (const key of PLAY_RECAP_KEYS) row[key] += recap[key];
    // A play-level error stops the run with no failed task: Ansible counts nothing failed, but the host did not converge.
    if (status === 'failed' && recap.failed === 0 && recap.unreachable === 0) row.stopped = true;
    if (!recap.fromRecap) row.fromTasks = true;
    byHost.set(host, row);
  }

  taskStart(step: string, task: string): void {
    this.#setStatus(`${this.#action ?? ''} › ${step} › TASK ${task}`);
  }

  /** Ansible's task lines as they happen: changed and failed ones always, every one with -v. */
  taskResult(_step: string, result: TaskLine): void {
    const shown = this.#options.verbose || result.status === 'changed' || ((result.status === 'failed' || result.status === 'unreachable') && !result.ignored);
    if (!shown) return;
    // A failure's text comes once, with the host's result when the playbook ends.
    const label = result.ignored ? 'ignored' : result.status;
    this.#line(this.#c.dim(`       · ${label.padEnd(8)} ${result.host.padEnd(16)} ${result.task}`));
  }

  log(line: string, step: string, host?: string): void {
    const where = this.#action === 'verify' ? `${step}: ` : host ? `${host}: ` : '';
    this.#line(`            ${this.#c.dim(`${where}${line}`)}`);
  }

  /** Where a step's code threw: the code frame of its file, then the stack (as vitest shows). */
  #crash(crash: StepCrash, spaces: number): void {
    const c = this.#c;
    if (crash.file) this.#line(`${' '.repeat(spaces)}${c.cyan(`❯ ${crash.file}:${crash.line ?? 0}:${crash.col ?? 0}`)}`);
    if (crash.frame) this.#line(indent(crash.frame, spaces + 2));
    const frames = crash.stack
      .split('\n')
      .filter((line) => /^\s+at /.test(line) && !line.includes('node:internal') && !line.includes('/node_modules/'))
      .map((line) => line.trim());
    if (frames.length > 0) this.#line(c.dim(indent(frames.join('\n'), spaces)));
  }

  verifyResult(result: VerifyStepResult): void {
    const c = this.#c;
    const label = result.error ? 'error' : result.status;
    this.#line(`   ${this.#status(label)} ${result.name.padEnd(26)} ${c.dim(seconds(result.durationMs).padStart(6))}`);
    if (result.message) this.#line(`            ${result.status === 'failed' ? c.red(result.message) : result.message}`);
    if (result.error) this.#crash(result.error, 12);
    if (result.status === 'failed' && result.expected !== undefined) {
      this.#line(`            expected:\n${indent(result.expected, 14)}`);
      this.#line(`            observed:\n${indent(result.observed ?? '', 14)}`);
    }
  }

  diagnostics(_action: Action, diagnostics: Diagnostic[]): void {
    if (diagnostics.length === 0) return;
    this.#line(indent(formatDiagnostics(diagnostics, { format: 'text', color: this.#c.level > 0 }), 3));
  }

  actionEnd(result: ActionResult): void {
    const c = this.#c;
    for (const warning of result.warnings ?? []) this.#line(`   ${c.yellow(`warning: ${warning}`)}`);
    if (result.status === 'failed' && result.message) {
      this.#line(`   ${c.red(result.message)}`);
      if (result.hint) this.#line(`   ${c.dim(`→ ${result.hint}`)}`);
      if (result.stack) this.#line(c.dim(indent(result.stack, 3)));
    } else if (result.status === 'passed' && result.message) {
      this.#line(`   ${c.dim(result.message)}`);
    } else if (result.status === 'skipped') {
      this.#line();
      this.#line(c.dim(`── ${result.action} (${result.message ?? 'skipped'})`));
    }
  }

  runEnd(summary: RunSummary): void {
    const c = this.#c;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#liveText) this.#options.write('\r\x1b[2K');
    this.#liveText = '';
    // Hosts in the scenario's order, not the order they finished in.
    const order = (host: string) => (this.#hosts.includes(host) ? this.#hosts.indexOf(host) : this.#hosts.length);
    const actions = [...new Set([...this.#recap.keys(), ...this.#playRecap.keys()])];
    for (const action of actions) {
      const byHost = this.#recap.get(action);
      if (byHost) {
        this.#line();
        this.#line(c.bold(`RECAP ${action}`));
        for (const [host, n] of [...byHost].sort(([a], [b]) => order(a) - order(b))) {
          const part = (label: HostStatus, color: (s: string) => string) => (n[label] > 0 ? color(`${label}=${n[label]}`) : `${label}=0`);
          this.#line(`  ${host.padEnd(18)} ${part('ok', c.green)}  ${part('changed', c.yellow)}  ${part('failed', c.red)}  ${part('skipped', c.cyan)}`);
        }
      }
      const plays = this.#playRecap.get(action);
      if (plays) {
        // Ansible's own PLAY RECAP, in its words: what an Ansible user reads.
        this.#line();
        this.#line(c.bold(`PLAY RECAP ${action}`));
        for (const [host, n] of [...plays].sort(([a], [b]) => order(a) - order(b))) {
          const colors: Record<(typeof PLAY_RECAP_KEYS)[number], (s: string) => string> = {
            ok: c.green,
            changed: c.yellow,
            unreachable: c.red,
            failed: c.red,
            skipped: c.cyan,
            rescued: c.magenta,
            ignored: c.magenta,
          };
          const parts = PLAY_RECAP_KEYS.map((key) => (n[key] > 0 ? colors[key](`${key}=${n[key]}`) : `${key}=0`)).join('  ');
          const notes = [
            ...(n.stopped ? [c.red('stopped: the playbook ended with an error before any task failed')] : []),
            ...(n.fromTasks ? [c.dim('(no recap from Ansible: counted from its task results)')] : []),
          ];
          this.#line(`  ${host.padEnd(18)} ${parts}${notes.length > 0 ? `  ${notes.join(' ')}` : ''}`);
        }
      }
    }
    this.#line();
    this.#line(c.bold('SUMMARY'));
    // Each action with where its time went, then the whole command under its own label:
    // the command's time also holds what no action does (the lock, reading the state).
    for (const result of summary.actions) {
      this.#line(`  ${result.action.padEnd(13)} ${this.#status(result.status)} ${seconds(result.durationMs).padStart(7)}`);
      const phases = phasesText(result.phases ?? []);
      if (phases) this.#line(c.dim(`      ${phases}`));
      // The converge walk is one phase (its steps overlap): when each step ran inside it.
      // Steps under 5 ms (an idempotence run that finds everything in place) are left out, as phases are.
      for (const phase of result.phases ?? []) {
        const spans = (phase.spans ?? []).filter((span) => span.durationMs >= NEGLIGIBLE_MS);
        if (spans.length > 0) this.#line(c.dim(`        ${phase.name}: ${spansText(spans)}`));
      }
    }
    const verdict = summary.status === 'passed' ? c.green.bold('passed') : c.red.bold(summary.status);
    this.#line(`  ${c.bold(TOTAL.padEnd(13))} ${verdict}${' '.repeat(Math.max(1, 9 - summary.status.length))}${seconds(summary.durationMs).padStart(7)}  (exit ${summary.exitCode})`);
    if (summary.leftover) this.#line(c.red(summary.leftover));
  }
}

/** Ansible's PLAY RECAP columns, in its order. */
const PLAY_RECAP_KEYS = ['ok', 'changed', 'unreachable', 'failed', 'skipped', 'rescued', 'ignored'] as const;

type PlayRecapRow = Record<(typeof PLAY_RECAP_KEYS)[number], number> & {
  /** The host failed without a failed task (a play-level error): Ansible's counts alone would read as a pass. */
  stopped: boolean;
  /** Some of the counts come from task results, not Ansible's recap (the run stopped before it). */
  fromTasks: boolean;
};

const oneLine = (text: string) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 100 ? `${flat.slice(0, 99)}…` : flat;
};

function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((line) => (line ? pad + line : line))
    .join('\n');
}
