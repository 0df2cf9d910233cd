import { Command, Option } from 'commander';
import { COMMANDS } from './commands/index.js';
import type { CliOptions, OptionSpec } from './commands/options.js';
import { OPTIONS } from './commands/options.js';
import { color, err } from './commands/output.js';
import { ConfigError, ExitCode, exitCodeOf, HarnessError, messageOf } from './errors.js';

function optionOf(spec: OptionSpec<unknown>): Option {
  const option = new Option(spec.flags, spec.description);
  if (spec.choices) option.choices(spec.choices.map(String));
  if (spec.parse) option.argParser(spec.parse);
  if (spec.default !== undefined) option.default(spec.default);
  if (spec.required) option.makeOptionMandatory();
  return option;
}

/** The commands of `COMMANDS`, each with its options from the table of `OPTIONS`. */
export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('swarm-molecule')
    // -h is the node of `login`, as in Molecule; help is --help.
    .helpOption('--help', 'display help for command')
    .description('Test the code that builds your Docker Swarm clusters, on real nodes.')
    .version('0.1.0')
    .showHelpAfterError()
    // Before the subcommands are made: they copy it, so their usage errors reach main (exit 2) too.
    .exitOverride();
  for (const spec of COMMANDS) {
    const command = program.command(spec.name).description(spec.description);
    for (const argument of spec.arguments ?? []) command.argument(argument.name, argument.description);
    for (const name of spec.options ?? []) command.addOption(optionOf({ ...OPTIONS[name], ...spec.variants?.[name] }));
    command.action(async () => {
      const code = await spec.run(command.processedArgs.flat() as string[], command.opts<CliOptions>());
      if (typeof code === 'number') setExitCode(code);
    });
  }
  return program;
}

/** Entry point: one top-level catch turns every error into a message and an exit code. */
export async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.passed;
  const program = buildProgram((code) => (exitCode = code));
  try {
    await program.parseAsync(argv);
  } catch (error) {
    const commanderError = error as { code?: string; exitCode?: number };
    if (typeof commanderError.code === 'string' && commanderError.code.startsWith('commander.')) {
      return commanderError.code === 'commander.helpDisplayed' || commanderError.code === 'commander.version' ? 0 : ExitCode.usage;
    }
    if (error instanceof ConfigError) {
      const { formatConfigError } = await import('./reporters/diagnostics.js');
      err(formatConfigError(error, color()));
    } else {
      err(`${messageOf(error)}\n`);
      if (error instanceof HarnessError && error.hint) err(`→ ${error.hint}\n`);
      if ((argv.includes('--debug') || !(error instanceof HarnessError)) && error instanceof Error && error.stack) err(`${error.stack}\n`);
    }
    return exitCodeOf(error);
  }
  return exitCode;
}
