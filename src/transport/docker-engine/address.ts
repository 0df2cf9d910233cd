import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../../errors.js';

/**
 * Which Docker engine to talk to, found as the docker CLI finds it: the
 * DOCKER_HOST variable (with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH), else the
 * context named by DOCKER_CONTEXT or by `currentContext` in the CLI's config
 * (`$DOCKER_CONFIG/config.json`, default `~/.docker/config.json`), else the
 * local socket. Everything read here (variables, JSON files) is parsed before
 * it is used; what cannot be is a usage error naming where it came from.
 */
export type EngineAddress = (
  | { kind: 'unix'; socketPath: string }
  | { kind: 'npipe'; socketPath: string }
  | { kind: 'tcp'; host: string; port: number; tls: TlsFiles | undefined }
  | { kind: 'ssh'; host: string; port: number; username: string | undefined }
) & {
  /** Where the address came from, for messages: `DOCKER_HOST`, `context "NAME"`, `the default socket`. */
  source: string;
};

/** Paths of the TLS files of a tcp engine; a missing `ca` means the system's roots. */
export interface TlsFiles {
  ca: string | undefined;
  cert: string | undefined;
  key: string | undefined;
  verify: boolean;
}

/** What is read from the environment and the disk; tests pass their own. */
export interface EngineLookup {
  env: Record<string, string | undefined>;
  home?: string;
  platform?: NodeJS.Platform;
  readFile?: (path: string) => string | undefined;
  exists?: (path: string) => boolean;
}

const readIfThere = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** `~/.docker/config.json`: only the key we read; the CLI's other keys are not ours to judge. */
const configSchema = z.looseObject({ currentContext: z.string().optional() });

/** `contexts/meta/<sha256 of name>/meta.json`. */
const metaSchema = z.looseObject({
  Name: z.string(),
  Endpoints: z.looseObject({
    docker: z.looseObject({ Host: z.string().min(1), SkipTLSVerify: z.boolean().optional() }),
  }),
});

const CONTEXT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.+-]*$/;

function badInput(what: string, problem: string, hint: string): UsageError {
  return new UsageError(`The Docker engine address from ${what} is not usable: ${problem}.`, { hint });
}

