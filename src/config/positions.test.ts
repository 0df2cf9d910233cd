import { LineCounter, parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { codeFrame, createScenarioSource, displayPath } from './positions.js';

function sourceOf(text: string) {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: false });
  return createScenarioSource({ file: '/elsewhere/scenario.yml', text, document, lineCounter });
}

const TEXT = `# comment
platforms:
  - name: manager-01
    groups: [swarm-leader]
  - name: worker-01
converge:
  - step: swarm/init
    with:
verify:
  - step: swarm/node-roles
    with: { a: 1 }
`;

describe('createScenarioSource', () => {
  const source = sourceOf(TEXT);

  it('finds values through maps and lists', () => {
    expect(source.positionOf(['platforms', 0, 'name'])).toEqual({ line: 3, col: 11 });
    expect(source.positionOf(['platforms', 0, 'groups', 0])).toEqual({ line: 4, col: 14 });
    expect(source.positionOf(['platforms', 1])).toEqual({ line: 5, col: 5 });
    expect(source.positionOf(['verify', 0, 'with', 'a'])).toEqual({ line: 11, col: 16 });
  });

  it('finds keys', () => {
    expect(source.keyPositionOf(['platforms', 0, 'groups'])).toEqual({ line: 4, col: 5 });
    expect(source.keyPositionOf(['converge'])).toEqual({ line: 6, col: 1 });
    // A list item has no key: its value.
    expect(source.keyPositionOf(['platforms', 1])).toEqual({ line: 5, col: 5 });
  });

  it('points an empty value at its key', () => {
    expect(source.positionOf(['converge', 0, 'with'])).toEqual({ line: 8, col: 5 });
  });

  it('falls back to the nearest ancestor for a missing path', () => {
    expect(source.positionOf(['platforms', 1, 'groups'])).toEqual({ line: 5, col: 5 });
    expect(source.positionOf(['platforms', 7, 'name'])).toEqual({ line: 3, col: 3 });
    expect(source.positionOf(['driver', 'name'])).toEqual({ line: 2, col: 1 });
    expect(source.keyPositionOf(['converge', 0, 'with', 'nothing'])).toEqual({ line: 8, col: 5 });
  });

  it('uses the last of duplicate keys, the one that counts', () => {
    const dup = sourceOf('a: 1\nb: 2\na: 3\n');
    expect(dup.positionOf(['a'])).toEqual({ line: 3, col: 4 });
  });

  it('follows aliases', () => {
    const aliased = sourceOf('base: &b\n  zone: a\nlabels: *b\n');
    expect(aliased.positionOf(['labels', 'zone'])).toEqual({ line: 2, col: 9 });
  });

  it('points into an empty document at its first line', () => {
    expect(sourceOf('').positionOf(['platforms'])).toEqual({ line: 1, col: 1 });
    expect(sourceOf('# only\n# comments\n').positionOf([])).toEqual({ line: 1, col: 1 });
  });

  it('builds diagnostics with a frame', () => {
    const diagnostic = source.diagnostic(['platforms', 0, 'name'], { severity: 'error', code: 'schema', message: 'Bad.' });
    expect(diagnostic).toMatchObject({ file: '/elsewhere/scenario.yml', line: 3, col: 11, code: 'schema', message: 'Bad.' });
    expect(diagnostic.frame).toBe(
      ['  1 | # comment', '  2 | platforms:', '> 3 |   - name: manager-01', '    |           ^'].join('\n'),
    );
  });
});

describe('codeFrame', () => {
  it('shows at most two lines before', () => {
    expect(codeFrame('a\nb\nc\nd\n', { line: 4, col: 1 })).toBe(['  2 | b', '  3 | c', '> 4 | d', '    | ^'].join('\n'));
  });

  it('pads line numbers and keeps tabs under the caret', () => {
    const text = `${'x\n'.repeat(9)}\tkey: v\n`;
    expect(codeFrame(text, { line: 10, col: 2 })).toBe(['   8 | x', '   9 | x', '> 10 | \tkey: v', '     | \t^'].join('\n'));
  });

  it('clamps a position past the end', () => {
    expect(codeFrame('a: "x\n', { line: 2, col: 1 })).toBe(['  1 | a: "x', '> 2 |', '    | ^'].join('\n'));
  });
});

describe('displayPath', () => {
  it('is relative inside the working directory, absolute outside', () => {
    expect(displayPath(`${process.cwd()}/scenarios/default/scenario.yml`)).toBe('scenarios/default/scenario.yml');
    expect(displayPath('/elsewhere/x.yml')).toBe('/elsewhere/x.yml');
  });
});

describe('codeFrame on hostile text', () => {
  it('cuts a long line to a window around the column, the caret still under it', () => {
    const line = `${'a'.repeat(100_000)}X${'b'.repeat(100_000)}`;
    const frame = codeFrame(line, { line: 1, col: 100_001 });
    expect(frame.length).toBeLessThan(400);
    const [shown = '', caret = ''] = frame.split('\n');
    expect(shown).toMatch(/^> 1 \| …a+Xb+…$/);
    expect(shown.indexOf('X')).toBe(caret.indexOf('^'));
  });

  it('escapes control characters, keeping the caret aligned', () => {
    const frame = codeFrame('name: \x1b]0;pwned\x07 bad', { line: 1, col: 18 });
    expect(frame).not.toMatch(/[\x07\x1b]/); // eslint-disable-line no-control-regex
    const [shown = '', caret = ''] = frame.split('\n');
    expect(shown).toContain('\\x1b]0;pwned\\x07 bad');
    expect(shown.indexOf('bad')).toBe(caret.indexOf('^'));
  });
});
