import { Option } from 'commander';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from './cli.js';
import { COMMANDS } from './commands/index.js';
import { OPTIONS } from './commands/options.js';

const run = (...args: string[]) => main(['node', 'swarm-molecule', ...args]);

describe('the command line', () => {
  let stderr: string;
  beforeEach(() => {
    stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(() => vi.restoreAllMocks());

  it.each([
    ['a choice not offered', ['test', '--destroy', 'sometimes'], "argument 'sometimes' is invalid"],
    ['a format not offered', ['syntax', '--format', 'yaml'], "argument 'yaml' is invalid"],
    ['a required option missing', ['login'], "required option '-h, --host <node>'"],
    ['an option the command does not take', ['syntax', '--junit', 'x'], "unknown option '--junit'"],
    ['an option without its value', ['list', '-s'], 'argument missing'],
    ['a number that is not one', ['test', '--parallel', '0'], '--parallel takes a whole number'],
    ['a command that does not exist', ['bogus'], "unknown command 'bogus'"],
    ['a missing argument', ['matrix'], "missing required argument 'command'"],
    ['something init cannot make', ['init', 'thing', 'x'], '"init thing" is not something'],
    ['a driver init cannot write a scenario for', ['init', 'scenario', 'x', '--driver', 'kvm'], "argument 'kvm' is invalid"],
    ['a bare word where ansible-playbook arguments go (a scenario without -s)', ['converge', 'default'], 'Name a scenario with -s default; arguments for ansible-playbook go after "--"'],
  ])('exits 2 (usage) on %s', async (_, args, message) => {
    expect(await run(...args)).toBe(2);
    expect(stderr).toContain(message);
  });

  it.each([['reset'], ['list'], ['login', '-h', 'n'], ['exec', '-h', 'n', '--', 'true'], ['test'], ['syntax'], ['matrix', 'test']])(
    'refuses a scenario name that leads out of the project in %s, before touching anything',
    async (command, ...rest) => {
      expect(await run(command, '-s', '../../victim', ...rest)).toBe(2);
      expect(stderr).toContain('"../../victim" is not a scenario name.');
    },
  );

  it.each([
    ['a directory', ['--json', tmpdir()], 'is a directory, not a file.'],
    ['a path under a file', ['--junit', `${fileURLToPath(import.meta.url)}/report.xml`], 'is not a directory.'],
    ['a special file', ['--junit', '/dev/null'], 'is not a regular file.'],
  ])('refuses a report path that is %s before the run', async (_, report, message) => {
    expect(await run('test', '-s', 'no-such-scenario', ...report)).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).not.toContain('not found');
  });

  it('checks --shard before loading any scenario, with --all too', async () => {
    expect(await run('test', '--all', '--shard', '9/3')).toBe(2);
    expect(stderr).toContain('--shard 9/3 is not of the form i/n');
  });

  it('exits 0 on --help and --version', async () => {
    expect(await run('--help')).toBe(0);
    expect(await run('--version')).toBe(0);
    expect(await run('test', '--help')).toBe(0);
  });
});

describe('the option table', () => {
  it('names each option as commander does, so a command receives it under its key', () => {
    for (const [key, spec] of Object.entries(OPTIONS)) expect(new Option(spec.flags).attributeName()).toBe(key);
  });

  it('gives every command a distinct name', () => {
    expect(new Set(COMMANDS.map((c) => c.name)).size).toBe(COMMANDS.length);
  });
});
