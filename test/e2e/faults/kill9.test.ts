import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CREATE_PAUSE_POINTS } from '../../../src/drivers/netns/index.js';
import { PAUSE_AT_ENV, pausedLine, TEST_HOOKS_ENV } from '../../../src/drivers/host/test-hooks.js';
import { repoRoot, swarmMolecule } from '../support/cli.js';
import { processesOf, processRow, runNamespaces, stillRuns, type ProcessRow } from '../support/processes.js';
import { findLeftovers, leftoversSince, NOTHING_LEFT, type Leftovers } from '../support/leaks.js';

/** Two nodes (a manager and a worker): the per-node points are reached twice. */
const project = join(repoRoot, 'fixtures', 'projects', 'small');
const NODES = ['small-manager', 'small-worker'];
const PER_NODE = new Set<string>(CREATE_PAUSE_POINTS.slice(CREATE_PAUSE_POINTS.indexOf('node-recorded')));
/** From here on a node's process runs: the test waits until its dockerd and sshd do, orphaned, before cleaning up. */
const PROCESS_POINTS = new Set<string>(CREATE_PAUSE_POINTS.slice(CREATE_PAUSE_POINTS.indexOf('process-started')));
const LEASES = '/run/swarm-molecule/subnets';

/** The run id the state file or (before the state names it) a lease of this project names. */
function runIdOfProject(): string | undefined {
  const stateDir = join(project, '.swarm-molecule', 'default');
  try {
    const state = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as { driverState?: { data?: { runId?: string } } };
    if (state.driverState?.data?.runId) return state.driverState.data.runId;
  } catch {
    // no state yet
  }
  for (const lease of existsSync(LEASES) ? readdirSync(LEASES) : []) {
    try {
      const owner = JSON.parse(readFileSync(join(LEASES, lease, 'owner'), 'utf8')) as { stateDir?: string; runId?: string };
      if (owner.stateDir === stateDir && owner.runId) return owner.runId;
    } catch {
      // released while we looked
    }
  }
  return undefined;
}

/**
 * The processes of the run, found independently of the product's sweep: the
 * harness's descendants (a node's nsenter is its child until the harness dies),
 * and everything in the run's network namespaces (the nodes' dockerd, sshd, ...).
 */
const processesOfRun = (harness: number, runId: string | undefined): ProcessRow[] => processesOf(harness, runNamespaces(runId));

/**
 * Run `create` paused at `point` (every node there, for a per-node point),
 * kill -9 the harness and prove it died of it. For the points after a node's
 * process started, wait until each orphaned node runs dockerd and sshd.
 * Returns the run id and the processes of the run seen after the kill.
 */
async function killCreateAt(point: string): Promise<{ runId: string | undefined; processes: ProcessRow[] }> {
  const create = swarmMolecule(['create'], project, { [TEST_HOOKS_ENV]: '1', [PAUSE_AT_ENV]: point });
  const harness = create.pid ?? -1;
  const wanted = PER_NODE.has(point) ? NODES.map((node) => pausedLine(point, node)) : [pausedLine(point)];
  let output = '';
  await new Promise<void>((resolve, reject) => {
    create.all?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (wanted.every((line) => output.includes(line))) resolve();
    });
    void create.then(() => reject(new Error(`create ended before pausing at ${point}:\n${output}`)));
  });
  const runId = runIdOfProject();
  // The node processes the harness started (its children until it dies), seen before the kill.
  const children = processesOfRun(harness, runId);
  create.kill('SIGKILL');
  const result = await create;
  // The fault happened: the harness died of SIGKILL, while paused at the point.
  expect(result.signal, result.all).toBe('SIGKILL');
  expect(processRow(harness)).toBeUndefined();
  expect(result.all).not.toMatch(/^ {2}create\s+passed/m);
  if (PROCESS_POINTS.has(point)) {
    // The orphaned nodes run on: each has its dockerd and sshd before anything cleans up.
    for (let i = 0; ; i++) {
      const args = processesOfRun(harness, runId).map((p) => p.args);
      if (args.filter((a) => /^dockerd /.test(a)).length === NODES.length && args.filter((a) => /^(sshd: )?\/usr\/sbin\/sshd -D /.test(a)).length === NODES.length) break;
      if (i > 300) throw new Error(`the orphaned nodes of run ${runId ?? '?'} did not start dockerd and sshd:\n${args.map((a) => a.slice(0, 60)).join('\n')}`);
      await sleep(100);
    }
  }
  const processes = [...children, ...processesOfRun(harness, runId)].filter((p, i, all) => all.findIndex((q) => q.pid === p.pid) === i);
  if (PROCESS_POINTS.has(point)) expect(processes.length).toBeGreaterThanOrEqual(3 * NODES.length);
  return { runId, processes };
}

describe('kill -9 at each await point of create leaves nothing after destroy or reset (real nodes)', () => {
  let before: Leftovers;
  beforeEach(() => {
    before = findLeftovers();
    rmSync(join(project, '.swarm-molecule'), { recursive: true, force: true });
  });
  afterEach(() => {
    expect(leftoversSince(before)).toEqual(NOTHING_LEFT);
  });

  for (const cleanup of ['destroy', 'reset'] as const) {
    for (const point of CREATE_PAUSE_POINTS) {
      it(`killed at ${point}, then ${cleanup}`, async () => {
        const { runId, processes } = await killCreateAt(point);
        const result = await swarmMolecule([cleanup], project);
        expect(result.exitCode, result.all).toBe(0);
        // Every process of the run is gone: those the harness started and those of each node.
        expect(processes.filter(stillRuns).map((p) => `${p.pid} ${p.args}`)).toEqual([]);
        if (runId) {
          // And nothing else of the run (checked by name in afterEach: namespaces, links, mounts, cgroups, leases, dirs).
          expect(existsSync(`/var/lib/swarm-molecule/${runId}`)).toBe(false);
          expect(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })).not.toContain(runId);
        }
      });
    }
  }
});
