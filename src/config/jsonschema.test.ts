import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LINT_RULES } from './lint-rules.js';
import { SCENARIO_JSON_SCHEMA_PATH, scenarioJsonSchema, scenarioJsonSchemaText } from './jsonschema.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const committed = join(root, SCENARIO_JSON_SCHEMA_PATH);

interface JsonSchema {
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: boolean;
  required?: string[];
  description?: string;
  pattern?: string;
  enum?: unknown[];
  oneOf?: unknown[];
}

describe('scenarioJsonSchema', () => {
  // Regenerate with: UPDATE_SCHEMA=1 npx vitest run src/config/jsonschema.test.ts
  // (or "swarm-molecule schema --write").
  it('matches the committed schema/scenario.schema.json', async () => {
    if (process.env.UPDATE_SCHEMA === '1') {
      await mkdir(dirname(committed), { recursive: true });
      await writeFile(committed, scenarioJsonSchemaText());
    }
    // A missing expectation fails: writing it here would make the test pass without checking anything.
    expect(existsSync(committed), 'schema/scenario.schema.json is missing: run "swarm-molecule schema --write" and review it').toBe(true);
    expect(await readFile(committed, 'utf8'), 'schema/scenario.schema.json is stale: run "swarm-molecule schema --write"').toBe(
      scenarioJsonSchemaText(),
    );
  });

  it('describes what editors need', () => {
    const schema = scenarioJsonSchema() as JsonSchema;
    expect(schema.required).toEqual(['platforms']);
    expect(schema.additionalProperties).toBe(false);
    const platform = schema.properties?.platforms?.items;
    expect(platform?.properties?.name?.pattern).toBe('^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$');
    expect(platform?.properties?.groups?.description).toContain('swarm-leader');
    const step = schema.properties?.converge?.items;
    expect(step?.oneOf).toEqual([{ required: ['step'] }, { required: ['playbook'] }]);
    expect(schema.properties?.sequences?.properties?.test?.items?.enum).toContain('idempotence');
    expect(Object.keys(schema.properties?.lint?.properties?.rules?.properties ?? {})).toEqual(LINT_RULES.map((rule) => rule.id));
  });
});
