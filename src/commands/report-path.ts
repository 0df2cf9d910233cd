import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';

/** A report file (`--junit`, `--json`) that can be written: checked before the run, not after it. */
export type ReportPath = string & { readonly __brand: 'ReportPath' };

/** A parser for the option `flag`: refuses a directory, a special file, or a place that cannot be written. */
export function reportPathParser(flag: string): (text: string) => ReportPath {
  return (text) => {
    const refuse = (why: string, hint = 'Name a file in a directory you can write to.') => new UsageError(`${flag} ${text}: ${why}`, { hint });
    const file = resolve(text);
    if (existsSync(file)) {
      const stat = statSync(file);
      if (stat.isDirectory()) throw refuse('is a directory, not a file.', `Name the file, e.g. ${flag} ${text.replace(/\/*$/, '')}/report.${flag === '--json' ? 'json' : 'xml'}.`);
      if (!stat.isFile()) throw refuse('is not a regular file.');
      if (!writable(file)) throw refuse('cannot be written.');
      return text as ReportPath;
    }
    // The directories that are missing are made when the report is written: the nearest one that exists must take them.
    let dir = dirname(file);
    while (!existsSync(dir)) dir = dirname(dir);
    if (!statSync(dir).isDirectory()) throw refuse(`${dir} is not a directory.`);
    if (!writable(dir)) throw refuse(`the directory ${dir} cannot be written.`);
    return text as ReportPath;
  };
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
