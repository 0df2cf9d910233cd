import type { Reporter, RunSummary } from './types.js';
import { writeReport } from './junit.js';

/** `--json FILE`: the whole run (actions, steps, hosts, statuses, durations, changes). */
export class JsonReporter implements Reporter {
  readonly #summaries: RunSummary[] = [];
  constructor(private readonly file: string) {}

  runEnd(summary: RunSummary): void {
    this.#summaries.push(summary);
    const passed = this.#summaries.every((s) => s.status === 'passed');
    writeReport(this.file, `${JSON.stringify({ tool: 'swarm-molecule', passed, scenarios: this.#summaries }, null, 2)}\n`);
  }
}
