import { UsageError } from '../errors.js';
import { DEFAULT_SCENARIO } from '../lifecycle/scenario-name.js';
import type { CliOptions, OptionName, OptionTable } from './options.js';
import { out, err } from './output.js';
import type { LifecycleCommand } from './sequence.js';

/** One command of the CLI: its words, its options, and the module that runs it (loaded only when it runs). */
export interface CommandSpec {
  name: string;
  description: string;
  /** Positional arguments as commander writes them (`<what>`, `<command...>`). */
  arguments?: readonly { name: string; description: string }[];
  options?: readonly OptionName[];
  /** This command's wording or default of a shared option. */
  variants?: { [K in OptionName]?: Partial<OptionTable[K]> };
  /** Runs the command; a number is the exit code, nothing means it passed. */
  run(args: string[], options: CliOptions): Promise<number | void>;
}

const cwd = () => process.cwd();

/** `login` and `exec` work on one node of one scenario: `--all` is refused, never read as "default". */
function oneScenario(command: string, options: CliOptions) {
  if (options.all) {
    throw new UsageError(`"${command}" works on one node of one scenario; --all is not for ${command}.`, {
      hint: `Name the scenario and the node: "swarm-molecule ${command} -s NAME -h NODE${command === 'exec' ? ' -- CMD ARGS...' : ''}" ("swarm-molecule list" shows them).`,
    });
  }
  return options.scenarioName ?? DEFAULT_SCENARIO;
}
const SELECTION = ['scenarioName', 'all'] as const satisfies OptionName[];
const REPORTS = ['junit', 'json', 'verbose', 'parallel', 'shard'] as const satisfies OptionName[];

/** `-h/--host` and `--limit`: for converge and verify, a selection of nodes rather than one node. */
const HOST_SELECTION = { host: { flags: '-h, --host <nodes>', description: 'only these nodes, comma-separated (platform names)', required: false } };

/**
 * What follows "--" goes to every ansible-playbook run (as Molecule's
 * `molecule converge -- --tags x`); ansible-playbook's arguments are options,
 * so a bare word is a mistake (a scenario name without -s), refused.
 */
export function ansibleArgsOf(command: string, args: readonly string[]): string[] {
  const [first] = args;
  if (first !== undefined && !first.startsWith('-')) {
    throw new UsageError(`"swarm-molecule ${command}" takes no argument "${first}".`, {
      hint: `Name a scenario with -s ${first}; arguments for ansible-playbook go after "--" (e.g. "swarm-molecule ${command} -- --tags web").`,
    });
  }
  return [...args];
}

function sequenceCommand(name: LifecycleCommand, description: string, extra: OptionName[] = []): CommandSpec {
  return {
    name,
    description,
    arguments: [{ name: '[ansible-args...]', description: 'after --: arguments for every ansible-playbook run' }],
    options: [...SELECTION, ...REPORTS, 'debug', ...extra],
    ...(extra.includes('host') ? { variants: HOST_SELECTION } : {}),
    run: async (args, options) => (await import('./sequence.js')).runSequenceCommand(name, { ...options, ansibleArgs: ansibleArgsOf(name, args) }),
  };
}

