import { Command, Option } from 'commander';
import { ConfigError, ExitCode, exitCodeOf, HarnessError, messageOf, UsageError } from './errors.js';
import type { Scenario } from './config/index.js';
import type { DestroyPolicy } from './lifecycle/runner.js';

/** Colour on a terminal, plain in CI and when NO_COLOR is set. */
const color = () => Boolean(process.stdout.isTTY) && !process.env.CI && !process.env.NO_COLOR;
const out = (text: string) => process.stdout.write(text);
const err = (text: string) => process.stderr.write(text);

interface ScenarioOptions {
  scenarioName: string;
  all?: boolean;
}

interface ReportOptions {
  junit?: string;
  json?: string;
  verbose?: boolean;
  parallel?: number;
  shard?: string;
}

function positiveInt(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${option} takes a whole number of at least 1, not "${value}".`);
  return n;
}

/** CI logs: no TTY or CI=true gives plain, timestamped lines. */
const inCi = () => !process.stdout.isTTY || Boolean(process.env.CI);

async function scenariosFor(options: ScenarioOptions): Promise<Scenario[]> {
  const { listScenarios, loadScenario } = await import('./config/index.js');
  const projectDir = process.cwd();
  const names = options.all ? await listScenarios(projectDir) : [options.scenarioName];
  if (names.length === 0) throw new UsageError('There are no scenarios under scenarios/.', { hint: 'Create scenarios/default/scenario.yml.' });
  const scenarios: Scenario[] = [];
  for (const name of names) scenarios.push(await loadScenario(projectDir, name));
  return scenarios;
}

/**
 * Signals: the first SIGINT/SIGTERM stops the current step and lets the run
 * clean up; a second one abandons the cleanup and says what is left.
 */
function interruptControllers(): { signal: AbortSignal; cleanupSignal: AbortSignal; dispose(): void } {
  const interrupt = new AbortController();
  const cleanup = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (!interrupt.signal.aborted) {
      err(`\n${signal}: stopping the current step, then cleaning up. Send it again to abandon the cleanup.\n`);
      interrupt.abort(signal);
    } else if (!cleanup.signal.aborted) {
      err(`\n${signal} again: abandoning the cleanup; what is left is listed below.\n`);
      cleanup.abort(signal);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: interrupt.signal,
    cleanupSignal: cleanup.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Run a command's sequence on each selected scenario; the exit code is the worst one. */
async function runCommand(
  command: 'test' | 'create' | 'converge' | 'destroy' | 'verify' | 'idempotence',
  options: ScenarioOptions & ReportOptions & { destroy?: DestroyPolicy },
): Promise<number> {
  const { runSequence } = await import('./lifecycle/runner.js');
  const { createFileReporters, createReporter } = await import('./reporters/index.js');
  const { default: pLimit } = await import('p-limit');
  const scenarios = shardOf(await scenariosFor(options), options.shard);
  const parallel = options.parallel ?? 1;
  const files = createFileReporters(options);
  const signals = interruptControllers();
  const limit = pLimit(parallel);
  const runOne = async (scenario: Scenario) => {
    // In parallel, each scenario's output is held and printed as one block when it ends.
    const held: string[] = [];
    const write = parallel > 1 ? (text: string) => void held.push(text) : out;
    // A live line only where one block is printed at a time, on a terminal.
    const live = !inCi() && parallel === 1;
    const reporter = createReporter({ write, color: color(), timestamps: inCi(), verbose: Boolean(options.verbose), live }, files);
    const sequence = command === 'idempotence' ? (['idempotence'] as const) : scenario.sequences[command];
    try {
      return await runSequence(scenario, {
        projectDir: process.cwd(),
        command,
        sequence: [...sequence],
        ...(options.destroy ? { destroy: options.destroy } : {}),
        reporter,
        signal: signals.signal,
        cleanupSignal: signals.cleanupSignal,
      });
    } finally {
      if (held.length > 0) out(`${held.join('')}\n`);
    }
  };
  try {
    const summaries = await Promise.all(scenarios.map((scenario) => limit(() => (signals.signal.aborted ? undefined : runOne(scenario)))));
    if (scenarios.length > 1) {
      out(`\n${scenarios.length} scenarios: ${summaries.map((s, i) => `${scenarios[i]?.name ?? '?'} ${s?.status ?? 'not run'}`).join(', ')}\n`);
    }
    return Math.max(ExitCode.passed, ...summaries.map((s) => s?.exitCode ?? ExitCode.interrupted));
  } finally {
    signals.dispose();
  }
}

/** `--shard i/n`: the i-th of n slices of the scenarios (sorted by name), for CI machines. */
export function shardOf<T extends { name: string }>(scenarios: T[], shard: string | undefined): T[] {
  if (!shard) return scenarios;
  const match = /^(\d+)\/(\d+)$/.exec(shard);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard ${shard} is not of the form i/n with 1 ≤ i ≤ n.`, { hint: 'For example --shard 1/3 on the first of three CI machines.' });
  }
  return [...scenarios].sort((a, b) => a.name.localeCompare(b.name)).filter((_, i) => i % count === index - 1);
}

