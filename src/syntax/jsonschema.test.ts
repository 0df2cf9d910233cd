import { Ajv, type ValidateFunction } from 'ajv';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { SCENARIO_JSON_SCHEMA_PATH } from '../config/index.js';
import { builtinSteps, loadBuiltinSteps } from '../steps/builtin/index.js';
import { fullScenarioJsonSchema, fullScenarioJsonSchemaText } from './jsonschema.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const committed = join(root, SCENARIO_JSON_SCHEMA_PATH);

const PLATFORMS = { platforms: [{ name: 'a', groups: ['swarm-leader', 'swarm-manager'] }] };

describe('the JSON Schema of scenario.yml', () => {
  let validate: ValidateFunction;
  beforeAll(async () => {
    // Strict mode: unknown keywords, formats, loose types or required properties it cannot see all throw.
    const ajv = new Ajv({ strict: true, allErrors: true });
    ajv.addFormat('uri', (text: string) => URL.canParse(text));
    validate = ajv.compile(await fullScenarioJsonSchema());
  });
  const errors = (data: unknown) => (validate(data) ? [] : (validate.errors ?? []).filter((e) => e.keyword !== 'if').map((e) => `${e.instancePath} ${e.message ?? ''}`));

  it('is the committed schema/scenario.schema.json (regenerate with "npm run schema" and review the diff)', async () => {
    // Never written here: a test that writes its own expectation checks nothing.
    expect(existsSync(committed), `${SCENARIO_JSON_SCHEMA_PATH} is missing: run "npm run schema"`).toBe(true);
    expect(readFileSync(committed, 'utf8'), `${SCENARIO_JSON_SCHEMA_PATH} is stale: run "npm run schema"`).toBe(await fullScenarioJsonSchemaText());
  });

  it('compiles under Ajv strict mode and accepts every scenario of this repository', () => {
    const files = [
      ...readdirSync(join(root, 'scenarios')).map((name) => join(root, 'scenarios', name, 'scenario.yml')),
      ...readdirSync(join(root, 'fixtures', 'projects')).flatMap((project) => {
        const dir = join(root, 'fixtures', 'projects', project, 'scenarios');
        return existsSync(dir) ? readdirSync(dir).map((name) => join(dir, name, 'scenario.yml')) : [];
      }),
    ].filter((file) => existsSync(file));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) expect(errors(parse(readFileSync(file, 'utf8'))), file).toEqual([]);
  });

  it('offers every built-in step by name, with its description', async () => {
    const schema = (await fullScenarioJsonSchema()) as { properties: { verify: { items: { properties: { step: { anyOf: { const?: string; description: string }[] } } } } } };
    const offered = schema.properties.verify.items.properties.step.anyOf.filter((s) => s.const !== undefined);
    expect(offered.map((s) => s.const).sort()).toEqual(Object.keys(builtinSteps).sort());
    const definitions = new Map((await loadBuiltinSteps()).map((step) => [step.name, step]));
    for (const s of offered) expect(s.description).toBe(definitions.get(s.const ?? '')?.description);
  });

  it('checks the step name, each built-in step\'s options and each driver\'s options', () => {
    const misspelt = errors({ ...PLATFORMS, converge: [{ step: 'swarm/inti' }, { step: './steps/mine.ts', with: { anything: 1 } }] });
    expect(misspelt).toContain('/converge/0/step must match a schema in anyOf');
    // A module of one's own takes any options.
    expect(misspelt.filter((e) => e.startsWith('/converge/1'))).toEqual([]);
    expect(errors({ ...PLATFORMS, verify: [{ step: 'swarm/rolling-update', with: { replicas: 'three' } }] })).toEqual(['/verify/0/with/replicas must be integer']);
    expect(errors({ ...PLATFORMS, converge: [{ step: 'swarm/init', with: { force: true } }] })).toEqual(['/converge/0/with must NOT have additional properties']);
    expect(errors({ ...PLATFORMS, driver: { options: { subnett: '10.0.0.0/24' } } })).toEqual(['/driver/options must NOT have additional properties']);
    expect(errors({ ...PLATFORMS, driver: { name: 'existing', options: {} } })).toEqual([]);
    expect(errors({ ...PLATFORMS, verify: [{ step: 'swarm/rolling-update', with: { replicas: 3 } }] })).toEqual([]);
  });
});
