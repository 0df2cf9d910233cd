import { describe, expect, it } from 'vitest';
import { builtinSteps, loadBuiltinSteps } from './index.js';

describe('the built-in step registry', () => {
  it('names each step as its module defines it, with its kind', async () => {
    for (const [name, entry] of Object.entries(builtinSteps)) {
      const definition = await entry.load();
      expect(definition.name, name).toBe(name);
      expect(definition.kind, name).toBe(entry.kind);
    }
  });

  it('loads every step for the JSON Schema, in the registry order', async () => {
    expect((await loadBuiltinSteps()).map((step) => step.name)).toEqual(Object.keys(builtinSteps));
  });
});