async function checkCommand(kind: 'syntax' | 'lint', options: ScenarioOptions & { format: 'text' | 'json' }): Promise<number> {
  const { formatDiagnostics } = await import('./reporters/diagnostics.js');
  const diagnostics = [];
  try {
    for (const scenario of await scenariosFor(options)) {
      if (kind === 'syntax') {
        const { checkSyntax } = await import('./syntax/index.js');
        diagnostics.push(...(await checkSyntax(scenario)));
      } else {
        const { lintScenarioAndPlaybooks } = await import('./lint/index.js');
        diagnostics.push(...(await lintScenarioAndPlaybooks(scenario)));
      }
    }
  } catch (error) {
    // A scenario that is not there has no positions to report: say so, exit 2.
    if (!(error instanceof ConfigError) || error.diagnostics.length === 0) throw error;
    diagnostics.push(...error.diagnostics);
  }
  if (options.format === 'json' || diagnostics.length > 0) out(`${formatDiagnostics(diagnostics, { format: options.format, color: color() })}\n`);
  else out(`${kind}: no problems found\n`);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length === 0) return ExitCode.passed;
  if (kind === 'syntax' || errors.some((d) => d.code === 'yaml' || d.code === 'schema' || d.code === 'syntax')) return ExitCode.usage;
  return ExitCode.checkFailed;
}

