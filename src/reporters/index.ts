import { JsonReporter } from './json.js';
import { JunitReporter } from './junit.js';
import { TerminalReporter } from './terminal.js';
import { combineReporters, type Reporter } from './types.js';

export type { ActionResult, Reporter, RunInfo, RunSummary } from './types.js';

export interface ReporterOptions {
  write(text: string): void;
  color: boolean;
  /** Timestamped lines for CI logs. */
  timestamps: boolean;
  /** Echo every remote command (`-v`). */
  verbose: boolean;
  /** A live progress line (a terminal, not CI). */
  live: boolean;
}

/** The report files a command asked for; one set is shared by every scenario of the command. */
export function createFileReporters(options: { junit?: string; json?: string }): Reporter {
  const reporters: Reporter[] = [];
  if (options.junit) reporters.push(new JunitReporter(options.junit));
  if (options.json) reporters.push(new JsonReporter(options.json));
  return combineReporters(reporters);
}

/** One scenario's reporters: its terminal output, plus the shared report files. */
export function createReporter(options: ReporterOptions, files: Reporter): Reporter {
  return combineReporters([new TerminalReporter(options), files]);
}
