import type { Action, Scenario } from '../config/index.js';
import { ConfigError, type Diagnostic } from '../errors.js';
import { checkSyntax } from '../syntax/index.js';

/** Actions that make, change or check nodes: a scenario that fails `syntax` must not reach them. */
const TOUCHES_NODES: ReadonlySet<Action> = new Set(['create', 'prepare', 'converge', 'idempotence', 'side_effect', 'verify']);

// Scenarios already found clean in this process, so a command and its runner check once.
const clean = new WeakSet<Scenario>();

/** A scenario with the actions a command is about to run on it. */
export interface PlannedRun {
  scenario: Scenario;
  sequence: readonly Action[];
}

/**
 * Why a scenario whose sequence touches nodes must not run (a ConfigError with
 * every syntax error at its position), or nothing when it may.
 * A sequence that only destroys is let through, so a broken scenario can still be cleaned up.
 */
export async function syntaxRefusal(run: PlannedRun): Promise<ConfigError | undefined> {
  try {
    await refuseInvalidScenarios([run]);
    return undefined;
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
}

/**
 * Refuse (exit 2, every error at its position) when a scenario whose sequence
 * touches nodes fails the offline syntax check, before any of them is touched:
 * bad step or driver options must not build nodes first and fail later.
 * A sequence that only destroys is let through, so a broken scenario can still be cleaned up.
 */
export async function refuseInvalidScenarios(runs: readonly PlannedRun[]): Promise<void> {
  const errors: Diagnostic[] = [];
  const failed: string[] = [];
  for (const { scenario, sequence } of runs) {
    if (clean.has(scenario) || !sequence.some((action) => TOUCHES_NODES.has(action))) continue;
    // Playbooks name modules and roles of their dependencies, which --syntax-check resolves:
    // a sequence that installs them does so first (offline, into the project's cache, no node touched).
    if (sequence.includes('dependency')) await (await import('../steps/ansible/index.js')).installDependencies(scenario, { env: scenario.ansible.env });
    const found = (await checkSyntax(scenario)).filter((d) => d.severity === 'error');
    if (found.length === 0) clean.add(scenario);
    else {
      errors.push(...found);
      failed.push(scenario.name);
    }
  }
  if (failed.length === 0) return;
  const count = `${errors.length} error${errors.length === 1 ? '' : 's'}`;
  const subject = failed.length === 1 ? `Scenario "${failed[0] ?? ''}" fails` : `Scenarios ${failed.map((n) => `"${n}"`).join(', ')} fail`;
  throw new ConfigError(`${subject} the syntax check (${count}): nothing was touched.`, errors, {
    hint: `Fix each problem at the position shown; "swarm-molecule syntax -s ${failed[0] ?? 'default'}" checks again without touching any node.`,
  });
}
