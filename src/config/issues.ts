import { z } from 'zod';
import type { Diagnostic } from '../errors.js';
import { diagnosticAt } from './positions.js';
import type { IssueParams } from './schema.js';
import { closest } from './suggest.js';
import type { ScenarioSource } from './types.js';

/** Where the validated value sits in the scenario, to turn zod issues into diagnostics. */
export interface IssueContext {
  source: ScenarioSource;
  code: 'schema' | 'syntax';
  /** Path of the validated value in the scenario file (`[]` for the whole file). */
  basePath: readonly PropertyKey[];
  /** The schema that produced the issues, to list the keys allowed at a place. */
  schema: z.core.$ZodType;
  /** The value that was validated, to say what was found. */
  input: unknown;
}

/** The schema that validates the value at `path`, through defaults, optionals and pipes. */
export function schemaAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): z.core.$ZodType | undefined {
  let current: z.core.$ZodType | undefined = unwrap(schema);
  for (const segment of path) {
    if (!current) return undefined;
    if (current instanceof z.ZodObject) current = current.shape[String(segment)] as z.core.$ZodType | undefined;
    else if (current instanceof z.ZodArray) current = current.element;
    else if (current instanceof z.ZodRecord) current = current.valueType;
    else return undefined;
    current = current && unwrap(current);
  }
  return current;
}

function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (;;) {
    if (
      current instanceof z.ZodDefault ||
      current instanceof z.ZodOptional ||
      current instanceof z.ZodNullable ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodNonOptional ||
      current instanceof z.ZodReadonly ||
      current instanceof z.ZodCatch
    ) {
      current = current.unwrap();
    } else if (current instanceof z.ZodPipe) {
      current = current.in;
    } else {
      return current;
    }
  }
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/** What a YAML value is, in words: `the string "3"`, `a list`, `nothing`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number') return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
  if (typeof value === 'boolean') return `the boolean ${value}`;
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

const EXPECTED: Record<string, { noun: string; hint: string }> = {
  string: { noun: 'a string', hint: 'Write text; quote it ("...") if YAML reads it as something else.' },
  number: { noun: 'a number', hint: 'Write a number without quotes.' },
  int: { noun: 'an integer', hint: 'Write a whole number without quotes.' },
  boolean: { noun: 'a boolean', hint: 'Write true or false.' },
  array: { noun: 'a list', hint: 'Write a list: "- item" lines, or [a, b].' },
  object: { noun: 'a mapping', hint: 'Write "key: value" lines indented under it, or { key: value }.' },
  record: { noun: 'a mapping', hint: 'Write "key: value" lines indented under it, or { key: value }.' },
};

/** The nearest valid hostname to a name: `Manager_01` → `manager-01`. */
function asHostname(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return cleaned === '' ? 'node-01' : cleaned;
}

/** `platforms[0].name`, as a reader finds it in the file. */
export function pathLabel(path: readonly PropertyKey[]): string {
  let label = '';
  for (const segment of path) {
    if (typeof segment === 'number') label += `[${segment}]`;
    else label += label === '' ? String(segment) : `.${String(segment)}`;
  }
  return label === '' ? 'the scenario file' : label;
}

function paramsOf(issue: z.core.$ZodIssue): IssueParams {
  if (issue.code !== 'custom' || typeof issue.params !== 'object' || issue.params === null) return {};
  const params = issue.params as Record<string, unknown>;
  return {
    ...(typeof params.hint === 'string' ? { hint: params.hint } : {}),
    ...(params.at === 'key' || params.at === 'value' ? { at: params.at } : {}),
  };
}

/**
 * Every zod issue as a diagnostic at its place in the file: unknown keys at the
 * key with a suggestion, wrong types with what was expected and found, missing
 * fields at the object that lacks them.
 */
