import type { Action } from '../config/index.js';
import { CheckFailed, ConfigError, InfraError, StepCrashed, UsageError } from '../errors.js';
import { lintScenarioAndPlaybooks } from '../lint/index.js';
import { ansibleSanityProblems, DEPENDENCY_LINT_CODE, IDEMPOTENCE_NOTEST_TAG } from '../steps/ansible/tools.js';
import type { ActionResult } from '../reporters/types.js';
import { runConvergeSteps, runVerifySteps, verifyCrashHint } from '../steps/run.js';
import { checkSyntax } from '../syntax/index.js';
import type { Session } from './session.js';

/** What an action adds to its result besides status and time. */
export type ActionOutput = Partial<Pick<ActionResult, 'converge' | 'verify' | 'message' | 'diagnostics' | 'warnings'>>;

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
    session.state = { ...rest, created: false, converged: false, prepared: false };
  }
  // Always, whatever the state names: a crash (kill -9) may have lost track of a run.
  session.phase('sweep');
  const swept = (await session.driver.sweep?.(session.driverContext(signal))) ?? [];
  session.phase('save state');
  await session.save({ created: false, converged: false, prepared: false });
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

/** Molecule's dependency: the requirements' roles and collections, installed into the project's cache (or found there). */
const dependency: ActionHandler = async (session, signal) => {
  session.phase('install');
  const { installDependencies } = await import('../steps/ansible/dependency.js');
  const outcome = await installDependencies(session.scenario, { signal, env: session.scenario.ansible.env });
  return { message: outcome.message };
};

/** Molecule's prepare: once per set of nodes, after create; idempotence never runs it again. */
const prepare: ActionHandler = async (session) => {
  if (session.scenario.prepare.length === 0) return { message: 'no prepare steps' };
  if (session.state.prepared) return { message: 'these nodes are prepared already (destroy them to prepare again)' };
  const results = await runConvergeSteps(session.stepInput(), 'prepare');
  session.phase('save state');
  await session.save({ prepared: true });
  return { converge: results };
};

/** What a converge that changed nothing on nodes never converged before deserves: a warning (Molecule 3's include_role of a role not found that way applies nothing). */
export function nothingAppliedWarning(results: readonly { hosts: readonly { status: string }[] }[], fresh: boolean): string | undefined {
  if (!fresh) return undefined;
  if (results.length === 0) return 'converge has no steps: the test built nothing to check.';
  if (results.some((step) => step.hosts.some((h) => h.status === 'changed' || h.status === 'failed'))) return undefined;
  return 'converge changed nothing on nodes never converged before: is the role applied at all (include_role, hosts:, tags)? A first converge of fresh nodes should change something.';
}

const converge: ActionHandler = async (session) => {
  const fresh = !session.state.converged;
  const results = await runConvergeSteps(session.stepInput());
  session.phase('save state');
  await session.save({ converged: true });
  const warning = nothingAppliedWarning(results, fresh);
  return { converge: results, ...(warning ? { warnings: [warning] } : {}) };
};

/** Molecule's side_effect: after idempotence, before verify. */
const sideEffect: ActionHandler = async (session) => {
  if (session.scenario.side_effect.length === 0) return { message: 'no side_effect steps' };
  return { converge: await runConvergeSteps(session.stepInput(), 'side_effect') };
};

/** Molecule's cleanup: before destroy, on the nodes there are; nodes that no longer run are left to destroy. */
const cleanup: ActionHandler = async (session) => {
  if (session.scenario.cleanup.length === 0) return { message: 'no cleanup steps' };
  const driverState = session.state.driverState;
  if (!session.state.created || driverState === undefined || driverState.nodes.length === 0) return { message: 'no nodes: nothing to clean up' };
  session.phase('check nodes');
  const statuses = await session.driver.status(session.driverContext(), driverState);
  const down = session.scenario.platforms.filter((p) => statuses.get(p.name) !== 'running').map((p) => p.name);
  if (down.length > 0) return { message: `cleanup steps not run: ${down.join(', ')} not running`, warnings: [`cleanup steps not run: ${down.join(', ')} not running`] };
  return { converge: await runConvergeSteps(session.stepInput({}, false), 'cleanup') };
};

const idempotence: ActionHandler = async (session) => {
  if (!session.state.converged) {
    throw new UsageError(`Scenario "${session.scenario.name}" has not been converged, so idempotence cannot be checked.`, {
      hint: `Run "swarm-molecule converge -s ${session.scenario.name}" first.`,
    });
  }
  const results = await runConvergeSteps(session.stepInput({ skipTags: [IDEMPOTENCE_NOTEST_TAG] }));
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
  const all = await lintScenarioAndPlaybooks(session.scenario);
  // Third-party code (what dependency installed) is listed apart, after the scenario's own findings.
  const findings = all.filter((d) => d.code !== DEPENDENCY_LINT_CODE);
  const inDependencies = all.filter((d) => d.code === DEPENDENCY_LINT_CODE);
  session.reporter.diagnostics?.('lint', findings);
  const apart =
    inDependencies.length === 0
      ? ''
      : `; ${inDependencies.length} finding${inDependencies.length === 1 ? '' : 's'} in dependencies (lint.dependencies: ${session.scenario.lint.dependencies ?? 'warning'})`;
  if (inDependencies.length > 0) {
    session.reporter.log?.(`ansible-lint findings in dependencies (third-party code, listed apart${inDependencies.some((d) => d.severity === 'error') ? '' : ', not failing'}):`, 'lint');
    session.reporter.diagnostics?.('lint', inDependencies);
  }
  const errors = all.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    throw Object.assign(
      new CheckFailed(`Lint found ${errors.length} error${errors.length === 1 ? '' : 's'} in scenario "${session.scenario.name}".`, {
        hint: 'Fix them, or set the rule (swarm-molecule\'s or ansible-lint\'s id) to warning or off under lint.rules in scenario.yml.',
      }),
      { diagnostics: all },
    );
  }
  const own = findings.length === 0 ? 'clean' : `${findings.length} warning${findings.length === 1 ? '' : 's'}`;
  return { ...(all.length > 0 ? { diagnostics: all } : {}), message: `${own}${apart}` };
};

const verify: ActionHandler = async (session) => {
  const results = await runVerifySteps(session.stepInput());
  session.phase('judge');
  const warnings = session.scenario.verify.length === 0 ? ['no verify steps: only convergence and idempotence were checked.'] : [];
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
  return { verify: results, ...(warnings.length > 0 ? { warnings } : {}) };
};

/** The actions sequences are made of. */
export const actions: Record<Action, ActionHandler> = {
  dependency,
  destroy,
  syntax,
  create,
  prepare,
  converge,
  idempotence,
  side_effect: sideEffect,
  lint,
  verify,
  cleanup,
};
