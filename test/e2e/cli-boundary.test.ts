import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { repoRoot } from './support/cli.js';

/** The built CLI as a user runs it, with a memory cap so a blow-up fails the test, not the machine. */
function capped(args: string[], cwd: string) {
  return execa('node', ['--max-old-space-size=256', join(repoRoot, 'bin', 'swarm-molecule.js'), ...args], {
    cwd,
    reject: false,
    env: { CI: 'true', NO_COLOR: '1' },
    timeout: 60_000,
  });
}

/**
 * Inputs refused at the command line: exit 2 (usage) with this first line, before
 * anything is read, written or run. `VICTIM`, `DIR` and `FILE` stand for paths of the test.
 */
const CASES: { args: string[]; first: RegExp }[] = [
  { args: ['reset', '-s', '../../victim'], first: /^"\.\.\/\.\.\/victim" is not a scenario name\.$/ },
  { args: ['reset', '-s', 'VICTIM'], first: /is not a scenario name\.$/ },
  { args: ['list', '-s', '../../victim'], first: /is not a scenario name\.$/ },
  { args: ['login', '-s', '../../victim', '-h', 'swarm-manager-01'], first: /is not a scenario name\.$/ },
  { args: ['exec', '-s', '../../victim', '-h', 'swarm-manager-01', '--', 'true'], first: /is not a scenario name\.$/ },
  { args: ['destroy', '-s', '..'], first: /^"\.\." is not a scenario name\.$/ },
  { args: ['test', '--json', 'DIR'], first: /^--json .*: is a directory, not a file\.$/ },
  { args: ['test', '--junit', 'FILE/report.xml'], first: /^--junit .*: .* is not a directory\.$/ },
  { args: ['converge', '--junit', '/dev/null'], first: /^--junit \/dev\/null: is not a regular file\.$/ },
  { args: ['test', '--all', '--shard', '9/3'], first: /^--shard 9\/3 is not of the form i\/n/ },
  { args: ['test', '--destroy', 'sometimes'], first: /^error: option '--destroy <when>' argument 'sometimes' is invalid/ },
  { args: ['syntax', '--format', 'yaml'], first: /^error: option '--format <format>' argument 'yaml' is invalid/ },
  { args: ['login'], first: /^error: required option '-h, --host <node>' not specified$/ },
  { args: ['syntax', '--junit', 'x'], first: /^error: unknown option '--junit'$/ },
  { args: ['list', '-s'], first: /^error: option '-s, --scenario-name <name>' argument missing$/ },
];

describe('the command line refuses bad input before touching anything', () => {
  let root: string;
  let project: string;
  let victim: string;
  let reports: string;

  beforeEach(() => {
    // A project and, beside it, another project's state that must survive.
    root = mkdtempSync(join(tmpdir(), 'sm-boundary-'));
    project = join(root, 'project');
    victim = join(root, 'victim');
    reports = join(root, 'reports');
    mkdirSync(join(project, 'scenarios', 'default'), { recursive: true });
    writeFileSync(join(project, 'scenarios', 'default', 'scenario.yml'), readFileSync(join(repoRoot, 'fixtures', 'projects', 'small', 'scenarios', 'default', 'scenario.yml')));
    mkdirSync(join(victim, 'logs'), { recursive: true });
    writeFileSync(join(victim, 'state.json'), '{"version":1}\n');
    writeFileSync(join(victim, 'logs', 'run.log'), 'kept\n');
    mkdirSync(reports);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it.each(CASES.map((c) => ({ ...c, command: c.args.join(' ') })))('$command exits 2', async ({ args, first }) => {
    const paths: Record<string, string> = { VICTIM: victim, DIR: reports, FILE: join(project, 'scenarios', 'default', 'scenario.yml') };
    const result = await capped(
      args.map((arg) => arg.replace(/^(VICTIM|DIR|FILE)/, (name) => paths[name] ?? name)),
      project,
    );
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr.split('\n')[0]).toMatch(first);
    expect(existsSync(join(project, '.swarm-molecule')), 'the project state was touched').toBe(false);
    expect(readdirSync(reports), 'a report or temp file was left').toEqual([]);
    expect(readFileSync(join(victim, 'state.json'), 'utf8')).toBe('{"version":1}\n');
    expect(readFileSync(join(victim, 'logs', 'run.log'), 'utf8')).toBe('kept\n');
  });

  it('reset refuses a directory in place of state.json, says so, and leaves it', async () => {
    const stateFile = join(project, '.swarm-molecule', 'default', 'state.json');
    mkdirSync(join(stateFile, 'inside'), { recursive: true });
    const result = await capped(['reset'], project);
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(`The state file ${stateFile} is a directory, which swarm-molecule did not write.`);
    expect(existsSync(join(stateFile, 'inside'))).toBe(true);
  });
});
