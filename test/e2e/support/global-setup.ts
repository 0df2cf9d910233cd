import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The e2e tests run the built CLI, as users do: build it once first. */
export default function setup(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: fileURLToPath(new URL('../../../', import.meta.url)), stdio: 'inherit' });
}
