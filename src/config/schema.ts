import { z } from 'zod';
import { ANSIBLE_LINT_RULES, LINT_RULES } from './lint-rules.js';
import { ACTIONS, type Action, type SequenceCommand } from './types.js';

/** What each command runs when the scenario does not override it (as in Molecule). */
export const DEFAULT_SEQUENCES: Readonly<Record<SequenceCommand, readonly Action[]>> = {
  // Molecule's test sequence (dependency, cleanup, destroy, syntax, create, prepare, converge,
  // idempotence, side_effect, verify, cleanup, destroy) with our lint before verify.
  test: ['dependency', 'cleanup', 'destroy', 'syntax', 'create', 'prepare', 'converge', 'idempotence', 'side_effect', 'lint', 'verify', 'cleanup', 'destroy'],
  create: ['dependency', 'create', 'prepare'],
  converge: ['dependency', 'create', 'prepare', 'converge'],
  destroy: ['cleanup', 'destroy'],
  verify: ['verify'],
};

/** An RFC 1123 label: the platform name becomes the node's hostname. */
export const HOSTNAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const hostname = z
  .string()
  .regex(HOSTNAME, {
    error: 'must be a valid hostname: 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen.',
  })
  .meta({ title: 'Name', description: 'The node\'s hostname and its name in "docker node ls".', examples: ['manager-01'] });

const optionsRecord = z.record(z.string(), z.unknown());

export const driverSchema = z
  .strictObject({
    name: z
      .enum(['netns', 'docker', 'vagrant', 'existing'])
      .default('netns')
      .meta({
        title: 'Driver',
        description: 'netns: real nodes on this Linux machine (one dockerd per network namespace); docker: nodes as containers on any Docker engine (DOCKER_HOST, docker contexts); vagrant: Vagrant machines (VMs, or containers with the docker provider); existing: hosts you already have, over SSH.',
      }),
    options: optionsRecord.default({}).meta({ description: 'Driver-specific options.' }),
  })
  .meta({ title: 'Driver', description: 'What creates and destroys the nodes.' });

export const platformSchema = z
  .strictObject({
    name: hostname,
    groups: z
      .array(z.string().min(1))
      .default([])
      .meta({
        description: 'Inventory groups: exactly one platform in swarm-leader; swarm-manager for more managers, swarm-worker for workers.',
        examples: [['swarm-leader', 'swarm-manager']],
      }),
    labels: z
      .record(z.string(), z.string())
      .default({})
      .meta({ description: 'Swarm node labels, applied by the swarm/labels step; use them in placement constraints.' }),
    address: z.string().min(1).optional().meta({ description: 'existing driver: the host to connect to.' }),
    port: z.number().int().min(1).max(65535).optional().meta({ description: 'existing driver: SSH port (default 22).' }),
    user: z.string().min(1).optional().meta({ description: 'existing/vagrant driver: SSH user.' }),
    identityFile: z.string().min(1).optional().meta({ description: 'existing driver: SSH private key file.' }),
    box: z.string().min(1).optional().meta({ description: 'vagrant driver: box (VM providers) or image (docker provider); docker driver: the node image.' }),
    memory: z.number().int().positive().optional().meta({ description: 'vagrant and docker drivers: memory in MiB.' }),
    cpus: z.number().int().positive().optional().meta({ description: 'vagrant and docker drivers: number of CPUs.' }),
  })
  .meta({ title: 'Platform', description: 'A node of the cluster.' });

/** Where a custom issue points and what to do about it; read back by the issue formatter. */
export interface IssueParams {
  hint?: string;
  at?: 'key' | 'value';
}

const PLAYBOOK_ONLY = ['extraVars', 'tags', 'limit'] as const;

