import type { Document, LineCounter } from 'yaml';
import type { LintRuleInfo } from '../config/lint-rules.js';
import type { Position, Scenario, StepConfig } from '../config/types.js';
import type { StepDefinition } from '../steps/api.js';

/** What every rule sees. */
export interface LintContext {
  scenario: Scenario;
  /** The raw lines of the scenario file, without line ends. */
  lines: string[];
  /** The file parsed again with every duplicate key kept, for the YAML style rules. */
  document: Document.Parsed;
  lineCounter: LineCounter;
  /** The built-in definition of an entry's step, if it names one. */
  builtin: (entry: StepConfig) => StepDefinition | undefined;
  /**
   * An entry's options with the built-in's defaults filled in; `undefined`
   * when they do not validate or the step's own requirements fail (the syntax
   * check reports both).
   */
  optionsOf: (entry: StepConfig) => Record<string, unknown> | undefined;
}

/** Where a finding points: a path in the scenario (its value, or its key) or a raw position. */
export type FindingLocation = { path: readonly PropertyKey[]; at?: 'key' | 'value' } | { position: Position };

/** One problem a rule found; the rule's id and severity are added by `lintScenario`. */
export type LintFinding = FindingLocation & {
  message: string;
  /** What to do about it. */
  hint: string;
};

/** What a rule checks; its id, severity and reason are data in config/lint-rules.ts. */
export interface LintCheck {
  check(context: LintContext): LintFinding[];
}

/** A lint rule: data for the docs, and a check. */
export type LintRule = LintRuleInfo & LintCheck;