/** Parse one endpoint string (`unix:///path`, `tcp://host:port`, `ssh://user@host:port`, `npipe:////./pipe/x`). */
export function parseEngineHost(
  value: string,
  source: string,
  tls: () => TlsFiles | undefined,
): EngineAddress {
  const hint = `Use the form the docker CLI takes: unix:///var/run/docker.sock, tcp://HOST:2376 or ssh://USER@HOST (fix ${source}).`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badInput(source, `${JSON.stringify(value)} is not a URL`, hint);
  }
  switch (url.protocol) {
    case 'unix:': {
      const socketPath = decodeURIComponent(url.pathname);
      if (!socketPath.startsWith('/') || url.host) throw badInput(source, `${JSON.stringify(value)} names no absolute socket path`, hint);
      return { kind: 'unix', socketPath, source };
    }
    case 'npipe:':
      return { kind: 'npipe', socketPath: decodeURIComponent(url.pathname).replace(/\//g, '\\'), source };
    case 'tcp:':
    case 'http:':
    case 'https:': {
      if (!url.hostname) throw badInput(source, `${JSON.stringify(value)} names no host`, hint);
      const files = tls();
      const port = url.port ? Number(url.port) : files ? 2376 : 2375;
      return { kind: 'tcp', host: url.hostname.replace(/^\[|\]$/g, ''), port, tls: url.protocol === 'https:' && !files ? { ca: undefined, cert: undefined, key: undefined, verify: true } : files, source };
    }
    case 'ssh:': {
      if (!url.hostname) throw badInput(source, `${JSON.stringify(value)} names no host`, hint);
      return { kind: 'ssh', host: url.hostname, port: url.port ? Number(url.port) : 22, username: url.username ? decodeURIComponent(url.username) : undefined, source };
    }
    default:
      throw badInput(source, `the scheme ${JSON.stringify(url.protocol)} is not one Docker uses`, hint);
  }
}

function parseJson<T>(schema: z.ZodType<T>, text: string, file: string, hint: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file} is not JSON: ${(error as Error).message}.`, { hint });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`${file} is not what the docker CLI writes (at "${issue?.path.join('.') ?? ''}": ${issue?.message ?? 'invalid'}).`, { hint });
  }
  return parsed.data;
}

/** The engine the docker CLI would talk to with this environment and these files. */
export function resolveEngine(lookup: EngineLookup): EngineAddress {
  const env = lookup.env;
  const home = lookup.home ?? homedir();
  const read = lookup.readFile ?? readIfThere;
  const configDir = env.DOCKER_CONFIG || join(home, '.docker');
  const nonEmpty = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);

  const host = nonEmpty(env.DOCKER_HOST);
  if (host) {
    // As the CLI: DOCKER_TLS_VERIFY (any non-empty value) turns TLS on and checks the
    // server; DOCKER_TLS alone turns it on; the files are in DOCKER_CERT_PATH (default ~/.docker).
    const certPath = nonEmpty(env.DOCKER_CERT_PATH) ?? configDir;
    const verify = nonEmpty(env.DOCKER_TLS_VERIFY) !== undefined;
    const on = verify || nonEmpty(env.DOCKER_TLS) !== undefined;
    const tls = () => (on ? { ca: join(certPath, 'ca.pem'), cert: join(certPath, 'cert.pem'), key: join(certPath, 'key.pem'), verify } : undefined);
    return parseEngineHost(host, 'DOCKER_HOST', tls);
  }

  const configFile = join(configDir, 'config.json');
  const configText = read(configFile);
  const fromConfig = configText === undefined ? undefined : parseJson(configSchema, configText, configFile, `Fix or remove ${configFile}, or set DOCKER_HOST.`).currentContext;
  const name = nonEmpty(env.DOCKER_CONTEXT) ?? nonEmpty(fromConfig);
  if (name && name !== 'default') {
    const source = `context "${name}"`;
    if (!CONTEXT_NAME.test(name)) {
      throw badInput(source, `${JSON.stringify(name)} is not a context name`, 'Name an existing context ("docker context ls"), or set DOCKER_HOST.');
    }
    const id = createHash('sha256').update(name).digest('hex');
    const metaFile = join(configDir, 'contexts', 'meta', id, 'meta.json');
    const metaText = read(metaFile);
    if (metaText === undefined) {
      throw badInput(source, `there is no such context (no ${metaFile})`, `Create it ("docker context create ${name} ..."), switch to another ("docker context use default"), or set DOCKER_HOST.`);
    }
    const meta = parseJson(metaSchema, metaText, metaFile, `Recreate the context "${name}" with "docker context create", or set DOCKER_HOST.`);
    const tlsDir = join(configDir, 'contexts', 'tls', id, 'docker');
    const has = lookup.exists ?? ((path: string) => read(path) !== undefined);
    const tls = () => {
      const file = (f: string) => (has(join(tlsDir, f)) ? join(tlsDir, f) : undefined);
      const files = { ca: file('ca.pem'), cert: file('cert.pem'), key: file('key.pem') };
      return files.ca || files.cert ? { ...files, verify: meta.Endpoints.docker.SkipTLSVerify !== true } : undefined;
    };
    return parseEngineHost(meta.Endpoints.docker.Host, source, tls);
  }
  return (lookup.platform ?? process.platform) === 'win32'
    ? { kind: 'npipe', socketPath: '\\\\.\\pipe\\docker_engine', source: 'the default pipe' }
    : { kind: 'unix', socketPath: '/var/run/docker.sock', source: 'the default socket' };
}

/** How to name the engine in a message: `unix:///var/run/docker.sock (the default socket)`. */
export function describeEngine(address: EngineAddress): string {
  const where =
    address.kind === 'unix' || address.kind === 'npipe'
      ? `${address.kind}://${address.socketPath}`
      : address.kind === 'tcp'
        ? `tcp://${address.host}:${address.port}${address.tls ? ' (TLS)' : ''}`
        : `ssh://${address.username ? `${address.username}@` : ''}${address.host}:${address.port}`;
  return `${where} (${address.source})`;
}

/** Whether the engine runs on this machine: then container addresses may be routable from here. */
export const isLocalEngine = (address: EngineAddress): boolean => address.kind === 'unix' || address.kind === 'npipe';

/** The host on which ports published by the engine answer, as seen from this machine. */
export const publishedHost = (address: EngineAddress): string => (address.kind === 'tcp' || address.kind === 'ssh' ? address.host : '127.0.0.1');
