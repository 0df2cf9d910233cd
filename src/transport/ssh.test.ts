import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { COMMAND_PATH, remoteCommand } from './ssh.js';

describe('remoteCommand', () => {
  // What sshd does with it: the account's shell runs it with -c.
  const run = (argv: string[], env: Record<string, string>) => execFileSync('bash', ['-c', remoteCommand(argv)], { encoding: 'utf8', env });

  it('runs the command under /bin/sh with a fixed environment, whatever the caller had', () => {
    const out = run(['sh', '-c', 'env | sort'], { HOME: '/home/x', USER: 'x', LOGNAME: 'x', PATH: '/opt/pyenv/shims:/usr/bin:/bin', PYENV_ROOT: '/opt/pyenv', BASH_ENV: '/tmp/nothing' });
    const env = Object.fromEntries(out.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
    expect(env).toMatchObject({ HOME: '/home/x', USER: 'x', LOGNAME: 'x', PATH: COMMAND_PATH, LANG: 'C.UTF-8' });
    expect(env.PYENV_ROOT).toBeUndefined();
    expect(env.BASH_ENV).toBeUndefined();
  });

  it('passes every argument through unchanged', () => {
    const args = ["it's", '$HOME', '`true`', 'a b', '', '{{json .}}', '"q"'];
    expect(run(['printf', '%s\\n', ...args], { HOME: '/h', PATH: '/usr/bin:/bin' })).toBe(`${args.join('\n')}\n`);
  });
});
