import { UsageError } from '../errors.js';
import { DESTROY_POLICIES, type DestroyPolicy } from '../lifecycle/destroy-policy.js';

/** Every option a command can take, as commander hands it over (each command takes some). */
export interface CliOptions {
  scenarioName?: string;
  all?: boolean;
  junit?: string;
  json?: string;
  verbose?: boolean;
  parallel?: number;
  shard?: string;
  destroy?: DestroyPolicy;
  format?: 'text' | 'json' | 'github' | 'sarif';
  host?: string;
  limit?: string;
  step?: string;
  debug?: boolean;
  write?: boolean;
}

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

export const OPTIONS: OptionTable = {
  scenarioName: { flags: '-s, --scenario-name <name>', description: 'scenario under scenarios/', default: 'default' },
  all: { flags: '--all', description: 'every scenario under scenarios/' },
  junit: { flags: '--junit <file>', description: 'write a JUnit XML report (also when the run fails or is interrupted)' },
  json: { flags: '--json <file>', description: 'write the whole run as JSON' },
  verbose: { flags: '-v, --verbose', description: 'echo every command run on the nodes' },
  parallel: {
    flags: '--parallel <n>',
    description: 'run up to n scenarios at once, each on its own nodes and subnet',
    parse: positiveInt('--parallel'),
    default: 1,
  },
  shard: { flags: '--shard <i/n>', description: 'run only the i-th of n slices of the scenarios (with --all)' },
  destroy: { flags: '--destroy <when>', description: 'destroy the nodes at the end: always, never, or only when passing', choices: DESTROY_POLICIES, default: 'always' },
  format: { flags: '--format <format>', description: 'output format: text, json, github (workflow annotations) or sarif (SARIF 2.1.0)', choices: ['text', 'json', 'github', 'sarif'], default: 'text' },
  host: { flags: '-h, --host <node>', description: 'the node, by its platform name', required: true },
  limit: { flags: '--limit <nodes>', description: 'only these nodes, comma-separated (as -h/--host)' },
  step: { flags: '--step <name|regex>', description: 'run only the verify steps whose name is this or matches this regular expression' },
  debug: { flags: '--debug', description: "print the stack trace of swarm-molecule's own errors" },
  write: { flags: '--write', description: 'write it to schema/scenario.schema.json' },
};

export type OptionName = keyof CliOptions;

