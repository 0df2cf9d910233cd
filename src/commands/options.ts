import { UsageError } from '../errors.js';
import { DESTROY_POLICIES, type DestroyPolicy } from '../lifecycle/destroy-policy.js';
import { DEFAULT_SCENARIO, parseScenarioName, type ScenarioName } from '../lifecycle/scenario-name.js';
import { reportPathParser, type ReportPath } from './report-path.js';
import { parseShard, type Shard } from './shard.js';

/**
 * Every option a command can take, parsed: the values are checked before any
 * command runs (a bad one is a usage error, exit 2), and commands take only these types.
 */
export interface CliOptions {
  scenarioName?: ScenarioName;
  all?: boolean;
  junit?: ReportPath;
  json?: ReportPath;
  verbose?: boolean;
  parallel?: number;
  shard?: Shard;
  destroy?: DestroyPolicy;
  format?: 'text' | 'json' | 'github' | 'sarif';
  host?: string;
  limit?: string;
  step?: string;
  debug?: boolean;
  write?: boolean;
  cacheDir?: string;
  mirror?: string;
  driver?: ScaffoldDriver;
  managers?: number[];
  repeat?: number;
  svg?: ReportPath;
  /** `init scenario --ansible`: Molecule's files (converge.yml, verify.yml, prepare.yml, requirements.yml). */
  ansible?: boolean;
}

/** The drivers `init scenario` writes a scenario for. */
export const SCAFFOLD_DRIVERS = ['netns', 'docker'] as const;
export type ScaffoldDriver = (typeof SCAFFOLD_DRIVERS)[number];

/** How one option is written, explained and parsed; `T` is the value a command receives. */
export interface OptionSpec<T> {
  /** Commander's flags, e.g. `-s, --scenario-name <name>`; the long flag names the `CliOptions` key. */
  flags: string;
  description: string;
  default?: T;
  /** The only values accepted; anything else is a usage error (exit 2). */
  choices?: readonly T[];
  /** Turns the text into the value, throwing a UsageError when it cannot. */
  parse?: (text: string) => T;
  /** The command refuses to run without it. */
  required?: boolean;
}

/** The table of options, typed against `CliOptions`: an entry whose values do not fit fails to compile. */
export type OptionTable = { [K in keyof CliOptions]-?: OptionSpec<NonNullable<CliOptions[K]>> };

function positiveInt(flag: string): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} takes a whole number of at least 1, not "${text}".`);
    return n;
  };
}

/** `--managers 3,5,7`: cluster sizes, each at least 3 (a majority must survive the Leader) and at most 15. */
export function parseManagerCounts(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  const counts = parts.map(Number);
  if (parts.length === 0 || counts.some((n, i) => !/^\d+$/.test(parts[i] ?? '') || n < 3 || n > 15)) {
    throw new UsageError(`--managers takes manager counts from 3 to 15, comma-separated (e.g. 3,5,7), not "${text}".`, { hint: 'A majority must survive the loss of the Leader: 3 managers at least.' });
  }
  if (new Set(counts).size !== counts.length) throw new UsageError(`--managers ${text} names a count twice.`);
  return counts;
}

export const OPTIONS: OptionTable = {
  scenarioName: { flags: '-s, --scenario-name <name>', description: 'scenario under scenarios/', parse: parseScenarioName, default: DEFAULT_SCENARIO },
  all: { flags: '--all', description: 'every scenario under scenarios/' },
  junit: { flags: '--junit <file>', description: 'write a JUnit XML report (also when the run fails or is interrupted)', parse: reportPathParser('--junit') },
  json: { flags: '--json <file>', description: 'write the whole run as JSON', parse: reportPathParser('--json') },
  verbose: { flags: '-v, --verbose', description: 'echo every command run on the nodes' },
  parallel: {
    flags: '--parallel <n>',
    description: 'run up to n scenarios at once, each on its own nodes and subnet',
    parse: positiveInt('--parallel'),
    default: 1,
  },
  shard: { flags: '--shard <i/n>', description: 'run only the i-th of n slices of the scenarios (with --all)', parse: parseShard },
  destroy: { flags: '--destroy <when>', description: 'destroy the nodes at the end: always, never, or only when passing', choices: DESTROY_POLICIES, default: 'always' },
  format: { flags: '--format <format>', description: 'output format: text, json, github (workflow annotations) or sarif (SARIF 2.1.0)', choices: ['text', 'json', 'github', 'sarif'], default: 'text' },
  host: { flags: '-h, --host <node>', description: 'the node, by its platform name', required: true },
  limit: { flags: '--limit <nodes>', description: 'only these nodes, comma-separated (as -h/--host)' },
  step: { flags: '--step <name|regex>', description: 'run only the verify steps whose name is this or matches this regular expression' },
  debug: { flags: '--debug', description: "print the stack trace of swarm-molecule's own errors" },
  write: { flags: '--write', description: 'write it to schema/scenario.schema.json' },
  cacheDir: { flags: '--cache-dir <dir>', description: 'where node images are cached (default $SWARM_MOLECULE_CACHE or /var/cache/swarm-molecule)' },
  mirror: { flags: '--mirror <url>', description: 'the Debian mirror to build the node image from (default the one this machine uses)' },
  managers: { flags: '--managers <counts>', description: 'cluster sizes to measure in turn, e.g. 3,5,7 (each made, measured and destroyed); default the scenario\'s own cluster', parse: parseManagerCounts },
  repeat: { flags: '--repeat <n>', description: 'how many times to stop the Leader on each cluster', parse: positiveInt('--repeat'), default: 5 },
  svg: { flags: '--svg <file>', description: 'where to write the chart (default .swarm-molecule/<scenario>/election.svg)', parse: reportPathParser('--svg') },
  ansible: { flags: '--ansible', description: "init scenario: Molecule's files (requirements.yml, prepare.yml, converge.yml, verify.yml) instead of TypeScript steps" },
  driver: { flags: '--driver <name>', description: 'the driver of the new scenario: netns (this Linux machine, root) or docker (any Docker engine)', choices: SCAFFOLD_DRIVERS, default: 'netns' },
};

export type OptionName = keyof CliOptions;

