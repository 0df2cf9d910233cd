import { mkdir, writeFile } from 'node:fs/promises';
import { SCENARIO_JSON_SCHEMA_PATH } from '../config/index.js';
import { fullScenarioJsonSchemaText } from '../syntax/jsonschema.js';
import { out } from './output.js';

/** `schema`: the JSON Schema of scenario.yml, printed or written where editors find it. */
export async function printSchema(options: { write?: boolean }): Promise<void> {
  const text = await fullScenarioJsonSchemaText();
  if (!options.write) return out(text);
  await mkdir('schema', { recursive: true });
  await writeFile(SCENARIO_JSON_SCHEMA_PATH, text);
  out(`wrote ${SCENARIO_JSON_SCHEMA_PATH}\n`);
}
