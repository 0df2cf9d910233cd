import pLimit from 'p-limit';
import type { Scenario, SequenceCommand } from '../config/index.js';
import { type ConfigError, ExitCode, UsageError } from '../errors.js';
import { syntaxRefusal } from '../lifecycle/preflight.js';
import { reportRefused, runSequence } from '../lifecycle/runner.js';
import { formatConfigError } from '../reporters/diagnostics.js';
import { createFileReporters, createReporter, type RunSummary } from '../reporters/index.js';
import { interruptSignals } from './interrupt.js';
import type { CliOptions } from './options.js';
import { color, err, inCi, out } from './output.js';
import { loadSelected, type Loaded, type ScenarioSelection } from './scenarios.js';
import { shardOf } from './shard.js';

/** The commands that walk a sequence of actions. */
export type LifecycleCommand = SequenceCommand | 'idempotence';

export type SequenceOptions = ScenarioSelection &
  Pick<CliOptions, 'junit' | 'json' | 'verbose' | 'parallel' | 'shard' | 'destroy' | 'host' | 'limit' | 'step' | 'debug'> & {
    /** What followed "--": given to every ansible-playbook run. */
    ansibleArgs?: readonly string[];
  };

/** `--host`/`--limit`: the nodes named, each one a platform of the scenario. */
function nodeLimit(scenario: Scenario, options: SequenceOptions): string[] | undefined {
  const names = [options.host, options.limit].filter((v): v is string => Boolean(v)).flatMap((v) => v.split(',').map((n) => n.trim()).filter(Boolean));
  if (names.length === 0) return undefined;
  const platforms = scenario.platforms.map((p) => p.name);
  const unknown = names.filter((n) => !platforms.includes(n));
  if (unknown.length > 0) {
    throw new UsageError(`Scenario "${scenario.name}" has no node named ${unknown.map((n) => `"${n}"`).join(', ')}.`, { hint: `Its nodes: ${platforms.join(', ')}.` });
  }
  return names;
}

/** `--step`: only the verify entries whose name, step or playbook is the pattern or matches it as a regular expression. */
function withSteps(scenario: Scenario, pattern: string | undefined): Scenario {
  if (pattern === undefined) return scenario;
  let regex: RegExp;
  try {
    regex = new RegExp(pattern);
  } catch (error) {
    throw new UsageError(`--step "${pattern}" is neither a step name nor a regular expression: ${error instanceof Error ? error.message : String(error)}.`);
  }
  const names = (e: Scenario['verify'][number]) => [e.name, e.step, e.playbook].filter((v): v is string => v !== undefined);
  const verify = scenario.verify.filter((e) => names(e).some((n) => n === pattern || regex.test(n)));
  if (verify.length === 0) {
    throw new UsageError(`No verify step of scenario "${scenario.name}" matches --step "${pattern}".`, {
      hint: `Its verify steps: ${scenario.verify.map((e) => names(e)[0] ?? '?').join(', ')}.`,
    });
  }
  return { ...scenario, verify };
}

/**
 * Run a command's sequence on each selected scenario; the exit code is the worst one.
 * A scenario that does not load or fails the syntax check is a failed run in the
 * reports (exit 2), and the others still run.
 */
export async function runSequenceCommand(command: LifecycleCommand, options: SequenceOptions): Promise<number> {
  const selected = shardOf(await loadSelected(process.cwd(), options), options.shard);
  const sequenceOf = (scenario: Scenario) => (command === 'idempotence' ? (['idempotence'] as const) : scenario.sequences[command]);
  // Command-line choices are checked on every scenario before the first one runs.
  const planned: Loaded[] = selected.map((l) => (l.scenario ? { name: l.name, scenario: withSteps(l.scenario, options.step) } : l));
  const limits = new Map<string, string[] | undefined>(planned.flatMap((l) => (l.scenario ? [[l.name, nodeLimit(l.scenario, options)] as const] : [])));
  // Every scenario checked before the first one is touched.
  const refused = new Map<string, { error: ConfigError; driver?: string }>();
  for (const l of planned) {
    if (l.error) refused.set(l.name, { error: l.error });
    else {
      const error = await syntaxRefusal({ scenario: l.scenario, sequence: sequenceOf(l.scenario) });
      if (error) refused.set(l.name, { error, driver: l.scenario.driver.name });
    }
  }
  const parallel = options.parallel ?? 1;
  const files = createFileReporters(options);
  const signals = interruptSignals();
  const limit = pLimit(parallel);
  const runOne = async (scenario: Scenario) => {
    // In parallel, each scenario's output is held and printed as one block when it ends.
    const held: string[] = [];
    const write = parallel > 1 ? (text: string) => void held.push(text) : out;
    // A live line only where one block is printed at a time, on a terminal.
    const live = !inCi() && parallel === 1;
    const reporter = createReporter({ write, color: color(), timestamps: inCi(), verbose: Boolean(options.verbose), live }, files);
    try {
      const sequence = sequenceOf(scenario);
      return await runSequence(scenario, {
        projectDir: process.cwd(),
        command,
        sequence: [...sequence],
        ...(options.destroy ? { destroy: options.destroy } : {}),
        ...(limits.get(scenario.name) ? { limit: limits.get(scenario.name) } : {}),
        ...(options.debug ? { debug: true } : {}),
        ...(options.ansibleArgs && options.ansibleArgs.length > 0 ? { ansibleArgs: options.ansibleArgs } : {}),
        reporter,
        signal: signals.signal,
        cleanupSignal: signals.cleanupSignal,
      });
    } finally {
      if (held.length > 0) out(`${held.join('')}\n`);
    }
  };
  try {
    // The refused first, each said as the error it is (as for one scenario alone) and a failed run in the report files.
    const refusals = new Map<string, RunSummary>();
    for (const [name, refusal] of refused) {
      err(formatConfigError(refusal.error, color()));
      refusals.set(name, reportRefused(name, refusal.error, { command, reporter: files, ...(refusal.driver ? { driver: refusal.driver } : {}) }));
    }
    const runs = planned.map(async (l): Promise<RunSummary | undefined> => {
      const refusal = refusals.get(l.name);
      if (refusal || !l.scenario) return refusal;
      const scenario = l.scenario;
      return limit(() => (signals.signal.aborted ? undefined : runOne(scenario)));
    });
    const summaries = await Promise.all(runs);
    if (planned.length > 1) {
      out(`\n${planned.length} scenarios: ${summaries.map((s, i) => `${planned[i]?.name ?? '?'} ${s?.status ?? 'not run'}`).join(', ')}\n`);
    }
    return Math.max(ExitCode.passed, ...summaries.map((s) => s?.exitCode ?? ExitCode.interrupted));
  } finally {
    signals.dispose();
  }
}
