import { isScenarioName } from './scenario-name.js';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LineCounter, parseDocument, Scalar, visit, type Document, type ErrorCode, type YAMLError } from 'yaml';
import { z } from 'zod';
import { ConfigError, messageOf, type Diagnostic } from '../errors.js';
import { issueDiagnostics, schemaAt } from './issues.js';
import { checkInside, readBoundedFile, SCENARIO_FILE_LIMIT } from './read.js';
import { createScenarioSource, diagnosticAt, displayPath, sortDiagnostics } from './positions.js';
import { DEFAULT_SEQUENCES, scenarioSchema, stepEntrySchema, type ScenarioFile } from './schema.js';
import { didYouMean } from './suggest.js';
import { listScenarios, SCENARIO_FILE } from './scenario-dirs.js';
import { SEQUENCE_COMMANDS, STEP_SECTIONS, type Action, type RuleSetting, type Scenario, type ScenarioSource, type SequenceCommand, type StepConfig } from './types.js';

export { listScenarios };

const YAML_HINTS: Partial<Record<ErrorCode, string>> = {
  BAD_INDENT: 'Line the key up with the keys beside it; a nested value is indented more than its key.',
  TAB_AS_INDENT: 'Indent with spaces: YAML does not allow tabs for indentation.',
  MISSING_CHAR: 'Add the missing character.',
  MULTILINE_IMPLICIT_KEY: 'A key must fit on one line: look for a missing ":" after the key, or a quote that is not closed.',
  BLOCK_AS_IMPLICIT_KEY: 'A key must be a plain value: look for a missing ":" on the line above.',
  UNEXPECTED_TOKEN: 'Look for a stray character, a missing ":" or "-", or a line indented too far.',
  BAD_ALIAS: 'Define the anchor (&name) before using its alias (*name).',
  BAD_DQ_ESCAPE: 'Write a backslash as "\\\\", or use single quotes.',
  BAD_SCALAR_START: 'Quote the value: it starts with a character YAML reserves (@ ` | > %).',
  MULTIPLE_DOCS: 'Keep one document in scenario.yml: remove the "---" line and what follows, or merge it.',
  TAG_RESOLVE_FAILED: 'Remove the tag (!name): scenario files use plain YAML.',
  BLOCK_IN_FLOW: 'Inside [ ] or { } write values inline, e.g. [a, b] or { key: value }.',
  MULTIPLE_ANCHORS: 'Give the node one anchor.',
  MULTIPLE_TAGS: 'Give the node one tag.',
  KEY_OVER_1024_CHARS: 'Shorten the key.',
};

/** Errors whose parser wording needs the user's words, matched on the parser's message. */
const YAML_REWORDING: { code: ErrorCode; match: RegExp; message?: string; hint: string; atOpening?: 'quote' | 'flow' }[] = [
  { code: 'MISSING_CHAR', match: /quote/, message: 'This quoted value is never closed.', hint: 'Add the closing quote at the end of the value.', atOpening: 'quote' },
  { code: 'MISSING_CHAR', match: /without - indicator/, hint: 'Start each list item with "- ", or line the key up with the keys of the item above.' },
  { code: 'BAD_INDENT', match: /^Flow (sequence|map)/, message: 'This [ ] list or { } mapping is never closed.', hint: 'Close it with "]" or "}" on the same line (or indent its continuation lines).', atOpening: 'flow' },
  { code: 'BLOCK_AS_IMPLICIT_KEY', match: /Nested mappings/, hint: 'Quote the value if it contains ": ", or put the nested mapping on its own, indented lines.' },
  { code: 'MULTIPLE_DOCS', match: /./, message: 'The file holds more than one YAML document (a "---" line).', hint: 'Keep one document in scenario.yml: remove the "---" line and what follows, or merge it.' },
];

// The parser reports an unclosed quote or bracket where the file ends; point at where it opens.
function openingOf(document: Document, offset: number, kind: 'quote' | 'flow'): number | undefined {
  let start: number | undefined;
  const consider = (range: [number, number, number] | null | undefined): void => {
    if (range && range[1] === offset) start = range[0];
  };
  visit(document, {
    Scalar(_, node) {
      if (kind === 'quote' && (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE)) consider(node.range);
    },
    Seq(_, node) {
      if (kind === 'flow' && node.flow) consider(node.range);
    },
    Map(_, node) {
      if (kind === 'flow' && node.flow) consider(node.range);
    },
  });
  return start;
}

