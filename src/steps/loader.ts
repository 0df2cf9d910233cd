import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Jiti } from 'jiti';
import { checkRegularFile, STEP_MODULE_LIMIT, stepKindOf, type Scenario, type StepConfig } from '../config/index.js';
import { messageOf } from '../errors.js';
import type { StepDefinition } from './api.js';
import { builtinSteps } from './builtin/index.js';
import type { LoadedStep, StepRunInput } from './types.js';

/** Why a step reference cannot be used, with the module's own error where there is one. */
export class StepLoadError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

/** A path to a module rather than a built-in name. */
export function isModuleReference(ref: string): boolean {
  return ref.startsWith('./') || ref.startsWith('../') || isAbsolute(ref);
}

// Users' steps import 'swarm-molecule'; point that at this very copy of the
// package, whether it runs from source (tests) or from dist.
const selfEntry = (() => {
  for (const candidate of ['../index.ts', '../index.js']) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  return fileURLToPath(new URL('../index.js', import.meta.url));
})();

// jiti (and its transpiler) is loaded only for a scenario that names a module of its own.
let jiti: Jiti | undefined;
async function moduleLoader(): Promise<Jiti> {
  const { createJiti } = await import('jiti');
  jiti ??= createJiti(import.meta.url, {
    alias: { 'swarm-molecule': selfEntry },
    moduleCache: false,
    fsCache: false,
  });
  return jiti;
}

function isStepDefinition(value: unknown): value is StepDefinition {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.name === 'string' &&
    ((v.kind === 'converge' && typeof v.apply === 'function') || (v.kind === 'verify' && typeof v.verify === 'function'))
  );
}

/**
 * The step an entry refers to: a built-in by name, the default export of a
 * TypeScript/JavaScript module (loaded with jiti, no build needed), or a
 * playbook. `run` is what a playbook needs to run; the offline checks omit it.
 */
export async function resolveStep(scenario: Scenario, entry: StepConfig, run?: StepRunInput): Promise<LoadedStep> {
  // Ansible's code is loaded only for a scenario that has a playbook.
  if (entry.playbook !== undefined) return (await import('./ansible/step.js')).playbookStep(scenario, entry, run);
  return await resolveStepRef(scenario.dir, entry);
}

/** The step an entry's `step` names: a built-in, or a module relative to the scenario directory `dir`. */
export async function resolveStepRef(dir: string, entry: StepConfig): Promise<LoadedStep> {
  const ref = entry.step;
  if (ref === undefined) throw new StepLoadError('This entry has no "step".', 'Name a built-in step or a module path.');
  const expected = stepKindOf(entry.section);
  if (!isModuleReference(ref)) {
    const builtin = Object.hasOwn(builtinSteps, ref) ? builtinSteps[ref] : undefined;
    if (!builtin) {
      const names = Object.values(builtinSteps)
        .filter((s) => s.kind === expected)
        .map((s) => s.name);
      throw new StepLoadError(
        `Unknown built-in step "${ref}".`,
        `Built-in ${expected} steps: ${names.join(', ')}. A custom step is a path starting with "./".`,
      );
    }
    if (builtin.kind !== expected) {
      throw new StepLoadError(
        `"${ref}" is a ${builtin.kind} step, listed under ${entry.section}.`,
        `Move it to the ${builtin.kind} list.`,
      );
    }
    return await builtin.load();
  }
  const path = resolve(dir, ref);
  if (!existsSync(path)) {
    throw new StepLoadError(`Step module ${ref} does not exist (looked for ${path}).`, 'Fix the path; it is relative to the scenario directory.');
  }
  // Loading a FIFO would hang and /dev/zero would fill memory: a regular file of a sane size only.
  try {
    await checkRegularFile(path, 'step module', STEP_MODULE_LIMIT);
  } catch (error) {
    throw new StepLoadError(messageOf(error), 'Point "step" at a TypeScript or JavaScript module file, relative to the scenario directory.');
  }
  let module: unknown;
  try {
    module = await (await moduleLoader()).import(path);
  } catch (error) {
    throw new StepLoadError(`Step module ${ref} failed to load: ${messageOf(error)}`, 'Fix the module; the error above is its own.');
  }
  const definition = (module as { default?: unknown }).default ?? module;
  if (!isStepDefinition(definition)) {
    throw new StepLoadError(
      `Step module ${ref} does not export a step as its default export.`,
      'Write "export default defineConvergeStep({ ... })" or "export default defineVerifyStep({ ... })" (from "swarm-molecule").',
    );
  }
  if (definition.kind !== expected) {
    throw new StepLoadError(`Step module ${ref} defines a ${definition.kind} step, listed under ${entry.section}.`, `Move it to the ${definition.kind} list.`);
  }
  return definition;
}
