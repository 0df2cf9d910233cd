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

/** `init scenario NAME --ansible`: what `molecule init scenario` makes, as a swarm-molecule scenario. */
const ansibleScenarioFile = (name: string, schema: string, driver: ScaffoldDriver) => `# yaml-language-server: $schema=${schema}
${DRIVER_BLOCKS[driver].replace('NAME', name)}
# Molecule's files beside this one: requirements.yml (installed by the
# dependency action), prepare.yml (once after create), converge.yml (judged by
# idempotence) and verify.yml. The playbooks build the swarm themselves.
platforms:
  - name: ${name}-manager-01
    groups: [managers]
  - name: ${name}-worker-01
    groups: [workers]

prepare:
  - playbook: prepare.yml

converge:
  - playbook: converge.yml

verify:
  # The built-in check, told the groups the playbook uses.
  - step: swarm/node-roles
    with: { managers: managers }
  - playbook: verify.yml
`;

const requirementsFile = `---
# Molecule's dependency action: roles and collections ansible-galaxy installs
# before syntax, cached per project. Without network, name local tarballs:
#   collections:
#     - name: files/community-docker-3.4.0.tar.gz
#       type: file
collections: []
roles: []
`;

const preparePlaybook = `---
# Runs once after create (not judged by idempotence, not run again on the same nodes).
- name: Prepare
  hosts: all
  gather_facts: false
  tasks:
    - name: Wait for the nodes
      ansible.builtin.wait_for_connection:
        timeout: 60
`;

const convergePlaybook = `---
# Builds the swarm: the first manager initialises it, the workers join.
# Molecule 3's include_role of "{{ lookup('env', 'MOLECULE_PROJECT_DIRECTORY') | basename }}"
# works too: the project's parent directory is on the roles path.
- name: Initialise the swarm
  hosts: managers[0]
  tasks:
    - name: Read the swarm state
      ansible.builtin.command: docker info --format '{{ "{{" }}.Swarm.LocalNodeState{{ "}}" }}'
      register: converge_state
      changed_when: false

    - name: Initialise the swarm
      ansible.builtin.command: docker swarm init --advertise-addr {{ swarm_molecule_address }}
      when: converge_state.stdout != 'active'
      changed_when: true

    - name: Read the worker join token
      ansible.builtin.command: docker swarm join-token -q worker
      register: converge_token
      changed_when: false
      no_log: true

- name: Join the workers
  hosts: workers
  tasks:
    - name: Read the swarm state
      ansible.builtin.command: docker info --format '{{ "{{" }}.Swarm.LocalNodeState{{ "}}" }}'
      register: converge_state
      changed_when: false

    - name: Join the swarm
      ansible.builtin.command: >-
        docker swarm join --token {{ hostvars[groups['managers'][0]].converge_token.stdout }}
        {{ hostvars[groups['managers'][0]].swarm_molecule_address }}:2377
      when: converge_state.stdout != 'active'
      changed_when: true
      no_log: true
`;

const verifyPlaybook = `---
- name: Verify
  hosts: all
  gather_facts: false
  tasks:
    - name: Read the swarm state
      ansible.builtin.command: docker info --format '{{ "{{" }}.Swarm.LocalNodeState{{ "}}" }}'
      register: verify_state
      changed_when: false

    - name: Check every node is in the swarm
      ansible.builtin.assert:
        that: verify_state.stdout == 'active'
        quiet: true
`;

export type ScaffoldKind = 'steps' | 'ansible';

/** `init scenario NAME`: a scenario with a custom converge step and a custom verify step, or (--ansible) Molecule's playbooks. */
export async function scaffoldScenario(projectDir: string, name: string, driver: ScaffoldDriver = 'netns', kind: ScaffoldKind = 'steps'): Promise<string[]> {
  if (!/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/.test(name)) {
    throw new UsageError(`"${name}" is not a usable scenario name.`, { hint: 'Use lowercase letters, digits and hyphens (it prefixes node hostnames).' });
  }
  const dir = join(projectDir, 'scenarios', name);
  if (existsSync(dir)) throw new UsageError(`Scenario "${name}" exists already (${dir}).`);
  await mkdir(kind === 'steps' ? join(dir, 'steps') : dir, { recursive: true });
  const files: [string, string][] =
    kind === 'steps'
      ? [
          [join(dir, 'scenario.yml'), scenarioFile(name, schemaPath(projectDir), driver)],
          [join(dir, 'steps', 'converge-example.ts'), convergeStep],
          [join(dir, 'steps', 'verify-example.ts'), verifyStep],
        ]
      : [
          [join(dir, 'scenario.yml'), ansibleScenarioFile(name, schemaPath(projectDir), driver)],
          [join(dir, 'requirements.yml'), requirementsFile],
          [join(dir, 'prepare.yml'), preparePlaybook],
          [join(dir, 'converge.yml'), convergePlaybook],
          [join(dir, 'verify.yml'), verifyPlaybook],
        ];
  for (const [path, text] of files) await writeFile(path, text);
  return files.map(([path]) => path);
}

/** `init scenario NAME`: what was made, and how to run it. */
export async function init(projectDir: string, what: string, name: string, driver: ScaffoldDriver = 'netns', kind: ScaffoldKind = 'steps'): Promise<string> {
  if (what !== 'scenario') throw new UsageError(`"init ${what}" is not something swarm-molecule can create.`, { hint: 'Use "init scenario NAME [--driver netns|docker] [--ansible]".' });
  const files = await scaffoldScenario(projectDir, name, driver, kind);
  return `Created scenario "${name}":\n${files.map((f) => `  ${f}`).join('\n')}\nRun it with: swarm-molecule test -s ${name}\n`;
}
