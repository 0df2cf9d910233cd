import { join } from 'node:path';
import { diagnosticAt } from '../../config/positions.js';
import type { Scenario } from '../../config/index.js';
import { ConfigError, type Diagnostic } from '../../errors.js';
import { secrets } from '../../transport/index.js';
import type { ConvergeStepResult, HostResult, LogLine, StepRunInput } from '../types.js';
import { loadImages } from './load.js';
import { findImages, type ImageProblem } from './sources.js';

/** The name the scenario's `images:` list shows under in converge. */
export const IMAGES_STEP = 'images';
const TIMEOUT_MS = 30 * 60_000;

/** Each problem of the `images:` list at its entry's file:line:col. */
export function imageDiagnostics(scenario: Pick<Scenario, 'source'>, problems: readonly ImageProblem[]): Diagnostic[] {
  return problems.map((p) =>
    diagnosticAt(scenario.source, scenario.source.positionOf(['images', p.index]), { severity: 'error', code: 'syntax', message: p.message, hint: p.hint }),
  );
}

/** What `syntax` says of the `images:` list: every image that cannot be found, where it was looked for. */
export async function checkScenarioImages(scenario: Scenario): Promise<Diagnostic[]> {
  if (!scenario.images?.length) return [];
  return imageDiagnostics(scenario, (await findImages(scenario.images, scenario.dir)).problems);
}

/**
 * Converge's first step when the scenario lists `images:`: every node that
 * lacks an image gets it; shown as the step "images", ok on a node that has
 * them all (so idempotence passes). An image that cannot be found is a
 * configuration error (exit 2) at its entry, before any node is touched.
 */
export async function convergeImages(input: StepRunInput): Promise<ConvergeStepResult> {
  const { scenario } = input;
  const started = performance.now();
  const { found, problems } = await findImages(scenario.images ?? [], scenario.dir);
  if (problems.length > 0) {
    throw new ConfigError(`Scenario "${scenario.name}" names ${problems.length} image(s) that cannot be found.`, imageDiagnostics(scenario, problems), {
      hint: 'Fix each entry of images: at the position shown; nothing was loaded.',
    });
  }
  input.events.stepStart?.('converge', IMAGES_STEP, -1);
  const log: LogLine[] = [];
  const hosts = input.base.limit ? input.base.hosts.filter((h) => input.base.limit?.includes(h.name)) : input.base.hosts;
  const loads = await loadImages(hosts, found, {
    tmpDir: join(input.stateDir ?? join(scenario.dir, '.swarm-molecule-tmp'), 'images-tmp'),
    signal: input.base.signal,
    timeoutMs: TIMEOUT_MS,
    progress: {
      // The live line of a terminal shows the bytes of every node; the lines that stay say what each node loaded.
      redraw: (text) => input.events.waiting?.(IMAGES_STEP, 'images to load', { observed: text }),
      line: (text) => {
        const message = secrets.mask(text);
        log.push({ message });
        input.events.log?.(message, IMAGES_STEP);
      },
    },
  });
  const results: HostResult[] = loads.map(({ cause: _cause, ...load }) => ({ ...load, changes: load.changes.map((c) => secrets.mask(c)), ...(load.message ? { message: secrets.mask(load.message) } : {}) }));
  for (const result of results) input.events.hostResult?.(IMAGES_STEP, result);
  return { name: IMAGES_STEP, index: -1, hosts: results, log, durationMs: performance.now() - started };
}
