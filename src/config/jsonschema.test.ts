import { describe, expect, it } from 'vitest';
import { LINT_RULES } from './lint-rules.js';
import { scenarioJsonSchema } from './jsonschema.js';

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
  it('describes what editors need', () => {
    const schema = scenarioJsonSchema() as JsonSchema;
    expect(schema.required).toEqual(['platforms']);
    expect(schema.additionalProperties).toBe(false);
    const platform = schema.properties?.platforms?.items;
    expect(platform?.properties?.name?.pattern).toBe('^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$');
    expect(platform?.properties?.groups?.description).toContain('swarm-leader');
    const step = schema.properties?.converge?.items;
    expect(step?.oneOf).toEqual([
      { type: 'object', properties: { step: true }, required: ['step'] },
      { type: 'object', properties: { playbook: true }, required: ['playbook'] },
    ]);
    expect(schema.properties?.sequences?.properties?.test?.items?.enum).toContain('idempotence');
    // swarm-molecule's rules first, then ansible-lint's ids (a scenario may set those too).
    const rules = Object.keys(schema.properties?.lint?.properties?.rules?.properties ?? {});
    expect(rules.slice(0, LINT_RULES.length)).toEqual(LINT_RULES.map((rule) => rule.id));
    expect(rules).toContain('fqcn[action-core]');
    expect(rules).toContain('no-changed-when');
  });
});
