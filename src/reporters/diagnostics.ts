import { Chalk, type ChalkInstance } from 'chalk';
import type { ConfigError, Diagnostic } from '../errors.js';

export interface FormatOptions {
  format: 'text' | 'json';
  color: boolean;
}

/** Diagnostics printed for people; a file with thousands of errors has a few causes, shown first. */
export const MAX_SHOWN = 50;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `2 errors, 1 warning`, or `no problems`. */
export function countLine(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  const parts = [...(errors > 0 ? [plural(errors, 'error')] : []), ...(warnings > 0 ? [plural(warnings, 'warning')] : [])];
  return parts.length === 0 ? 'no problems' : parts.join(', ');
}

function colorFrame(frame: string, c: ChalkInstance): string {
  return frame
    .split('\n')
    .map((line) => {
      const match = /^([> ] *\d* \|)(.*)$/.exec(line);
      if (!match) return line;
      const [, gutter = '', rest = ''] = match;
      if (line.startsWith('>')) return c.bold(gutter) + rest;
      if (/^\s*\^$/.test(rest)) return c.dim(gutter) + c.red.bold(rest);
      return c.dim(gutter) + c.dim(rest);
    })
    .join('\n');
}

function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((line) => (line === '' ? line : pad + line))
    .join('\n');
}

/**
 * Diagnostics for people (`file:line:col severity code message`, the code
 * frame, `→ hint`, then a count) or for tools (a JSON array, uncoloured).
 */
export function formatDiagnostics(diagnostics: readonly Diagnostic[], options: FormatOptions): string {
  if (options.format === 'json') return JSON.stringify(diagnostics, null, 2);
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const shown = diagnostics.slice(0, MAX_SHOWN);
  const blocks = shown.map((d) => {
    const severity = d.severity === 'error' ? c.red.bold('error') : c.yellow.bold('warning');
    const lines = [`${c.bold(`${d.file}:${d.line}:${d.col}`)} ${severity} ${c.dim(d.code)} ${d.message}`];
    if (d.frame !== undefined) lines.push(indent(options.color ? colorFrame(d.frame, c) : d.frame, 2));
    if (d.hint !== undefined) lines.push(`  ${c.cyan(`→ ${d.hint}`)}`);
    return lines.join('\n');
  });
  const errors = diagnostics.some((d) => d.severity === 'error');
  const summary = diagnostics.length === 0 ? c.green(countLine(diagnostics)) : (errors ? c.red : c.yellow)(countLine(diagnostics));
  const rest = diagnostics.length - shown.length;
  const more = rest > 0 ? [c.dim(`… and ${rest} more (fix these first, or see them all with --format json).`)] : [];
  return [...blocks, ...more, summary].join('\n\n');
}

/** A scenario that cannot be used, as a person reads it: the message, every problem, what to do. */
export function formatConfigError(error: ConfigError, color: boolean): string {
  const diagnostics = error.diagnostics.length > 0 ? `${formatDiagnostics(error.diagnostics, { format: 'text', color })}\n` : '';
  return `${error.message}\n${diagnostics}${error.hint ? `→ ${error.hint}\n` : ''}`;
}
