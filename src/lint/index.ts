import { LineCounter, parseDocument } from 'yaml';
import { diagnosticAt, sortDiagnostics } from '../config/positions.js';
import { STEP_SECTIONS, type Position, type Scenario, type StepConfig } from '../config/types.js';
import type { Diagnostic } from '../errors.js';
import type { StepDefinition } from '../steps/api.js';
import { builtinSteps } from '../steps/builtin/index.js';
import { isModuleReference } from '../steps/loader.js';
import { disabledRules, isDisabled } from './disable.js';
import { lintRules } from './registry.js';
import type { LintContext, LintFinding } from './types.js';

export { lintRules } from './registry.js';
export type { LintContext, LintFinding, LintRule } from './types.js';

type BuiltinOf = (entry: StepConfig) => StepDefinition | undefined;

/** The built-in steps the scenario names, loaded (only those): the rules read their definitions. */
async function builtinsOf(scenario: Scenario): Promise<BuiltinOf> {
  const isBuiltin = (ref: string | undefined): ref is string => ref !== undefined && !isModuleReference(ref) && Object.hasOwn(builtinSteps, ref);
  const names = new Set(STEP_SECTIONS.flatMap((section) => scenario[section].map((entry) => entry.step).filter(isBuiltin)));
  const loaded = new Map(await Promise.all([...names].map(async (name) => [name, await builtinSteps[name]!.load()] as const)));
  return (entry) => (entry.step === undefined ? undefined : loaded.get(entry.step));
}

function optionsOf(scenario: Scenario, builtinOf: BuiltinOf, entry: StepConfig): Record<string, unknown> | undefined {
  const definition = builtinOf(entry);
  if (!definition) return entry.with;
  const parsed = definition.options ? definition.options.safeParse(entry.with) : { success: true as const, data: entry.with };
  if (!parsed.success) return undefined;
  // The syntax check reports what the step itself requires; a rule that looked again would report it twice.
  if ((definition.requirements?.(scenario, parsed.data) ?? []).length > 0) return undefined;
  const data: unknown = parsed.data;
  return typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : entry.with;
}

// Several rules ask for the same entry's options: parse and check each once per lint.
function memoized<T>(compute: (entry: StepConfig) => T): (entry: StepConfig) => T {
  const answers = new Map<StepConfig, T>();
  return (entry) => {
    if (!answers.has(entry)) answers.set(entry, compute(entry));
    return answers.get(entry) as T;
  };
}

function positionOf(scenario: Scenario, finding: LintFinding): Position {
  if ('position' in finding) return finding.position;
  return finding.at === 'key' ? scenario.source.keyPositionOf(finding.path) : scenario.source.positionOf(finding.path);
}

/**
 * Style and topology problems of a valid scenario: YAML style, and Swarm
 * setups that cannot test what they claim to. Honours `lint.rules` and
 * disable comments; sorted by position.
 */
export async function lintScenario(scenario: Scenario): Promise<Diagnostic[]> {
  const builtinOf = await builtinsOf(scenario);
  const { text } = scenario.source;
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: false });
  const lines = text.split(/\r?\n/);
  const context: LintContext = { scenario, lines, document, lineCounter, builtin: builtinOf, optionsOf: memoized((entry) => optionsOf(scenario, builtinOf, entry)) };
  const disabled = disabledRules(lines);
  const diagnostics: Diagnostic[] = [];
  for (const rule of Object.values(lintRules)) {
    const setting = scenario.lint.rules[rule.id] ?? rule.severity;
    if (setting === 'off') continue;
    for (const finding of rule.check(context)) {
      const position = positionOf(scenario, finding);
      if (isDisabled(disabled, position.line, rule.id)) continue;
      diagnostics.push(diagnosticAt(scenario.source, position, { severity: setting, code: rule.id, message: finding.message, hint: finding.hint }));
    }
  }
  return sortDiagnostics(diagnostics);
}

/**
 * `lintScenario` and ansible-lint on the scenario's playbook steps (or a warning
 * that it is not installed): what the `lint` command and action report.
 */
export async function lintScenarioAndPlaybooks(scenario: Scenario): Promise<Diagnostic[]> {
  return sortDiagnostics([...(await lintScenario(scenario)), ...(await (await import('../steps/ansible/lint.js')).lintPlaybooks(scenario))]);
}