function yamlDiagnostic(source: Pick<ScenarioSource, 'file' | 'text'>, document: Document, lineCounter: LineCounter, error: YAMLError): Diagnostic {
  const rewording = YAML_REWORDING.find((r) => r.code === error.code && r.match.test(error.message));
  const message = (rewording?.message ?? error.message.trim()).replace(/([^.])$/, '$1.');
  const offset = (rewording?.atOpening && openingOf(document, error.pos[0], rewording.atOpening)) ?? error.pos[0];
  return diagnosticAt(source, lineCounter.linePos(offset), {
    severity: error.name === 'YAMLWarning' ? 'warning' : 'error',
    code: 'yaml',
    message,
    hint: rewording?.hint ?? YAML_HINTS[error.code] ?? 'Fix the YAML at this position.',
  });
}

// The parser accepts `*name` without its anchor; converting it would throw without a position.
function unresolvedAliases(document: Document, source: ScenarioSource, lineCounter: LineCounter): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  visit(document, {
    Alias(_, alias) {
      if (alias.resolve(document) !== undefined) return;
      diagnostics.push(
        diagnosticAt(source, lineCounter.linePos(alias.range?.[0] ?? 0), {
          severity: 'error',
          code: 'yaml',
          message: `Unresolved alias *${alias.source}: no anchor &${alias.source} before it.`,
          hint: YAML_HINTS.BAD_ALIAS,
        }),
      );
    },
  });
  return diagnostics;
}

// `with:` or `labels:` with nothing after it reads as null; mean the default ({} or []).
function dropEmptyDefaults(value: unknown, path: PropertyKey[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => dropEmptyDefaults(item, [...path, i]));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const record = value as Record<string, unknown>;
  const place = schemaAt(scenarioSchema, path);
  for (const [key, item] of Object.entries(record)) {
    if (item === null && place instanceof z.ZodObject && place.shape[key] instanceof z.ZodDefault) delete record[key];
    else dropEmptyDefaults(item, [...path, key]);
  }
}

function notFound(projectDir: string, name: string, file: string, existing: string[]): ConfigError {
  const where = displayPath(join(projectDir, 'scenarios'));
  const hint =
    existing.length === 0
      ? `There are no scenarios in ${where}; create ${join(where, name, SCENARIO_FILE)}.`
      : `Scenarios in ${where}: ${existing.join(', ')}.${didYouMean(name, existing)}`;
  return new ConfigError(`Scenario "${name}" not found: ${displayPath(file)} does not exist.`, [], { hint });
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * A scenario file that parsed as YAML but fails the schema. Its step entries
 * that are well formed on their own are kept, so that `syntax`'s step checks
 * can report beside the schema problems: every problem in one round.
 */
export class ScenarioInvalid extends ConfigError {
  readonly scenario: { name: string; dir: string; source: ScenarioSource };
  /** The converge and verify entries that pass the schema, at their own index. */
  readonly steps: StepConfig[];

  constructor(scenario: { name: string; dir: string; source: ScenarioSource }, steps: StepConfig[], diagnostics: Diagnostic[]) {
    super(`Scenario "${scenario.name}" is not valid (${plural(diagnostics.length, 'problem')}).`, sortDiagnostics(diagnostics), {
      hint: 'Fix each problem at the position shown.',
    });
    this.scenario = scenario;
    this.steps = steps;
  }

  /** The same refusal with more problems found in it. */
  with(diagnostics: Diagnostic[]): ScenarioInvalid {
    return diagnostics.length === 0 ? this : new ScenarioInvalid(this.scenario, this.steps, [...this.diagnostics, ...diagnostics]);
  }
}

/** Step entries of a file that fails the schema, each taken only when it is well formed on its own. */
function wellFormedSteps(data: unknown): StepConfig[] {
  if (typeof data !== 'object' || data === null) return [];
  const record = data as Record<string, unknown>;
  return STEP_SECTIONS.flatMap((section) => {
    const list = record[section];
    if (!Array.isArray(list)) return [];
    return list.flatMap((raw: unknown, index): StepConfig[] => {
      const parsed = stepEntrySchema.safeParse(raw);
      if (!parsed.success || parsed.data.step === undefined) return [];
      const config: StepConfig = { section, index, with: parsed.data.with, step: parsed.data.step };
      if (parsed.data.name !== undefined) config.name = parsed.data.name;
      if (parsed.data.hosts !== undefined) config.hosts = parsed.data.hosts;
      return [config];
    });
  });
}

/**
 * Read `scenarios/<name>/scenario.yml`, validate it and fill in defaults.
 * Throws one ConfigError with every YAML or schema problem, each at its position.
 */
export async function loadScenario(projectDir: string, name: string): Promise<Scenario> {
  const dir = resolve(projectDir, 'scenarios', name);
  const file = join(dir, SCENARIO_FILE);
  if (!isScenarioName(name)) {
    throw new ConfigError(`"${name}" is not a scenario name.`, [], { hint: 'A scenario is a directory name under scenarios/, e.g. "default".' });
  }
  if (!existsSync(file)) throw notFound(projectDir, name, file, await listScenarios(projectDir));

  // Code frames show the file's lines: it must be the project's own, a regular file of a sane size.
  await checkInside(file, projectDir, 'scenario file');
  const text = await readBoundedFile(file, 'scenario file', SCENARIO_FILE_LIMIT);

  const lineCounter = new LineCounter();
  // A duplicate key alone does not stop loading (the last value wins); `syntax` refuses it,
  // and it is reported here beside any schema problem, so one round shows them all.
  const document = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  const source = createScenarioSource({ file, text, document, lineCounter });
  const invalid = (diagnostics: Diagnostic[]): ConfigError =>
    new ConfigError(`Scenario "${name}" is not valid (${plural(diagnostics.length, 'problem')}).`, sortDiagnostics(diagnostics), {
      hint: 'Fix each problem at the position shown.',
    });

  // A schema check of a document that did not parse would only add noise.
  if (document.errors.length > 0) {
    throw invalid([...document.errors, ...document.warnings].map((error) => yamlDiagnostic(source, document, lineCounter, error)));
  }

  const aliases = unresolvedAliases(document, source, lineCounter);
  if (aliases.length > 0) throw invalid(aliases);
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    throw invalid([diagnosticAt(source, { line: 1, col: 1 }, { severity: 'error', code: 'yaml', message: messageOf(error), hint: 'Fix the YAML.' })]);
  }
  dropEmptyDefaults(data, []);
  const parsed = scenarioSchema.safeParse(data);
  if (!parsed.success) {
    throw new ScenarioInvalid({ name, dir, source }, wellFormedSteps(data), [
      ...source.duplicateKeys,
      ...issueDiagnostics(parsed.error.issues, { source, code: 'schema', basePath: [], schema: scenarioSchema, input: data }),
    ]);
  }
  return toScenario(parsed.data, { name, dir, file, source });
}

