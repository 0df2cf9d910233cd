import { mkdir, writeFile } from 'node:fs/promises';
import { scenarioJsonSchema } from '../config/index.js';
import { out } from './output.js';

/** `schema`: the JSON Schema of scenario.yml, printed or written where editors find it. */
export async function printSchema(options: { write?: boolean }): Promise<void> {
  const text = `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
  if (!options.write) return out(text);
  await mkdir('schema', { recursive: true });
  await writeFile('schema/scenario.schema.json', text);
}
