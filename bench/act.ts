/**
 * Run actions of a scenario in this process, with the runner the CLI uses, and
 * return how long each action (and each verify step) took, in ms. A failed
 * action stops the bench: its figures would mean nothing.
 */
import type { Action, Scenario } from '../dist/config/index.js';
import { runSequence } from '../dist/lifecycle/runner.js';
import type { ActionResult, Reporter } from '../dist/reporters/types.js';

export async function act(scenario: Scenario, dir: string, sequence: Action[]): Promise<Map<string, number>> {
  const durations = new Map<string, number>();
  const reporter: Reporter = {
    actionEnd: (r: ActionResult) => {
      if (r.status === 'failed') throw new Error(`${r.action} failed: ${r.message ?? ''}`);
      durations.set(r.action, r.durationMs);
    },
    verifyResult: (r) => durations.set(`verify ${r.name}`, r.durationMs),
  };
  const summary = await runSequence(scenario, {
    projectDir: dir,
    command: 'bench',
    sequence,
    reporter,
    signal: new AbortController().signal,
    cleanupSignal: new AbortController().signal,
  });
  if (summary.status !== 'passed') throw new Error(`bench ${sequence.join(',')} did not pass: ${JSON.stringify(summary.actions.at(-1))}`);
  return durations;
}
