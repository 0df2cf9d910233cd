import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../errors.js';
import { countLine, formatDiagnostics } from './diagnostics.js';

const error: Diagnostic = {
  file: 'scenarios/default/scenario.yml',
  line: 5,
  col: 5,
  severity: 'error',
  code: 'schema',
  message: 'Unknown key "grups" in platforms[0]. Did you mean "groups"?',
  hint: 'Rename it to "groups".',
  frame: ['  4 |   - name: a', '> 5 |     grups: []', '    |     ^'].join('\n'),
};
const warning: Diagnostic = { file: 'scenarios/default/scenario.yml', line: 9, col: 1, severity: 'warning', code: 'yaml-truthy', message: '"yes" is a string.' };

describe('formatDiagnostics', () => {
  it('writes text: position, severity, code, message, frame, hint, count', () => {
    expect(formatDiagnostics([error, warning], { format: 'text', color: false })).toBe(
      [
        'scenarios/default/scenario.yml:5:5 error schema Unknown key "grups" in platforms[0]. Did you mean "groups"?',
        '    4 |   - name: a',
        '  > 5 |     grups: []',
        '      |     ^',
        '  → Rename it to "groups".',
        '',
        'scenarios/default/scenario.yml:9:1 warning yaml-truthy "yes" is a string.',
        '',
        '1 error, 1 warning',
      ].join('\n'),
    );
  });

  it('counts in words', () => {
    expect(countLine([])).toBe('no problems');
    expect(countLine([error, error])).toBe('2 errors');
    expect(countLine([warning, warning, warning])).toBe('3 warnings');
    expect(formatDiagnostics([], { format: 'text', color: false })).toBe('no problems');
  });

  it('colours only when asked', () => {
    const plain = formatDiagnostics([error], { format: 'text', color: false });
    const coloured = formatDiagnostics([error], { format: 'text', color: true });
    expect(plain).not.toContain('\u001b[');
    expect(coloured).toContain('\u001b[');
    expect(stripVTControlCharacters(coloured)).toBe(plain);
  });

  it('writes JSON: the diagnostic objects, never coloured', () => {
    const json = formatDiagnostics([error, warning], { format: 'json', color: true });
    expect(json).not.toContain('\u001b[');
    expect(JSON.parse(json)).toEqual([error, warning]);
    expect(formatDiagnostics([], { format: 'json', color: false })).toBe('[]');
  });
});

describe('formatDiagnostics with thousands of problems', () => {
  it('prints the first ones and says how many more there are', () => {
    const many = Array.from({ length: 2000 }, (_, i) => ({ ...error, line: i + 1 }));
    const text = formatDiagnostics(many, { format: 'text', color: false });
    expect(text).toContain('… and 1950 more');
    expect(text).toMatch(/2000 errors$/);
    expect(text.split('\n').length).toBeLessThan(400);
  });
});
