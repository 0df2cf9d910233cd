import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { PlatformConfig, Scenario, StepConfig } from '../config/index.js';
import { isManager, isWorker, LEADER_GROUP, MANAGER_GROUP } from '../config/roles.js';
import { loadScenario } from '../config/index.js';
import { ExitCode, UsageError } from '../errors.js';
import { runSequence } from '../lifecycle/runner.js';
import { DEFAULT_SCENARIO } from '../lifecycle/scenario-name.js';
import { electionSvg, electionTable, stats, type ElectionSample } from '../reporters/election.js';
import { createReporter } from '../reporters/index.js';
import type { Reporter } from '../reporters/types.js';
import { ELECTION, FIRST_WRITE, SETTINGS } from '../steps/builtin/measure-election.js';
import type { VerifyStepResult } from '../steps/types.js';
import { interruptSignals } from './interrupt.js';
import type { CliOptions } from './options.js';
import { color, inCi, out } from './output.js';

export type MeasureOptions = Pick<CliOptions, 'scenarioName' | 'managers' | 'repeat' | 'json' | 'svg' | 'verbose'>;

const STEP = 'swarm/measure-election';

/**
 * The scenario with `managers` managers (manager-01 initialises the swarm) and
 * its own workers, named apart so that its nodes and state are its own; its
 * verify is the election measurement alone.
 */
export function electionScenario(scenario: Scenario, managers: number | undefined, repeat: number): Scenario {
  const verify: StepConfig[] = [{ section: 'verify', index: 0, step: STEP, with: { repeat } }];
  if (managers === undefined) return { ...scenario, verify };
  const template: PlatformConfig = scenario.platforms.find(isManager) ?? { name: 'manager-01', groups: [], labels: {} };
  const made: PlatformConfig[] = Array.from({ length: managers }, (_, i) => ({
    ...template,
    name: `manager-${String(i + 1).padStart(2, '0')}`,
    groups: i === 0 ? [LEADER_GROUP, MANAGER_GROUP] : [MANAGER_GROUP],
    labels: {},
  }));
  return { ...scenario, name: `${scenario.name}-managers-${managers}`, platforms: [...made, ...scenario.platforms.filter(isWorker)], verify };
}

/** The figures of one run of the step, from its measurements. */
export function sampleOf(managers: number, result: VerifyStepResult): ElectionSample {
  const values = (prefix: string) => result.measurements.filter((m) => new RegExp(`^${prefix} \\d+$`).test(m.name)).map((m) => m.value);
  const setting = (name: string) => result.measurements.find((m) => m.name === name)?.value ?? 0;
  return {
    managers,
    electionMs: values(ELECTION),
    firstWriteMs: values(FIRST_WRITE),
    settings: { electionTick: setting(SETTINGS[0]), heartbeatTick: setting(SETTINGS[1]), heartbeatPeriodMs: setting(SETTINGS[2]) },
  };
}

/**
 * `measure election`: stop the Leader `--repeat` times on the scenario's own
 * cluster (kept, as `verify` keeps it), or on each size of `--managers` in turn
 * (each made, measured and destroyed); print one table, write the chart and,
 * with `--json`, the figures.
 */
export async function measureElection(projectDir: string, what: string, options: MeasureOptions): Promise<number> {
  if (what !== 'election') throw new UsageError(`There is nothing called "${what}" to measure.`, { hint: 'Run "swarm-molecule measure election".' });
  const name = options.scenarioName ?? DEFAULT_SCENARIO;
  const scenario = await loadScenario(projectDir, name);
  const repeat = options.repeat ?? 5;
  const sizes: (number | undefined)[] = options.managers ?? [undefined];
  const signals = interruptSignals();
  const samples: ElectionSample[] = [];
  try {
    for (const size of sizes) {
      const variant = electionScenario(scenario, size, repeat);
      let result: VerifyStepResult | undefined;
      const capture: Reporter = { verifyResult: (r) => void (result = r) };
      const reporter = createReporter({ write: out, color: color(), timestamps: inCi(), verbose: Boolean(options.verbose), live: !inCi() }, capture);
      const summary = await runSequence(variant, {
        projectDir,
        command: 'measure',
        // A size of our own is made and destroyed; the scenario's own cluster is used as verify would.
        sequence: size === undefined ? ['create', 'converge', 'verify'] : ['destroy', 'create', 'converge', 'verify', 'destroy'],
        reporter,
        signal: signals.signal,
        cleanupSignal: signals.cleanupSignal,
      });
      if (summary.exitCode !== ExitCode.passed || !result) return summary.exitCode || ExitCode.checkFailed;
      samples.push(sampleOf(variant.platforms.filter(isManager).length, result));
    }
  } finally {
    signals.dispose();
  }
  out(`\nElection time (${repeat} per size): from the Leader's death to a new Leader, and to the first write accepted\n${electionTable(samples)}`);
  const svgPath = resolve(projectDir, options.svg ?? join('.swarm-molecule', name, 'election.svg'));
  await mkdir(dirname(svgPath), { recursive: true });
  await writeFile(svgPath, electionSvg(samples, `Swarm leader election: ${scenario.name} on the ${scenario.driver.name} driver`));
  out(`chart: ${svgPath}\n`);
  if (options.json) {
    const json = samples.map((sample) => ({ ...sample, election: stats(sample.electionMs), firstWrite: stats(sample.firstWriteMs) }));
    await mkdir(dirname(resolve(options.json)), { recursive: true });
    await writeFile(options.json, `${JSON.stringify({ scenario: scenario.name, driver: scenario.driver.name, repeat, sizes: json }, null, 2)}\n`);
    out(`figures: ${resolve(options.json)}\n`);
  }
  return ExitCode.passed;
}
