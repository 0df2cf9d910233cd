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
  junit?: string;
  json?: string;
}

/** Every reporter a command asked for, fed the same events. */
export function createReporter(options: ReporterOptions): Reporter {
  const reporters: Reporter[] = [new TerminalReporter(options)];
  if (options.junit) reporters.push(new JunitReporter(options.junit));
  if (options.json) reporters.push(new JsonReporter(options.json));
  return combineReporters(reporters);
}
