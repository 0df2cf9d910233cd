import { Chalk, type ChalkInstance } from 'chalk';
import type { Action } from '../config/index.js';
import type { Diagnostic } from '../errors.js';
import { secrets } from '../secrets/index.js';
import { quoteCommand, type CommandResult } from '../transport/index.js';
import type { HostResult, HostStatus, VerifyStepResult } from '../steps/types.js';
import { formatDiagnostics } from './diagnostics.js';
import type { ActionResult, Reporter, RunInfo, RunSummary } from './types.js';

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

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
  readonly #recap = new Map<string, Record<HostStatus, number>>();
  readonly #options: TerminalOptions;
  #action: Action | undefined;

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

  #liveText = '';
  #statusSince = 0;
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
    this.#options.write(`\r\x1b[2K${this.#c.cyan(SPINNER[this.#frame++ % SPINNER.length] ?? '')} ${this.#liveText} ${this.#c.dim(`${elapsed}s`)}`);
  }

  #setStatus(status: string): void {
    if (!this.#options.live) return;
    this.#liveText = status;
    this.#statusSince = performance.now();
    this.#timer ??= setInterval(() => this.#drawStatus(), 120).unref();
    this.#drawStatus();
  }

  waiting(step: string, description: string): void {
    this.#setStatus(`${this.#action ?? ''} › ${step} › waiting for ${description}`);
  }

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
        return c.red(padded);
      default:
        return c.cyan(padded);
    }
  }

  runStart(info: RunInfo): void {
    const c = this.#c;
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

  stepStart(_section: 'converge' | 'verify', name: string): void {
    this.#setStatus(`${this.#action ?? _section} › ${name}`);
    if (_section === 'converge') this.#line(`   ${this.#c.bold(name)}`);
  }

  hostResult(_step: string, result: HostResult): void {
    const counts = this.#recap.get(result.host) ?? { ok: 0, changed: 0, failed: 0, skipped: 0 };
    counts[result.status]++;
    this.#recap.set(result.host, counts);
    const detail = result.status === 'changed' ? result.changes.join('; ') : (result.message ?? '');
    this.#line(`     ${this.#status(result.status)} ${result.host.padEnd(16)} ${this.#c.dim(seconds(result.durationMs).padStart(6))}  ${detail}`);
  }

  log(line: string, step: string): void {
    if (this.#action === 'verify') this.#line(`            ${this.#c.dim(`${step}: ${line}`)}`);
  }

  verifyResult(result: VerifyStepResult): void {
    const c = this.#c;
    this.#line(`   ${this.#status(result.status)} ${result.name.padEnd(26)} ${c.dim(seconds(result.durationMs).padStart(6))}`);
    if (result.message) this.#line(`            ${result.status === 'failed' ? c.red(result.message) : result.message}`);
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
    if (result.status === 'failed' && result.message) {
      this.#line(`   ${c.red(result.message)}`);
      if (result.hint) this.#line(`   ${c.dim(`→ ${result.hint}`)}`);
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
    if (this.#recap.size > 0) {
      this.#line();
      this.#line(c.bold('RECAP'));
      for (const [host, n] of this.#recap) {
        const part = (label: HostStatus, color: (s: string) => string) => (n[label] > 0 ? color(`${label}=${n[label]}`) : `${label}=0`);
        this.#line(`  ${host.padEnd(18)} ${part('ok', c.green)}  ${part('changed', c.yellow)}  ${part('failed', c.red)}  ${part('skipped', c.cyan)}`);
      }
    }
    this.#line();
    this.#line(c.bold('SUMMARY'));
    for (const result of summary.actions) {
      this.#line(`  ${result.action.padEnd(13)} ${this.#status(result.status)} ${seconds(result.durationMs).padStart(7)}`);
    }
    const verdict = summary.status === 'passed' ? c.green.bold('passed') : c.red.bold(summary.status);
    this.#line(`  ${c.bold(summary.info.command.padEnd(13))} ${verdict}${' '.repeat(Math.max(1, 9 - summary.status.length))}${seconds(summary.durationMs).padStart(7)}  (exit ${summary.exitCode})`);
    if (summary.leftover) this.#line(c.red(summary.leftover));
  }
}

function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((line) => (line ? pad + line : line))
    .join('\n');
}