export function issueDiagnostics(issues: readonly z.core.$ZodIssue[], context: IssueContext): Diagnostic[] {
  const { source, code, basePath, schema, input } = context;
  const diagnostics: Diagnostic[] = [];
  const full = (path: readonly PropertyKey[]): PropertyKey[] => [...basePath, ...path];
  const at = (path: readonly PropertyKey[], message: string, hint: string, where: 'key' | 'value' = 'value'): void => {
    const position = where === 'key' ? source.keyPositionOf(full(path)) : source.positionOf(full(path));
    diagnostics.push(diagnosticAt(source, position, { severity: 'error', code, message, ...(hint === undefined ? {} : { hint }) }));
  };

  for (const issue of issues) {
    const path = issue.path;
    const label = pathLabel(full(path));
    const value = valueAt(input, path);
    switch (issue.code) {
      case 'unrecognized_keys': {
        const place = schemaAt(schema, path);
        const allowed = place instanceof z.ZodObject ? Object.keys(place.shape) : [];
        for (const key of issue.keys) {
          const suggestion = closest(key, allowed);
          const where = path.length === 0 && basePath.length === 0 ? 'at the top level' : `in ${label}`;
          at(
            [...path, key],
            `Unknown key "${key}" ${where}.${suggestion === undefined ? '' : ` Did you mean "${suggestion}"?`}`,
            suggestion === undefined ? `Allowed here: ${allowed.join(', ')}.` : `Rename it to "${suggestion}". Allowed here: ${allowed.join(', ')}.`,
            'key',
          );
        }
        break;
      }
      case 'invalid_type': {
        const expected = EXPECTED[issue.expected] ?? { noun: issue.expected, hint: `Write ${issue.expected}.` };
        const last = path.at(-1);
        if (value === undefined && path.length > 0 && typeof last === 'string') {
          const parent = pathLabel(full(path.slice(0, -1)));
          at(path, `Missing required key "${last}" in ${parent}.`, `Add "${last}:" (${expected.noun}).`);
        } else if (path.length === 0 && basePath.length === 0) {
          const empty = value === null || value === undefined;
          at(
            path,
            empty ? 'The scenario file is empty.' : `The scenario file must be a mapping of keys (platforms:, converge:, ...), got ${describeValue(value)}.`,
            'Start with "platforms:" and one platform, e.g. "  - name: manager-01".',
          );
        } else {
          at(path, `${label} must be ${expected.noun}, got ${describeValue(value)}.`, expected.hint);
        }
        break;
      }
      case 'invalid_value': {
        const options = issue.values.map((v) => String(v));
        const suggestion = typeof value === 'string' ? closest(value, options) : undefined;
        at(
          path,
          `${label} is ${describeValue(value)}, not one of ${options.join(', ')}.${suggestion === undefined ? '' : ` Did you mean "${suggestion}"?`}`,
          suggestion === undefined ? `Use one of: ${options.join(', ')}.` : `Write "${suggestion}".`,
        );
        break;
      }
      case 'too_small':
      case 'too_big': {
        const bound = Number(issue.code === 'too_small' ? issue.minimum : issue.maximum);
        const least = issue.code === 'too_small';
        let message: string;
        if (issue.origin === 'array') message = `${label} needs ${least ? 'at least' : 'at most'} ${bound} item${bound === 1 ? '' : 's'}, got ${Array.isArray(value) ? value.length : 0}.`;
        else if (issue.origin === 'string') message = least && bound === 1 ? `${label} must not be empty.` : `${label} must be ${least ? 'at least' : 'at most'} ${bound} characters long.`;
        else if (issue.inclusive === false) message = `${label} must be ${least ? 'greater' : 'less'} than ${bound}, got ${describeValue(value)}.`;
        else message = `${label} must be ${least ? 'at least' : 'at most'} ${bound}, got ${describeValue(value)}.`;
        let hint: string;
        if (label === 'platforms' && least) hint = 'Add a platform, e.g. "- name: manager-01" with "groups: [swarm-leader]".';
        else if (issue.origin === 'array') hint = least ? 'Add items to the list.' : 'Remove items from the list.';
        else if (issue.origin === 'string') hint = least ? 'Write a value, or remove the key.' : 'Shorten the value.';
        else hint = `Use a value ${issue.inclusive === false ? (least ? 'above' : 'below') : least ? 'of at least' : 'of at most'} ${bound}.`;
        at(path, message, hint);
        break;
      }
      case 'invalid_format': {
        // Formats of this schema carry their own sentence ("must be a valid hostname ...").
        const message = issue.format === 'regex' && !issue.message.startsWith('Invalid') ? `${label} ${issue.message}` : `${label} is not a valid ${issue.format}.`;
        const hint = path[0] === 'platforms' && path.at(-1) === 'name' && typeof value === 'string' ? `Try "${asHostname(value)}".` : issue.format === 'regex' ? 'Write a value of the form the message shows.' : `Write a valid ${issue.format}.`;
        at(path, `${message.replace(/\.$/, '')} (got ${describeValue(value)}).`, hint);
        break;
      }
      case 'custom': {
        const params = paramsOf(issue);
        at(path, issue.message, params.hint ?? 'Fix the value.', params.at);
        break;
      }
      default:
        at(path, `${label}: ${issue.message}.`, 'Fix the value.');
    }
  }
  return diagnostics;
}
