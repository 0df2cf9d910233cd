import { LineCounter, parseDocument } from 'yaml';
import { diagnosticAt, sortDiagnostics } from '../config/positions.js';
import type { Position, Scenario, StepConfig } from '../config/types.js';
import type { Diagnostic } from '../errors.js';
import { lintPlaybooks } from '../steps/ansible/index.js';
import type { StepDefinition } from '../steps/api.js';
import { builtinSteps } from '../steps/builtin/index.js';
import { isModuleReference } from '../steps/loader.js';
import { disabledRules, isDisabled } from './disable.js';
import { lintRules } from './registry.js';
import type { LintContext, LintFinding } from './types.js';

export { lintRules } from './registry.js';
export { lintPlaybooks } from '../steps/ansible/index.js';
export type { LintContext, LintFinding, LintRule } from './types.js';

function builtinOf(entry: StepConfig): StepDefinition | undefined {
  return entry.step === undefined || isModuleReference(entry.step) ? undefined : builtinSteps[entry.step];
}

function optionsOf(scenario: Scenario, entry: StepConfig): Record<string, unknown> | undefined {
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
export function lintScenario(scenario: Scenario): Diagnostic[] {
  const { text } = scenario.source;
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: false });
  const lines = text.split(/\r?\n/);
  const context: LintContext = { scenario, lines, document, lineCounter, builtin: builtinOf, optionsOf: memoized((entry) => optionsOf(scenario, entry)) };
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
  return sortDiagnostics([...lintScenario(scenario), ...(await lintPlaybooks(scenario))]);
}