function toScenario(data: ScenarioFile, where: { name: string; dir: string; file: string; source: ScenarioSource }): Scenario {
  const entries = (section: StepConfig['section'], list: ScenarioFile['converge']): StepConfig[] =>
    list.map((entry, index) => {
      const config: StepConfig = { section, index, with: entry.with };
      if (entry.step !== undefined) config.step = entry.step;
      if (entry.playbook !== undefined) config.playbook = entry.playbook;
      if (entry.name !== undefined) config.name = entry.name;
      if (entry.hosts !== undefined) config.hosts = entry.hosts;
      if (entry.extraVars !== undefined) config.extraVars = entry.extraVars;
      if (entry.tags !== undefined) config.tags = entry.tags;
      if (entry.limit !== undefined) config.limit = entry.limit;
      return config;
    });
  // Molecule's own actions join a default sequence only where the scenario has something for
  // them, so a scenario without them runs (and reports) what it always did. A sequence the
  // scenario lists is taken as written.
  const hasWork: Partial<Record<Action, boolean>> = {
    dependency: data.dependency.requirements !== undefined || existsSync(join(where.dir, 'requirements.yml')),
    prepare: data.prepare.length > 0,
    side_effect: data.side_effect.length > 0,
    cleanup: data.cleanup.length > 0,
  };
  const defaultSequence = (command: SequenceCommand): Action[] => DEFAULT_SEQUENCES[command].filter((action) => hasWork[action] ?? true);
  const sequences = Object.fromEntries(
    SEQUENCE_COMMANDS.map((command) => [command, [...(data.sequences?.[command] ?? defaultSequence(command))]]),
  ) as Record<SequenceCommand, Action[]>;
  const rules: Record<string, RuleSetting> = {};
  for (const [id, setting] of Object.entries(data.lint.rules)) if (setting !== undefined) rules[id] = setting as RuleSetting;
  return {
    name: where.name,
    dir: where.dir,
    file: where.file,
    driver: data.driver,
    platforms: data.platforms,
    images: data.images,
    converge: entries('converge', data.converge),
    verify: entries('verify', data.verify),
    prepare: entries('prepare', data.prepare),
    side_effect: entries('side_effect', data.side_effect),
    cleanup: entries('cleanup', data.cleanup),
    dependency: data.dependency.requirements !== undefined ? { requirements: data.dependency.requirements } : {},
    ansible: data.ansible,
    sequences,
    lint: { rules, dependencies: data.lint.dependencies },
    source: where.source,
  };
}
