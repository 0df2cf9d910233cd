import { z } from 'zod';
import { scenarioSchema } from './schema.js';

/** Where the committed schema lives, relative to the project root; scenario files point at it. */
export const SCENARIO_JSON_SCHEMA_PATH = 'schema/scenario.schema.json';

/**
 * The JSON Schema of scenario.yml, for editors (yaml-language-server): what
 * one may write, so defaults make fields optional.
 */
export function scenarioJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(scenarioSchema, { io: 'input', target: 'draft-7' });
}

