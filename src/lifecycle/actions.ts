import type { Action } from '../config/index.js';
import { CheckFailed, ConfigError, InfraError, StepCrashed, UsageError } from '../errors.js';
import { lintScenarioAndPlaybooks } from '../lint/index.js';
import { ansibleSanityProblems } from '../steps/ansible/tools.js';
import type { ActionResult } from '../reporters/types.js';
import { runConvergeSteps, runVerifySteps, verifyCrashHint } from '../steps/run.js';
import { checkSyntax } from '../syntax/index.js';
import type { Session } from './session.js';

/** What an action adds to its result besides status and time. */
export type ActionOutput = Partial<Pick<ActionResult, 'converge' | 'verify' | 'message' | 'diagnostics'>>;

export type ActionHandler = (session: Session, signal: AbortSignal) => Promise<ActionOutput>;

/** The idempotence check failed: converge changed something on its second run. */
export class NotIdempotent extends CheckFailed {}

const destroy: ActionHandler = async (session, signal) => {
  const driverState = session.state.driverState;
  const recorded = driverState !== undefined && (driverState.nodes.length > 0 || Object.keys(driverState.data).length > 0);
  if (recorded) {
    session.close();
    session.phase('nodes');
    await session.driver.destroy(session.driverContext(signal), driverState);
    const { driverState: _gone, ...rest } = session.state;
    session.state = { ...rest, created: false, converged: false };
  }
  // Always, whatever the state names: a crash (kill -9) may have lost track of a run.
  session.phase('sweep');
  const swept = (await session.driver.sweep?.(session.driverContext(signal))) ?? [];
  session.phase('save state');
  await session.save({ created: false, converged: false });
  if (swept.length > 0) return { message: `swept what an earlier run left: ${swept.join('; ')}` };
  return recorded ? {} : { message: 'nothing to destroy' };
};

const syntax: ActionHandler = async (session) => {
  session.phase('check');
  const diagnostics = await checkSyntax(session.scenario);
  session.reporter.diagnostics?.('syntax', diagnostics);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    throw new ConfigError(`Scenario "${session.scenario.name}" has ${errors.length} syntax error${errors.length === 1 ? '' : 's'}.`, diagnostics, {
      hint: 'Fix each problem at the position shown; nothing was created.',
    });
  }
  return diagnostics.length > 0 ? { diagnostics } : {};
};

const create: ActionHandler = async (session) => {
  session.phase('sanity check');
  const ctx = session.driverContext();
  // Everything the scenario needs, said at once: the driver's prerequisites and Ansible's.
  const problems = [...(await session.driver.sanityCheck(ctx)), ...ansibleSanityProblems(session.scenario)];
  if (problems.length > 0) {
    throw new InfraError(
      `This machine cannot run scenario "${session.scenario.name}" with the ${session.driver.name} driver:\n${problems.map((p) => `  - ${p.problem} Fix: ${p.fix}`).join('\n')}`,
    );
  }
  session.phase('nodes');
  const driverState = await session.driver.create(ctx, session.scenario.platforms, session.state.driverState);
  session.phase('save state');
  await session.save({ driverState, created: true });
  return {};
};

const converge: ActionHandler = async (session) => {
  session.phase('check nodes');
  await session.assertNodesRunning();
  const results = await runConvergeSteps(session.stepInput());
  session.phase('save state');
  await session.save({ converged: true });
  return { converge: results };
};

const idempotence: ActionHandler = async (session) => {
  if (!session.state.converged) {
    throw new UsageError(`Scenario "${session.scenario.name}" has not been converged, so idempotence cannot be checked.`, {
      hint: `Run "swarm-molecule converge -s ${session.scenario.name}" first.`,
    });
  }
  session.phase('check nodes');
  await session.assertNodesRunning();
  const results = await runConvergeSteps(session.stepInput());
  session.phase('compare');
  const changes = results.flatMap((step) =>
    step.hosts.filter((h) => h.status === 'changed').map((h) => `  step "${step.name}" on ${h.host}: ${h.changes.join('; ')}`),
  );
  if (changes.length > 0) {
    const error = new NotIdempotent(`Idempotence failed: the second converge changed ${changes.length === 1 ? 'something' : `${changes.length} things`}:\n${changes.join('\n')}`, {
      hint: 'Each step must read the real state first and change nothing when it is already right.',
    });
    throw Object.assign(error, { converge: results });
  }
  return { converge: results, message: 'no changes' };
};

const lint: ActionHandler = async (session) => {
  session.phase('check');
  const findings = await lintScenarioAndPlaybooks(session.scenario);
  session.reporter.diagnostics?.('lint', findings);
  const errors = findings.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    throw Object.assign(
      new CheckFailed(`Lint found ${errors.length} error${errors.length === 1 ? '' : 's'} in scenario "${session.scenario.name}".`, {
        hint: 'Fix them, or turn a rule off under lint.rules in scenario.yml.',
      }),
      { diagnostics: findings },
    );
  }
  return { ...(findings.length > 0 ? { diagnostics: findings } : {}), message: findings.length === 0 ? 'clean' : `${findings.length} warning${findings.length === 1 ? '' : 's'}` };
};

const verify: ActionHandler = async (session) => {
  session.phase('check nodes');
  await session.assertNodesRunning();
  const results = await runVerifySteps(session.stepInput());
  session.phase('judge');
  const failed = results.filter((r) => r.status === 'failed' && !r.error);
  const crashed = results.filter((r) => r.error);
  if (crashed.length > 0) {
    const also = failed.length > 0 ? `; failed: ${failed.map((r) => r.name).join(', ')}` : '';
    throw Object.assign(
      new StepCrashed(`Verify step error: ${crashed.map((r) => `${r.name} threw ${r.error?.name ?? 'an error'}`).join(', ')}${also}.`, {
        ...(verifyCrashHint(results, session.scenario) ? { hint: verifyCrashHint(results, session.scenario) } : {}),
      }),
      { verify: results },
    );
  }
  if (failed.length > 0) {
    throw Object.assign(
      new CheckFailed(`Verify failed: ${failed.map((r) => r.name).join(', ')}.`, {
        hint: `Run "swarm-molecule login -s ${session.scenario.name} -h NODE" to inspect.`,
      }),
      { verify: results },
    );
  }
  return { verify: results };
};

/** The actions sequences are made of. */
export const actions: Record<Action, ActionHandler> = { destroy, syntax, create, converge, idempotence, lint, verify };
