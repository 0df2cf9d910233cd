import { isAbsolute, relative } from 'node:path';

/** `file` relative to the working directory when it is inside it, as users type it. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}