export const COMMANDS: readonly CommandSpec[] = [
  sequenceCommand('test', 'dependency → cleanup → destroy → syntax → create → prepare → converge → idempotence → side_effect → lint → verify → cleanup → destroy', ['destroy']),
  sequenceCommand('create', 'create the nodes (reuses running ones)'),
  sequenceCommand('converge', 'create the nodes if needed, then run the converge steps', ['host', 'limit']),
  sequenceCommand('idempotence', 'run converge again and fail if any step changes anything'),
  sequenceCommand('verify', 'run the verify steps on the converged nodes', ['host', 'limit', 'step']),
  sequenceCommand('destroy', 'destroy the nodes'),
  {
    name: 'syntax',
    description: 'check the scenario offline (exit 2 on an error)',
    options: [...SELECTION, 'format'],
    run: async (_, options) => (await import('./check.js')).runCheck('syntax', options),
  },
  {
    name: 'lint',
    description: 'lint the scenario offline (exit 1 on an error)',
    options: [...SELECTION, 'format'],
    run: async (_, options) => (await import('./check.js')).runCheck('lint', options),
  },
  {
    name: 'list',
    description: 'the nodes of every scenario (or one): address and state',
    options: ['scenarioName'],
    variants: { scenarioName: { description: 'only this scenario', default: undefined } },
    run: async (_, options) => {
      const { listNodes } = await import('./list.js');
      const { allScenarioNames } = await import('./scenarios.js');
      out(await listNodes(cwd(), options.scenarioName ? [options.scenarioName] : await allScenarioNames(cwd())));
    },
  },
  {
    name: 'login',
    description: 'an interactive shell on a node over SSH',
    options: [...SELECTION, 'host'],
    variants: { host: { description: 'the node to log in to' } },
    run: async (_, options) => (await import('./login.js')).login(cwd(), oneScenario('login', options), options.host ?? ''),
  },
  {
    name: 'reset',
    description: "destroy what can be found, then forget the scenario's state",
    options: SELECTION,
    run: async (_, options) => {
      const { reset } = await import('./reset.js');
      const { selectedNames } = await import('./scenarios.js');
      for (const name of await selectedNames(cwd(), options)) out(await reset(cwd(), name));
    },
  },
  {
    name: 'exec',
    description: 'run a command on a node: exec -h NODE -- CMD ARGS...',
    arguments: [{ name: '<command...>', description: 'the command and its arguments (after --)' }],
    options: [...SELECTION, 'host'],
    variants: { host: { description: 'the node to run it on' } },
    run: async (argv, options) => {
      const result = await (await import('./exec.js')).execOnNode(cwd(), oneScenario('exec', options), options.host ?? '', argv);
      // Like every other output: a join token printed by the node is masked (CI logs keep what exec prints).
      const { secrets } = await import('../secrets/index.js');
      out(secrets.mask(result.stdout));
      err(secrets.mask(result.stderr));
      return result.exitCode;
    },
  },
  {
    name: 'matrix',
    description: 'the actions a command would run: matrix test',
    arguments: [{ name: '<command>', description: 'test, create, converge, destroy or verify' }],
    options: SELECTION,
    run: async ([command], options) => (await import('./matrix.js')).printMatrix(command ?? '', options),
  },
  {
    name: 'init',
    description: 'scaffold: init scenario NAME',
    arguments: [
      { name: '<what>', description: 'what to create: scenario' },
      { name: '<name>', description: "the new scenario's name" },
    ],
    options: ['driver', 'ansible'],
    run: async ([what, name], options) =>
      out(await (await import('./init.js')).init(cwd(), what ?? '', name ?? '', options.driver ?? 'netns', options.ansible ? 'ansible' : 'steps')),
  },
  {
    name: 'schema',
    description: 'print the JSON Schema of scenario.yml (for editors)',
    options: ['write'],
    run: async (_, options) => (await import('./schema.js')).printSchema(options),
  },
  {
    name: 'measure',
    description: 'measure election: stop the Leader N times; election time and first write (--managers 3,5,7: each size in turn), table and SVG chart',
    arguments: [{ name: '<what>', description: 'what to measure: election' }],
    options: ['scenarioName', 'managers', 'repeat', 'json', 'svg', 'verbose'],
    variants: { json: { description: 'write the figures as JSON' } },
    run: async ([what], options) => (await import('./measure.js')).measureElection(cwd(), what ?? '', options),
  },
  {
    name: 'images',
    description: "put images on a scenario's nodes (kind load docker-image): images load -s NAME IMAGE... (references from this machine's Docker engine, or .tar archives)",
    arguments: [
      { name: '<action>', description: 'load' },
      { name: '<images...>', description: 'image references (myorg/app:1.4) or docker save archives (.tar)' },
    ],
    options: ['scenarioName'],
    run: async ([action, ...images], options) => (await import('./images.js')).runImagesCommand(cwd(), action ?? '', images, options),
  },
  {
    name: 'image',
    description: 'the cached node image that nodes boot: image build | image ls | image rm [IMAGE...]',
    arguments: [
      { name: '<action>', description: 'build, ls or rm' },
      { name: '[image...]', description: 'for rm: image hashes (or their beginnings) from "image ls"' },
    ],
    options: ['cacheDir', 'mirror', 'all'],
    variants: { all: { description: 'for rm: every cached node image' } },
    run: async ([action, ...images], options) => (await import('./image.js')).runImageCommand(action ?? '', images, options),
  },
];
