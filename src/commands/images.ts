import type { Scenario } from '../config/index.js';
import { loadScenario } from '../config/index.js';
import { IMAGE_REFERENCE } from '../config/schema.js';
import { ExitCode, UsageError } from '../errors.js';
import { DEFAULT_SCENARIO } from '../lifecycle/scenario-name.js';
import { acquireLock } from '../lifecycle/lock.js';
import { StateStore } from '../lifecycle/state.js';
import { createHost } from '../steps/host.js';
import { loadImages, type NodeLoad } from '../steps/images/load.js';
import { terminalView } from '../steps/images/progress.js';
import { findImages } from '../steps/images/sources.js';
import { ConnectionPool, secrets } from '../transport/index.js';
import { interruptSignals } from './interrupt.js';
import type { CliOptions } from './options.js';
import { out } from './output.js';

/** One line per node: `changed  node-a  image app:1: (none) → loaded 0123456789ab (…)`. */
export function loadSummary(loads: readonly NodeLoad[]): string {
  const width = Math.max(0, ...loads.map((l) => l.host.length));
  return loads
    .map((l) => `${l.status.padEnd(8)} ${l.host.padEnd(width)}  ${l.status === 'changed' ? l.changes.join('; ') : (l.message ?? '')}`)
    .map((line) => secrets.mask(line))
    .join('\n');
}

/**
 * `images load -s NAME IMAGE…`: put images on the scenario's running nodes, as
 * the scenario's `images:` list does in converge (`kind load docker-image`):
 * references from this machine's Docker engine, `.tar` archives relative to the
 * current directory. An image that cannot be found is a usage error (exit 2),
 * named with where it was looked for, before any node is touched.
 */
export async function runImagesCommand(projectDir: string, action: string, entries: string[], options: Pick<CliOptions, 'scenarioName'>): Promise<number> {
  if (action !== 'load') throw new UsageError(`"images ${action}" is not an images action.`, { hint: 'Run "swarm-molecule images load -s NAME IMAGE…".' });
  const name = options.scenarioName ?? DEFAULT_SCENARIO;
  if (entries.length === 0) throw new UsageError('"images load" needs the images to load.', { hint: `Name them: "swarm-molecule images load -s ${name} myorg/app:1.4 images/db.tar".` });
  const bad = entries.filter((e) => !e.endsWith('.tar') && !IMAGE_REFERENCE.test(e));
  if (bad.length > 0) {
    throw new UsageError(`${bad.map((e) => `"${e}"`).join(', ')} ${bad.length === 1 ? 'is' : 'are'} neither an image reference nor a .tar archive.`, {
      hint: 'Name an image as docker does (myorg/app:1.4, lowercase repository), or a "docker save" archive whose path ends in .tar.',
    });
  }
  const scenario: Scenario = await loadScenario(projectDir, name);
  const store = new StateStore(projectDir, name);
  // The nodes are the scenario's: no converge or destroy may work on them meanwhile.
  const release = await acquireLock(store.dir, name);
  try {
    return await loadOnNodes(scenario, store, entries);
  } finally {
    await release();
  }
}

async function loadOnNodes(scenario: Scenario, store: StateStore, entries: string[]): Promise<number> {
  const name = scenario.name;
  const driverState = (await store.read())?.driverState;
  if (!driverState || driverState.nodes.length === 0) {
    throw new UsageError(`Scenario "${name}" has no nodes to load images on.`, { hint: `Create them first: "swarm-molecule create -s ${name}".` });
  }
  const { found, problems } = await findImages(entries, process.cwd());
  if (problems.length > 0) {
    throw new UsageError(problems.map((p) => p.message).join('\n'), { hint: `${problems[0]?.hint ?? ''} Nothing was loaded.` });
  }

  const signals = interruptSignals();
  const pool = new ConnectionPool(driverState, { signal: signals.signal });
  const view = terminalView(process.stderr);
  try {
    const platforms = scenario.platforms.filter((p) => driverState.nodes.some((n) => n.name === p.name));
    const book = {
      platforms,
      addressOf: (node: string) => {
        const record = driverState.nodes.find((n) => n.name === node);
        return record?.address ?? record?.host ?? '';
      },
      connections: pool,
      reads: new Map<string, Promise<string>>(),
    };
    const loads = await loadImages(
      platforms.map((p) => createHost(p, book)),
      found,
      { tmpDir: `${store.dir}/images-tmp`, signal: signals.signal, timeoutMs: 30 * 60_000, progress: view },
    );
    view.end();
    out(`${loadSummary(loads)}\n`);
    return loads.some((l) => l.status === 'failed') ? ExitCode.infrastructure : ExitCode.passed;
  } finally {
    view.end();
    pool.closeAll();
    signals.dispose();
  }
}
