import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { ScaffoldDriver } from './options.js';

// In a user's project the schema comes with the installed package; in this repository it is at the root.
const schemaPath = (projectDir: string) =>
  existsSync(join(projectDir, 'node_modules', 'swarm-molecule', 'schema', 'scenario.schema.json'))
    ? '../../node_modules/swarm-molecule/schema/scenario.schema.json'
    : '../../schema/scenario.schema.json';

/** The driver block of a new scenario, with what a user should know about it. */
const DRIVER_BLOCKS: Record<ScaffoldDriver, string> = {
  netns: `# Scenario "NAME": a swarm of 3 managers and 2 workers on the embedded netns driver
# (real nodes on this Linux machine; needs root).
driver:
  name: netns
`,
  docker: `# Scenario "NAME": a swarm of 3 managers and 2 workers on the docker driver: each
# node a container with its own dockerd and sshd, on the engine the docker CLI
# uses (DOCKER_HOST, the current docker context, else the local socket).
driver:
  name: docker
  options:
    # Nodes run privileged; on an engine that refuses it (rootless), set false.
    privileged: true
`,
};

const scenarioFile = (name: string, schema: string, driver: ScaffoldDriver) => `# yaml-language-server: $schema=${schema}
${DRIVER_BLOCKS[driver].replace('NAME', name)}
platforms:
  - name: ${name}-manager-01
    groups: [swarm-leader, swarm-manager]
  - name: ${name}-manager-02
    groups: [swarm-manager]
  - name: ${name}-manager-03
    groups: [swarm-manager]
  - name: ${name}-worker-01
    groups: [swarm-worker]
  - name: ${name}-worker-02
    groups: [swarm-worker]

converge:
  - step: swarm/init
  - step: swarm/join-managers
  - step: swarm/join-workers
  - step: ./steps/converge-example.ts
    with:
      label: ready

verify:
  - step: swarm/node-roles
  - step: ./steps/verify-example.ts
`;

const convergeStep = `import { changed, defineConvergeStep, ok } from 'swarm-molecule';

/** Adds a node label on every worker; reads the real state first, so a rerun changes nothing. */
export default defineConvergeStep<{ label: string }>({
  name: 'example/label-workers',
  description: 'Label every worker node.',
  hosts: 'swarm-worker',
  async apply(ctx, host) {
    const nodeId = await host.docker(['info', '--format', '{{.Swarm.NodeID}}']);
    const current = await ctx.leader().docker(['node', 'inspect', nodeId, '--format', '{{index .Spec.Labels "example"}}']);
    if (current === ctx.options.label) return ok('label in place');
    await ctx.leader().docker(['node', 'update', '--label-add', \`example=\${ctx.options.label}\`, nodeId]);
    return changed(\`label example: \${current || '(none)'} → \${ctx.options.label}\`);
  },
});
`;

const verifyStep = `import { AssertionFailed, defineVerifyStep } from 'swarm-molecule';

/** Every worker carries the label the converge step adds. */
export default defineVerifyStep({
  name: 'example/workers-labelled',
  description: 'Every worker has the example label.',
  async verify(ctx) {
    await ctx.eventually(async (observe) => {
      const out = await ctx.leader().docker(['node', 'ls', '--filter', 'role=worker', '--format', '{{.Hostname}}']);
      const hostnames = out.split('\\n').filter(Boolean);
      const labels = await Promise.all(hostnames.map((h) => ctx.leader().docker(['node', 'inspect', h, '--format', '{{index .Spec.Labels "example"}}'])));
      observe(hostnames.map((h, i) => \`\${h}: \${labels[i] || '(none)'}\`).join('\\n'));
      if (labels.some((l) => l === '')) {
        throw new AssertionFailed('A worker has no example label.', { expected: 'every worker labelled', observed: labels.join(', ') });
      }
    }, { timeout: 10_000, description: 'every worker to carry the label' });
  },
});
`;

/** `init scenario NAME`: a scenario with a custom converge step and a custom verify step. */
export async function scaffoldScenario(projectDir: string, name: string, driver: ScaffoldDriver = 'netns'): Promise<string[]> {
  if (!/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/.test(name)) {
    throw new UsageError(`"${name}" is not a usable scenario name.`, { hint: 'Use lowercase letters, digits and hyphens (it prefixes node hostnames).' });
  }
  const dir = join(projectDir, 'scenarios', name);
  if (existsSync(dir)) throw new UsageError(`Scenario "${name}" exists already (${dir}).`);
  await mkdir(join(dir, 'steps'), { recursive: true });
  const files: [string, string][] = [
    [join(dir, 'scenario.yml'), scenarioFile(name, schemaPath(projectDir), driver)],
    [join(dir, 'steps', 'converge-example.ts'), convergeStep],
    [join(dir, 'steps', 'verify-example.ts'), verifyStep],
  ];
  for (const [path, text] of files) await writeFile(path, text);
  return files.map(([path]) => path);
}

/** `init scenario NAME`: what was made, and how to run it. */
export async function init(projectDir: string, what: string, name: string, driver: ScaffoldDriver = 'netns'): Promise<string> {
  if (what !== 'scenario') throw new UsageError(`"init ${what}" is not something swarm-molecule can create.`, { hint: 'Use "init scenario NAME [--driver netns|docker]".' });
  const files = await scaffoldScenario(projectDir, name, driver);
  return `Created scenario "${name}":\n${files.map((f) => `  ${f}`).join('\n')}\nRun it with: swarm-molecule test -s ${name}\n`;
}
