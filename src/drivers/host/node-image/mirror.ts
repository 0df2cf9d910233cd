import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The Debian mirror in the host's APT sources (deb822 `.sources` or one-line
 * `sources.list`), so that the image is built from the mirror the host uses.
 */
export function mirrorFromSources(text: string): string | undefined {
  for (const stanza of text.split(/\n\s*\n/)) {
    const uris = /^URIs:\s*(\S+)/im.exec(stanza)?.[1];
    const suites = /^Suites:\s*(.+)$/im.exec(stanza)?.[1] ?? '';
    const enabled = !/^Enabled:\s*no/im.test(stanza);
    const types = (/^Types:\s*(.+)$/im.exec(stanza)?.[1] ?? '').split(/\s+/);
    if (uris && enabled && types.includes('deb') && !/security/.test(suites) && !/security/.test(uris)) {
      return uris.replace(/\/$/, '');
    }
  }
  for (const line of text.split('\n')) {
    const match = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
    if (match?.[1] && !/security/.test(match[1]) && !/security/.test(match[2] ?? '')) return match[1].replace(/\/$/, '');
  }
  return undefined;
}

export async function hostDebianMirror(): Promise<string> {
  const files = ['/etc/apt/sources.list'];
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) files.push(...(await readdir(dir)).filter((f) => f.endsWith('.sources') || f.endsWith('.list')).map((f) => join(dir, f)));
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const mirror = mirrorFromSources(text);
    if (mirror && /debian/.test(mirror)) return mirror;
  }
  return 'http://deb.debian.org/debian';
}