export const stepEntrySchema = z
  .strictObject({
    step: z.string().min(1).optional().meta({
      description: 'A built-in step (swarm/init) or a TypeScript/JavaScript module path relative to the scenario directory (./steps/motd.ts).',
      examples: ['swarm/init', './steps/motd.ts'],
    }),
    playbook: z.string().min(1).optional().meta({ description: 'An Ansible playbook, relative to the scenario directory.' }),
    name: z.string().min(1).optional().meta({ description: 'Display name; defaults to the step\'s own name.' }),
    hosts: z.string().min(1).optional().meta({ description: 'A group or platform name (or all) to run on instead of the step\'s default.' }),
    with: optionsRecord.default({}).meta({ description: 'The step\'s options.' }),
    extraVars: optionsRecord.optional().meta({ description: 'Playbook only: extra variables.' }),
    tags: z.array(z.string().min(1)).optional().meta({ description: 'Playbook only: run only these tags.' }),
    limit: z.string().min(1).optional().meta({ description: 'Playbook only: limit to these hosts (an Ansible pattern).' }),
  })
  .superRefine((entry, ctx) => {
    if (entry.step !== undefined && entry.playbook !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['playbook'],
        message: 'An entry has "step" or "playbook", not both.',
        params: { at: 'key', hint: 'Split it into two entries.' } satisfies IssueParams,
      });
    } else if (entry.step === undefined && entry.playbook === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'This entry has neither "step" nor "playbook".',
        params: { hint: 'Add "step: <built-in name or ./module.ts>" or "playbook: <file.yml>".' } satisfies IssueParams,
      });
    }
    if (entry.step !== undefined) {
      for (const key of PLAYBOOK_ONLY) {
        if (entry[key] === undefined) continue;
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `"${key}" is for playbook entries; this entry is a step.`,
          params: { at: 'key', hint: 'Give a step its options under "with".' } satisfies IssueParams,
        });
      }
    }
    if (entry.playbook !== undefined && Object.keys(entry.with).length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['with'],
        message: 'A playbook entry takes no "with" options.',
        params: { at: 'key', hint: 'Pass variables to the playbook under "extraVars".' } satisfies IssueParams,
      });
    }
  })
  .meta({
    title: 'Step',
    description: 'A step (built-in or module) with options, or an Ansible playbook.',
    // Editors can tell the two shapes apart; loading checks the same with a clearer message.
    // (Each branch names its property, as Ajv's strict mode asks.)
    oneOf: [
      { type: 'object', properties: { step: true }, required: ['step'] },
      { type: 'object', properties: { playbook: true }, required: ['playbook'] },
    ],
  });

const action = z.enum(ACTIONS);

function sequence(command: SequenceCommand) {
  return z
    .array(action)
    .superRefine((actions, ctx) => {
      if (actions.length > 0) return;
      // An empty sequence would make the command pass having checked nothing.
      ctx.addIssue({
        code: 'custom',
        message: `sequences.${command} is empty: "swarm-molecule ${command}" would pass having run nothing.`,
        params: { hint: `List its actions (default: ${DEFAULT_SEQUENCES[command].join(', ')}), or remove "${command}:" to use the default.` } satisfies IssueParams,
      });
    })
    .optional()
    .meta({ description: `Actions of "swarm-molecule ${command}"; default: ${DEFAULT_SEQUENCES[command].join(', ')}.` });
}

export const sequencesSchema = z
  .strictObject({
    test: sequence('test'),
    create: sequence('create'),
    converge: sequence('converge'),
    destroy: sequence('destroy'),
    verify: sequence('verify'),
  })
  .meta({ title: 'Sequences', description: 'Override the actions a command runs, as in Molecule.' });

const ruleSetting = z.enum(['off', 'warning', 'error']);

export const lintSchema = z
  .strictObject({
    rules: z
      .strictObject(
        Object.fromEntries([
          ...LINT_RULES.map((rule) => [rule.id, ruleSetting.optional().meta({ description: `${rule.reason} Default: ${rule.severity}.` })]),
          ...[...new Set(ANSIBLE_LINT_RULES)].map((id) => [id, ruleSetting.optional().meta({ description: `ansible-lint's ${id}: off drops its findings; warning or error sets their severity.` })]),
        ]),
      )
      .default({})
      .meta({ description: 'Rule id (swarm-molecule\'s or ansible-lint\'s) → off, warning or error.' }),
    dependencies: ruleSetting
      .default('warning')
      .meta({ description: 'ansible-lint findings in roles and collections installed by dependency (third-party code): listed apart, as warnings by default; error fails lint on them, off drops them.' }),
  })
  .meta({ title: 'Lint', description: 'Lint settings.' });

export const dependencySchema = z
  .strictObject({
    requirements: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'The ansible-galaxy requirements file, relative to the scenario directory. Default: requirements.yml when it exists.' }),
  })
  .meta({
    title: 'Dependency',
    description: 'Molecule\'s dependency action: Ansible roles and collections installed with ansible-galaxy (offline from local paths and tarballs), cached per project.',
  });

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const varsRecord = z.record(z.string(), z.record(z.string(), z.unknown()));

