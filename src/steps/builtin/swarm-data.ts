import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { CheckFailed, UsageError } from '../../errors.js';
import { secrets } from '../../transport/index.js';
import { changed, defineConvergeStep, ok, type ConvergeStepDefinition, type StepRequirementProblem } from '../api.js';

/** The label that records what a secret or config was made from: a SHA-256 of its name and data. */
const DIGEST_LABEL = 'io.swarm-molecule.digest';

/** Masking skips shorter strings (they would mask ordinary words), so a secret must be at least this long. */
const MIN_SECRET_LENGTH = 8;

const baseOptions = z.strictObject({
  /** The name services refer to. */
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'A name: letters, digits, "_", "." and "-", starting with a letter or digit.'),
  /** The data, written in the scenario. */
  value: z.string().optional(),
  /** A file relative to the scenario directory holding the data. */
  file: z.string().min(1).optional(),
  /** An environment variable of the harness holding the data (keeps it out of the project). */
  env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional(),
  /** Labels of the object. */
  labels: z.record(z.string().min(1), z.string()).default({}),
});
type Options = z.output<typeof baseOptions>;

const oneSource = (o: Options) => [o.value, o.file, o.env].filter((v) => v !== undefined).length === 1;

/** Where the data comes from, for messages (never the data). */
const sourceOf = (o: Options): string => (o.file !== undefined ? `file ${o.file}` : o.env !== undefined ? `environment variable ${o.env}` : 'value');

function readData(dir: string, o: Options): string {
  if (o.file !== undefined) return readFileSync(resolve(dir, o.file), 'utf8');
  if (o.env !== undefined) {
    const value = process.env[o.env];
    if (value === undefined) throw new UsageError(`The environment variable ${o.env} is not set (it holds the data of "${o.name}").`, { hint: `Set it before running: export ${o.env}=...` });
    return value;
  }
  return o.value ?? '';
}

const digestOf = (name: string, data: string): string => createHash('sha256').update(name).update('\0').update(data).digest('hex');

/**
 * A converge step that makes a Swarm secret or config from a value, a file or an
 * environment variable. Both are immutable in Swarm: one that exists with other
 * data is refused (rename it, e.g. `name_v2`), never removed and remade.
 */
function dataStep(kind: 'secret' | 'config'): ConvergeStepDefinition<Options> {
  const secret = kind === 'secret';
  const options = baseOptions
    .refine(oneSource, { message: 'Give exactly one of value, file or env.' })
    .refine((o) => !secret || o.value === undefined || o.value.length >= MIN_SECRET_LENGTH, {
      message: `A secret value must be at least ${MIN_SECRET_LENGTH} characters long, or it could not be masked in the output.`,
      path: ['value'],
    })
    .transform((o) => {
      // Masked from the moment the scenario is read, before any step runs.
      if (secret && o.value !== undefined) secrets.add(o.value);
      return o;
    });
  return defineConvergeStep<Options>({
    name: `swarm/${kind}`,
    description: secret
      ? 'Create a Swarm secret from a value, a file or an environment variable; its data is masked everywhere (output, logs, reports, state). ok when it exists with the same data (a digest label says so); a secret with other data is refused: secrets are immutable, give the new one another name.'
      : 'Create a Swarm config from a value, a file or an environment variable. ok when it exists with the same data; a config with other data is refused: configs are immutable, give the new one another name.',
    options,
    hosts: 'swarm-leader',
    graph: { needs: ['swarm'] },
    requirements(scenario, o): StepRequirementProblem[] {
      if (o.file !== undefined && !existsSync(resolve(scenario.dir, o.file))) {
        return [{ path: ['with', 'file'], message: `The file ${o.file} of ${kind} "${o.name}" does not exist (looked for ${resolve(scenario.dir, o.file)}).` }];
      }
      return [];
    },
    async apply(ctx, host) {
      const o = ctx.options;
      const data = readData(ctx.scenario.dir, o);
      if (secret) {
        if (data.trim().length < MIN_SECRET_LENGTH) {
          throw new UsageError(`The secret "${o.name}" (from its ${sourceOf(o)}) is shorter than ${MIN_SECRET_LENGTH} characters: it could not be masked in the output.`, {
            hint: 'Use a longer secret.',
          });
        }
        ctx.secret(data);
      }
      const digest = digestOf(o.name, data);
      const existing = await host.run(['docker', kind, 'inspect', '--format', '{{json .Spec.Labels}}', o.name], { readOnly: true });
      if (existing.exitCode === 0) {
        const labels = (JSON.parse(existing.stdout || 'null') ?? {}) as Record<string, string>;
        if (labels[DIGEST_LABEL] === digest) return ok(`${kind} ${o.name} in place`);
        throw new CheckFailed(
          `The ${kind} "${o.name}" exists with other data than its ${sourceOf(o)}${labels[DIGEST_LABEL] ? '' : ' (or was not made by swarm-molecule)'}; Swarm ${kind}s are immutable, so it is left as it is.`,
          { hint: `Give the new data another name (e.g. ${o.name}_v2) and point the services at it.` },
        );
      }
      const labels = Object.entries({ ...o.labels, [DIGEST_LABEL]: digest }).flatMap(([key, value]) => ['--label', `${key}=${value}`]);
      // The data goes on stdin: never in a command line, a file on the node or a log.
      await host.docker([kind, 'create', ...labels, o.name, '-'], { stdin: data, ...(secret ? { secrets: [data] } : {}), signal: ctx.signal });
      return changed(`${kind} ${o.name}: (none) → created from its ${sourceOf(o)}`);
    },
  });
}

export const secretStep = dataStep('secret');
export const configStep = dataStep('config');
