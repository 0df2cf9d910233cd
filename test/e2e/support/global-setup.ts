import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The e2e tests run the built CLI, as users do: build it once first. Then the
 * node image every node boots (cached; built on a fresh machine, a few minutes):
 * once here, so no test's own timeout pays for it.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  execFileSync('node', ['bin/swarm-molecule.js', 'image', 'build'], { cwd: root, stdio: 'inherit' });
}
