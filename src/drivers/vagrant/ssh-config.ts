import { isAbsolute, resolve } from 'node:path';
import type { MachineReadableLine } from './client.js';

/** How `vagrant ssh-config` says to reach a machine. */
export interface VagrantSshConfig {
  /** The `Host` alias: the machine name. */
  host: string;
  hostName: string;
  port: number;
  user: string;
  /** Private keys Vagrant would offer, first one first. */
  identityFiles: string[];
}

/** Strip the quotes OpenSSH allows around a value (Vagrant quotes paths with spaces). */
function unquote(value: string): string {
  const trimmed = value.trim();
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1) : trimmed;
}

/**
 * Parse OpenSSH client configuration as `vagrant ssh-config` prints it: one
 * `Host` block per machine, `Keyword value` lines (keywords case-insensitive,
 * `Keyword=value` allowed). Relative key paths are resolved against `cwd`.
 */
export function parseSshConfig(text: string, cwd = process.cwd()): VagrantSshConfig[] {
  const configs: VagrantSshConfig[] = [];
  let current: VagrantSshConfig | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (!match) continue;
    const keyword = (match[1] ?? '').toLowerCase();
    const value = unquote(match[2] ?? '');
    if (keyword === 'host') {
      current = { host: value, hostName: value, port: 22, user: 'root', identityFiles: [] };
      configs.push(current);
      continue;
    }
    if (!current) continue;
    switch (keyword) {
      case 'hostname':
        current.hostName = value;
        break;
      case 'port':
        current.port = Number(value);
        break;
      case 'user':
        current.user = value;
        break;
      case 'identityfile':
        current.identityFiles.push(isAbsolute(value) ? value : resolve(cwd, value));
        break;
    }
  }
  return configs;
}

/** The ssh-config of every machine in the `--machine-readable` output of `vagrant ssh-config`. */
export function sshConfigsOf(lines: readonly MachineReadableLine[], cwd?: string): Map<string, VagrantSshConfig> {
  const configs = new Map<string, VagrantSshConfig>();
  for (const line of lines) {
    if (line.type !== 'ssh-config') continue;
    for (const config of parseSshConfig(line.data.join(','), cwd)) configs.set(line.target || config.host, config);
  }
  return configs;
}