export const ansibleSchema = z
  .strictObject({
    skipTags: z.array(z.string().min(1)).default([]).meta({ description: 'Tags skipped in every run (beside molecule-notest; molecule-idempotence-notest in idempotence).' }),
    args: z
      .array(z.string().min(1))
      .default([])
      .meta({ description: 'More ansible-playbook arguments for every run, as after "--" on the command line.', examples: [['--forks', '10']] }),
    env: z
      .record(z.string(), z.string())
      .superRefine((env, ctx) => {
        for (const name of Object.keys(env)) {
          if (ENV_NAME.test(name)) continue;
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message: `"${name}" is not an environment variable name.`,
            params: { at: 'key', hint: 'Use letters, digits and _, not starting with a digit.' } satisfies IssueParams,
          });
        }
      })
      .default({})
      .meta({ description: 'Environment variables of every Ansible run (ansible-playbook, ansible-galaxy, ansible-lint).' }),
    extraVars: optionsRecord.default({}).meta({ description: 'Extra variables of every playbook run; an entry\'s own extraVars win.' }),
    hostVars: varsRecord.default({}).meta({ description: 'Inventory variables by platform name (Molecule\'s host_vars).' }),
    groupVars: varsRecord.default({}).meta({ description: 'Inventory variables by group name, "all" included (Molecule\'s group_vars).' }),
    initialisesSwarm: z.boolean().optional().meta({
      description:
        'true: the scenario\'s playbooks initialise the swarm themselves, so no platform needs to be in swarm-leader (steps that need one fail when run). false: a swarm-leader is required. Default: inferred (not required when every step entry is a playbook).',
    }),
  })
  .meta({ title: 'Ansible', description: 'Settings of every Ansible run of the scenario (Molecule\'s provisioner options).' });

/** A Docker image reference (as the docker CLI reads one), or an image ID. */
export const IMAGE_REFERENCE =
  /^(?:sha256:[0-9a-f]{64}|(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::\w[\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?)$/;

const imageEntry = z
  .string()
  .min(1)
  .superRefine((entry, ctx) => {
    if (entry.endsWith('.tar') || IMAGE_REFERENCE.test(entry)) return;
    ctx.addIssue({
      code: 'custom',
      message: `"${entry}" is neither an image reference nor a .tar archive.`,
      params: { hint: 'Name an image as docker does (myorg/app:1.4, lowercase repository), or a "docker save" archive whose path ends in .tar.' } satisfies IssueParams,
    });
  });

export const scenarioSchema = z
  .strictObject({
    driver: driverSchema.default({ name: 'netns', options: {} }),
    images: z
      .array(imageEntry)
      .default([])
      .meta({
        title: 'Images',
        description:
          'Images every node must have before converge (the nodes have no registry), as `kind load docker-image`: an image reference (myorg/app:1.4) taken from this machine\'s Docker engine (DOCKER_HOST or the default socket), or a `docker save` archive in the project (a path ending in .tar, relative to the scenario directory). Loaded on every node that lacks its image ID, streamed, nodes in parallel.',
        examples: [['myorg/app:1.4', 'images/db.tar']],
      }),
    platforms: z
      .array(platformSchema)
      .min(1)
      .superRefine((platforms, ctx) => {
        const seen = new Map<string, number>();
        platforms.forEach((platform, i) => {
          const first = seen.get(platform.name);
          if (first === undefined) {
            seen.set(platform.name, i);
            return;
          }
          ctx.addIssue({
            code: 'custom',
            path: [i, 'name'],
            message: `Platform name "${platform.name}" is used twice (first by platforms[${first}]).`,
            params: { hint: 'Give each platform its own name: it becomes the hostname.' } satisfies IssueParams,
          });
        });
      })
      .meta({ title: 'Platforms', description: 'The nodes of the cluster; at least one.' }),
    dependency: dependencySchema.default({}),
    prepare: z
      .array(stepEntrySchema)
      .default([])
      .meta({ title: 'Prepare', description: 'Steps (or playbooks) run once after create, as Molecule\'s prepare: not judged by idempotence, not run again on the same nodes.' }),
    converge: z.array(stepEntrySchema).default([]).meta({ title: 'Converge', description: 'Steps that build the cluster; run again by the idempotence check.' }),
    side_effect: z
      .array(stepEntrySchema)
      .default([])
      .meta({ title: 'Side effect', description: 'Steps (or playbooks) run after idempotence and before verify, as Molecule\'s side_effect.' }),
    verify: z.array(stepEntrySchema).default([]).meta({ title: 'Verify', description: 'Steps that check the cluster.' }),
    cleanup: z
      .array(stepEntrySchema)
      .default([])
      .meta({ title: 'Cleanup', description: 'Steps (or playbooks) run before destroy, as Molecule\'s cleanup: also after a failure, when the nodes are about to be destroyed.' }),
    ansible: ansibleSchema.default({ skipTags: [], args: [], env: {}, extraVars: {}, hostVars: {}, groupVars: {} }),
    sequences: sequencesSchema.optional(),
    lint: lintSchema.default({ rules: {}, dependencies: 'warning' }),
  })
  .meta({
    title: 'swarm-molecule scenario',
    description: 'A Docker Swarm test scenario: scenarios/<name>/scenario.yml.',
  });

/** The scenario file as the schema reads it (before positions and defaults of sequences). */
export type ScenarioFile = z.output<typeof scenarioSchema>;
