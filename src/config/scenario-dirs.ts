import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export const SCENARIO_FILE = 'scenario.yml';

/** Names of the directories under `scenarios/` that hold a scenario.yml, sorted (without the YAML parser or the schema: `list` needs only these). */
export async function listScenarios(projectDir: string): Promise<string[]> {
  const root = join(projectDir, 'scenarios');
  if (!existsSync(root)) return [];
  const entries = await readdir(root, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory() && existsSync(join(root, entry.name, SCENARIO_FILE)))
    .map((entry) => entry.name)
    .sort();
}
