import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { quoteArg, quoteCommand } from './quote.js';

describe('quoteCommand', () => {
  it('leaves plain words alone and quotes everything else', () => {
    expect(quoteCommand(['docker', 'node', 'ls', '--format', '{{json .}}'])).toBe("docker node ls --format '{{json .}}'");
    expect(quoteArg('')).toBe("''");
  });

  it.each([
    ["it's", 'a single quote'],
    ['$(touch /tmp/pwned) `id` ; rm -rf / && echo', 'command substitution and separators'],
    ['line\nbreak', 'a newline'],
    ['*', 'a glob'],
    ['ünïcødé ✓', 'unicode'],
  ])('round-trips %j (%s) through a real shell unchanged', (arg) => {
    const echoed = execFileSync('sh', ['-c', `printf '%s' ${quoteCommand([arg])}`], { encoding: 'utf8' });
    expect(echoed).toBe(arg);
  });
});