export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('swarm-molecule')
    // -h is the node of `login`, as in Molecule; help is --help.
    .helpOption('--help', 'display help for command')
    .description('Test the code that builds your Docker Swarm clusters, on real nodes.')
    .version('0.1.0')
    .showHelpAfterError();

  const scenarioOptions = (cmd: Command) =>
    cmd.option('-s, --scenario-name <name>', 'scenario under scenarios/', 'default').option('--all', 'every scenario under scenarios/');
  const sequenceCommand = (name: 'test' | 'create' | 'converge' | 'destroy' | 'verify' | 'idempotence', description: string) => {
    const cmd = scenarioOptions(program.command(name).description(description))
      .option('--junit <file>', 'write a JUnit XML report (also when the run fails or is interrupted)')
      .option('--json <file>', 'write the whole run as JSON')
      .option('-v, --verbose', 'echo every command run on the nodes')
      .option('--parallel <n>', 'run up to n scenarios at once, each on its own nodes and subnet', (v) => positiveInt(v, '--parallel'), 1)
      .option('--shard <i/n>', 'run only the i-th of n slices of the scenarios (with --all)');
    cmd.action(async (options: ScenarioOptions & ReportOptions & { destroy?: DestroyPolicy }) => setExitCode(await runCommand(name, options)));
    return cmd;
  };

  sequenceCommand('test', 'destroy → syntax → create → converge → idempotence → lint → verify → destroy').addOption(
    new Option('--destroy <when>', 'destroy the nodes at the end: always, never, or only when passing').choices(['always', 'never', 'passing']).default('always'),
  );
  sequenceCommand('create', 'create the nodes (reuses running ones)');
  sequenceCommand('converge', 'create the nodes if needed, then run the converge steps');
  sequenceCommand('idempotence', 'run converge again and fail if any step changes anything');
  sequenceCommand('verify', 'run the verify steps on the converged nodes');
  sequenceCommand('destroy', 'destroy the nodes');

  for (const kind of ['syntax', 'lint'] as const) {
    scenarioOptions(program.command(kind).description(kind === 'syntax' ? 'check the scenario offline (exit 2 on an error)' : 'lint the scenario offline (exit 1 on an error)'))
      .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
      .action(async (options: ScenarioOptions & { format: 'text' | 'json' }) => setExitCode(await checkCommand(kind, options)));
  }

  program
    .command('list')
    .description('the nodes of every scenario (or one): address and state')
    .option('-s, --scenario-name <name>', 'only this scenario')
    .action(async (options: { scenarioName?: string }) => {
      const { listNodes } = await import('./lifecycle/inspect.js');
      const { listScenarios } = await import('./config/index.js');
      out(await listNodes(process.cwd(), options.scenarioName ? [options.scenarioName] : await listScenarios(process.cwd())));
    });

  scenarioOptions(program.command('login').description('an interactive shell on a node over SSH'))
    .requiredOption('-h, --host <node>', 'the node to log in to')
    .action(async (options: ScenarioOptions & { host: string }) => {
      const { login } = await import('./lifecycle/inspect.js');
      setExitCode(await login(process.cwd(), options.scenarioName, options.host));
    });

  scenarioOptions(program.command('reset').description('destroy what can be found, then forget the scenario\'s state')).action(async (options: ScenarioOptions) => {
    const { reset } = await import('./lifecycle/inspect.js');
    const { listScenarios } = await import('./config/index.js');
    for (const name of options.all ? await listScenarios(process.cwd()) : [options.scenarioName]) {
      out(await reset(process.cwd(), name));
    }
  });

  scenarioOptions(program.command('exec').description('run a command on a node: exec -h NODE -- CMD ARGS...'))
    .requiredOption('-h, --host <node>', 'the node to run it on')
    .argument('<command...>', 'the command and its arguments (after --)')
    .action(async (argv: string[], options: ScenarioOptions & { host: string }) => {
      const { execOnNode } = await import('./lifecycle/inspect.js');
      const result = await execOnNode(process.cwd(), options.scenarioName, options.host, argv);
      out(result.stdout);
      err(result.stderr);
      setExitCode(result.exitCode);
    });

  scenarioOptions(program.command('matrix').description('the actions a command would run: matrix test'))
    .argument('<command>', 'test, create, converge, destroy or verify')
    .action(async (command: string, options: ScenarioOptions) => {
      const { SEQUENCE_COMMANDS } = await import('./config/index.js');
      const sequenceCommand = SEQUENCE_COMMANDS.find((c) => c === command);
      if (!sequenceCommand) throw new UsageError(`"${command}" has no sequence.`, { hint: `Commands with sequences: ${SEQUENCE_COMMANDS.join(', ')}.` });
      for (const scenario of await scenariosFor(options)) {
        out(`${scenario.name}:\n${scenario.sequences[sequenceCommand].map((a) => `  - ${a}`).join('\n')}\n`);
      }
    });

  program
    .command('init')
    .description('scaffold: init scenario NAME')
    .argument('<what>', 'what to create: scenario')
    .argument('<name>', 'the new scenario\'s name')
    .action(async (what: string, name: string) => {
      if (what !== 'scenario') throw new UsageError(`"init ${what}" is not something swarm-molecule can create.`, { hint: 'Use "init scenario NAME".' });
      const { scaffoldScenario } = await import('./lifecycle/scaffold.js');
      const files = await scaffoldScenario(process.cwd(), name);
      out(`Created scenario "${name}":\n${files.map((f) => `  ${f}`).join('\n')}\nRun it with: swarm-molecule test -s ${name}\n`);
    });

  program
    .command('schema')
    .description('print the JSON Schema of scenario.yml (for editors)')
    .option('--write', 'write it to schema/scenario.schema.json')
    .action(async (options: { write?: boolean }) => {
      const { writeFile, mkdir } = await import('node:fs/promises');
      const { scenarioJsonSchema } = await import('./config/index.js');
      const text = `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
      if (options.write) {
        await mkdir('schema', { recursive: true });
        await writeFile('schema/scenario.schema.json', text);
      } else out(text);
    });

  const image = program.command('image').description('the cached node image that nodes boot: image build|ls|rm');
  const imageCommand = (name: string, description: string) =>
    image.command(name).description(description).option('--cache-dir <dir>', 'where node images are cached (default $SWARM_MOLECULE_CACHE or /var/cache/swarm-molecule)');
  imageCommand('build', 'build the node image of this version (debootstrap, once; create does it when missing)')
    .option('--mirror <url>', 'the Debian mirror to build from (default the one this machine uses)')
    .action(async (options: { cacheDir?: string; mirror?: string }) => {
      const { buildImage } = await import('./commands/image.js');
      const signals = interruptControllers();
      try {
        await buildImage({ ...options, signal: signals.signal, write: out });
      } finally {
        signals.dispose();
      }
    });
  imageCommand('ls', 'list the cached node images').action(async (options: { cacheDir?: string }) => {
    const { listImages } = await import('./commands/image.js');
    await listImages({ ...options, signal: new AbortController().signal, write: out });
  });
  imageCommand('rm', 'remove node images: those named, else those of old versions (--all: every one)')
    .argument('[image...]', 'image hashes (or their beginnings) from "image ls"')
    .option('--all', 'every cached node image')
    .action(async (hashes: string[], options: { cacheDir?: string; all?: boolean }) => {
      const { removeImages } = await import('./commands/image.js');
      await removeImages(hashes, { ...options, signal: new AbortController().signal, write: out });
    });

  return program;
}

/** Entry point: one top-level catch turns every error into a message and an exit code. */
export async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.passed;
  const program = buildProgram((code) => (exitCode = code));
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    const commanderError = error as { code?: string; exitCode?: number };
    if (typeof commanderError.code === 'string' && commanderError.code.startsWith('commander.')) {
      return commanderError.code === 'commander.helpDisplayed' || commanderError.code === 'commander.version' ? 0 : ExitCode.usage;
    }
    if (error instanceof ConfigError) {
      const { formatDiagnostics } = await import('./reporters/diagnostics.js');
      err(`${error.message}\n`);
      if (error.diagnostics.length > 0) err(`${formatDiagnostics(error.diagnostics, { format: 'text', color: color() })}\n`);
      if (error.hint) err(`→ ${error.hint}\n`);
    } else {
      err(`${messageOf(error)}\n`);
      if (error instanceof HarnessError && error.hint) err(`→ ${error.hint}\n`);
      else if (!(error instanceof HarnessError) && error instanceof Error && error.stack) err(`${error.stack}\n`);
    }
    return exitCodeOf(error);
  }
  return exitCode;
}
