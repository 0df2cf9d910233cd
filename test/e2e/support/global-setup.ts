import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The e2e tests run the built CLI, as users do: build it once first. Then the
 * node image every node boots (cached; built on a fresh machine, a few minutes):
 * once here, so no test's own timeout pays for it.
 */
export default function setup(): void {
  // CI builds both once before running suites side by side (.ci/run): a build here
  // would rewrite dist/ under the feet of the other suite's running CLI.
  if (process.env.SWARM_MOLECULE_E2E_PREBUILT === '1') return;
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  execFileSync('node', ['bin/swarm-molecule.js', 'image', 'build'], { cwd: root, stdio: 'inherit' });
}
