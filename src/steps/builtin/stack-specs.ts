import { isDeepStrictEqual } from 'node:util';
import { parseDocument } from 'yaml';
import type { Host } from '../api.js';

/** The label `docker stack deploy` puts on every service and network of a stack. */
export const STACK_LABEL = 'com.docker.stack.namespace';

/** A service of a stack as Swarm stores it: its name and its spec (`docker service inspect` → `.Spec`). */
export interface DeployedService {
  name: string;
  spec: Record<string, unknown>;
}

/** The specs of the services of `stack`, by service name. */
export async function stackServices(manager: Host, stack: string): Promise<Map<string, Record<string, unknown>>> {
  const ids = (await manager.docker(['service', 'ls', '--quiet', '--filter', `label=${STACK_LABEL}=${stack}`], { readOnly: true }))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (ids.length === 0) return new Map();
  // One JSON document per line, one line per service.
  const out = await manager.docker(['service', 'inspect', '--format', '{{json .Spec}}', ...ids], { readOnly: true });
  const specs = out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return new Map(specs.map((spec) => [String(spec['Name']), spec]));
}

/** The networks of `stack` (created by `docker stack deploy`), by name. */
export async function stackNetworks(manager: Host, stack: string): Promise<string[]> {
  const out = await manager.docker(['network', 'ls', '--filter', `label=${STACK_LABEL}=${stack}`, '--format', '{{.Name}}'], { readOnly: true });
  return out
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .sort();
}

/** The paths at which two JSON values differ (`TaskTemplate.ContainerSpec.Image`), with both values, at most `limit`. */
export function specDifferences(before: unknown, after: unknown, limit = 5, path = ''): { path: string; before: unknown; after: unknown }[] {
  if (isDeepStrictEqual(before, after)) return [];
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    const out: { path: string; before: unknown; after: unknown }[] = [];
    for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
      out.push(...specDifferences(before[key], after[key], limit - out.length, path ? `${path}.${key}` : key));
      if (out.length >= limit) break;
    }
    return out;
  }
  return [{ path: path || '(spec)', before, after }];
}

const short = (value: unknown): string => {
  if (value === undefined) return '(none)';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/**
 * What a deploy changed, one line per service or network: created, removed, or
 * updated with what changed in its spec (`service app_web: TaskTemplate.ContainerSpec.Image: a → b`).
 */
export function stackChanges(
  before: ReadonlyMap<string, Record<string, unknown>>,
  after: ReadonlyMap<string, Record<string, unknown>>,
  networks: { before: readonly string[]; after: readonly string[] } = { before: [], after: [] },
): string[] {
  const changes: string[] = [];
  for (const network of networks.after) if (!networks.before.includes(network)) changes.push(`network ${network}: (none) → created`);
  for (const [name, spec] of [...after].sort(([a], [b]) => a.localeCompare(b))) {
    const old = before.get(name);
    if (!old) {
      changes.push(`service ${name}: (none) → created`);
      continue;
    }
    const differences = specDifferences(old, spec);
    if (differences.length > 0) changes.push(`service ${name}: updated (${differences.map((d) => `${d.path}: ${short(d.before)} → ${short(d.after)}`).join('; ')})`);
  }
  for (const name of [...before.keys()].sort()) if (!after.has(name)) changes.push(`service ${name}: present → removed`);
  for (const network of networks.before) if (!networks.after.includes(network)) changes.push(`network ${network}: present → removed`);
  return changes;
}

/** What a compose file asks that `docker stack deploy -c -` on a node cannot do. */
export interface ComposeProblem {
  message: string;
}

/** What the harness needs from a compose file before deploying it: its services' images, and what it cannot ship to the node. */
export interface ComposeSummary {
  services: { name: string; image: string | undefined }[];
  problems: ComposeProblem[];
}

/** `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `$VAR` replaced from `env` (as docker does; `$$` is a `$`). */
export function interpolate(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(/\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (match, braced?: string, op?: string, fallback?: string, bare?: string) => {
    if (match === '$$') return '$';
    const name = braced ?? bare ?? '';
    const value = env[name];
    if (op === ':-') return value === undefined || value === '' ? (fallback ?? '') : value;
    if (op === '-') return value === undefined ? (fallback ?? '') : value;
    return value ?? '';
  });
}

/** Read a compose file's services and the file references the node cannot resolve (the file is sent on stdin). */
export function summariseCompose(text: string, env: Readonly<Record<string, string>>): ComposeSummary {
  const document = parseDocument(interpolate(text, env));
  if (document.errors.length > 0) return { services: [], problems: document.errors.map((e) => ({ message: `not valid YAML: ${e.message.split('\n')[0] ?? ''}` })) };
  const root = document.toJS() as Record<string, unknown> | null;
  const problems: ComposeProblem[] = [];
  const services: ComposeSummary['services'] = [];
  const entries = (value: unknown): [string, Record<string, unknown>][] =>
    typeof value === 'object' && value !== null && !Array.isArray(value) ? (Object.entries(value) as [string, Record<string, unknown>][]) : [];
  if (!root || typeof root !== 'object') return { services, problems: [{ message: 'it is empty (no services)' }] };
  for (const [name, service] of entries(root['services'])) {
    const image = service && typeof service['image'] === 'string' ? service['image'] : undefined;
    services.push({ name, image });
    if (!image) problems.push({ message: `service "${name}" has no image (docker stack deploy does not build; load the image onto the nodes and name it)` });
    if (service && service['env_file'] !== undefined) problems.push({ message: `service "${name}" uses env_file, which the nodes cannot read (the compose file is sent alone); use environment or the step's env` });
  }
  if (services.length === 0) problems.push({ message: 'it declares no services' });
  for (const kind of ['secrets', 'configs'] as const) {
    for (const [name, entry] of entries(root[kind])) {
      if (entry && entry['file'] !== undefined) {
        problems.push({ message: `${kind.slice(0, -1)} "${name}" is read from a file, which the nodes cannot read; create it with swarm/${kind.slice(0, -1)} and declare it "external: true"` });
      }
    }
  }
  return { services, problems };
}
