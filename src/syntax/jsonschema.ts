import { z } from 'zod';
import { scenarioJsonSchema } from '../config/jsonschema.js';
import { STEP_SECTIONS, stepKindOf } from '../config/types.js';
import { driverOptionsSchema, knownDrivers } from '../drivers/index.js';
import { loadBuiltinSteps } from '../steps/builtin/index.js';

type JsonSchema = Record<string, unknown>;

/** A zod schema as a JSON Schema fragment to nest in another (no `$schema` of its own). */
function fragment(schema: z.ZodType): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', target: 'draft-7', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** `when` holds (a property equal to a constant) → `then` applies; an Ajv-strict `if` names its type and properties. */
function when(property: string, value: string, then: JsonSchema, required = true): JsonSchema {
  return {
    if: { type: 'object', properties: { [property]: { const: value } }, ...(required ? { required: [property] } : {}) },
    then,
  };
}

/**
 * The JSON Schema of scenario.yml with what the steps and drivers know: the
 * built-in step names (with their descriptions) for `step`, each built-in's
 * options for `with`, and each driver's `driver.options`, so editors complete
 * and check them. It validates under Ajv's strict mode.
 */
export async function fullScenarioJsonSchema(): Promise<JsonSchema> {
  const schema = scenarioJsonSchema() as JsonSchema & { properties: Record<string, JsonSchema & { items?: JsonSchema; properties?: Record<string, JsonSchema> }> };
  const steps = (await loadBuiltinSteps()).sort((a, b) => a.name.localeCompare(b.name));

  const stepProperty: JsonSchema = {
    description: 'A built-in step, or a TypeScript/JavaScript module path relative to the scenario directory (./steps/motd.ts).',
    type: 'string',
    anyOf: [
      ...steps.map((step) => ({ const: step.name, description: step.description })),
      { pattern: '^(\\.\\.?/|/)', description: 'A step module of your own: a path starting with ./ or ../.' },
    ],
  };
  const withOf = (step: (typeof steps)[number]): JsonSchema =>
    step.options ? { ...fragment(step.options), description: `Options of ${step.name}.` } : { type: 'object', additionalProperties: false, description: `${step.name} takes no options.` };
  const stepRules = steps.map((step) => when('step', step.name, { type: 'object', properties: { with: withOf(step) } }));

  for (const section of STEP_SECTIONS) {
    const items = schema.properties[section]?.items;
    if (!items || typeof items.properties !== 'object') continue;
    const properties = items.properties as Record<string, JsonSchema>;
    properties.step = stepProperty;
    items.allOf = stepRules.filter((_, i) => (steps[i]?.kind ?? section) === stepKindOf(section));
  }

  const driver = schema.properties.driver;
  if (driver) {
    const rules: JsonSchema[] = [];
    for (const name of knownDrivers()) {
      const options = await driverOptionsSchema(name);
      if (!options) continue;
      // No `name` means the default driver, netns.
      rules.push(when('name', name, { type: 'object', properties: { options: { ...fragment(options), description: `Options of the ${name} driver.` } } }, name !== 'netns'));
    }
    driver.allOf = rules;
  }
  return schema;
}

/** The committed file's exact text (`swarm-molecule schema --write`, `npm run schema`). */
export async function fullScenarioJsonSchemaText(): Promise<string> {
  return `${JSON.stringify(await fullScenarioJsonSchema(), null, 2)}\n`;
}
