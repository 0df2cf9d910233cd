import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { Action, Scenario } from '../config/index.js';
import type { Driver, DriverState } from '../drivers/index.js';
import { Interrupted } from '../errors.js';
import { inspectHint, runSequence, type DestroyPolicy } from './runner.js';
import { StateStore } from './state.js';

/** A fake driver that records calls; the real ones are tested on real nodes. */
const calls: string[] = [];
let createBehaviour: (signal: AbortSignal) => Promise<void> = async () => undefined;
const fakeDriver: Driver = {
  name: 'netns',
  sanityCheck: async () => [],
  create: async (ctx, platforms) => {
    calls.push('create');
    const state: DriverState = { nodes: platforms.map((p) => ({ name: p.name, host: '10.0.0.1', port: 22, user: 'root', identityFile: '/k', data: {} })), data: { run: 1 } };
    await ctx.record(state);
    await createBehaviour(ctx.signal);
    return state;
  },
  destroy: async () => {
    calls.push('destroy');
  },
  // The nodes "disappeared": verify must fail as an infrastructure error.
  status: async (_ctx, state) => new Map(state.nodes.map((n) => [n.name, 'missing' as const])),
  stop: async (_c, s) => s,
  start: async (_c, s) => s,
};
vi.mock('../drivers/index.js', () => ({ driverFor: async () => fakeDriver, driverOptionsSchema: async () => undefined }));

const scenario = { name: 'default', driver: { name: 'netns', options: {} }, platforms: [{ name: 'n1', groups: ['swarm-leader'], labels: {} }], converge: [], verify: [], prepare: [], side_effect: [], cleanup: [], dependency: {}, ansible: { skipTags: [], args: [], env: {}, extraVars: {}, hostVars: {}, groupVars: {} }, lint: { rules: {} }, source: { duplicateKeys: [] } } as unknown as Scenario;

async function run(
  policy: DestroyPolicy,
  signals = { signal: new AbortController().signal, cleanupSignal: new AbortController().signal },
  sequence: Action[] = ['destroy', 'create', 'verify', 'destroy'],
) {
  calls.length = 0;
  const projectDir = mkdtempSync(join(tmpdir(), 'sm-runner-'));
  const summary = await runSequence(scenario, { projectDir, command: 'test', sequence, destroy: policy, reporter: {}, ...signals });
  return { summary, state: await new StateStore(projectDir, 'default').read() };
}

describe('runSequence', () => {
  it('after a failure, skips what follows but destroys with --destroy always, and records the error', async () => {
    const { summary, state } = await run('always');
    expect(summary.actions.map((a) => `${a.action}:${a.status}`)).toEqual(['destroy:passed', 'create:passed', 'verify:failed', 'destroy:passed']);
    expect(summary.exitCode).toBe(3);
    expect(summary.actions[2]?.message).toMatch(/n1 is missing/);
    expect(calls).toEqual(['create', 'destroy']);
    expect(state).toMatchObject({ created: false, lastAction: 'destroy' });
    expect(summary.leftover).toBeUndefined();
  });

  it('keeps the nodes for inspection with --destroy passing, and says how to remove them', async () => {
    const { summary, state } = await run('passing');
    expect(summary.actions.at(-1)).toMatchObject({ action: 'destroy', status: 'skipped', message: 'nodes kept for inspection (--destroy passing)' });
    expect(state).toMatchObject({ created: true, lastAction: 'verify' });
    expect(state?.lastError).toMatch(/missing/);
    expect(summary.leftover).toMatch(/swarm-molecule destroy -s default/);
  });

  it('on an interrupt, stops the current action, cleans up, and exits 130', async () => {
    const interrupt = new AbortController();
    createBehaviour = async (signal) => {
      interrupt.abort('SIGINT');
      if (signal.aborted) throw new Interrupted('SIGINT');
    };
    const { summary, state } = await run('always', { signal: interrupt.signal, cleanupSignal: new AbortController().signal });
    createBehaviour = async () => undefined;
    expect(summary.status).toBe('interrupted');
    expect(summary.exitCode).toBe(130);
    expect(summary.actions.map((a) => `${a.action}:${a.status}`)).toEqual(['destroy:passed', 'create:failed', 'verify:skipped', 'destroy:passed']);
    // The half-made nodes were recorded, so destroy could remove them.
    expect(calls).toEqual(['create', 'destroy']);
    expect(state).toMatchObject({ created: false });
  });

  it("attributes every millisecond of an action to its phases, and names them", async () => {
    createBehaviour = () => new Promise((resolve) => setTimeout(resolve, 60));
    try {
      const { summary } = await run('always');
      const create = summary.actions.find((a) => a.action === 'create');
      // In order; a phase that took no measurable time is left out.
      const names = create?.phases?.map((p) => p.name) ?? [];
      expect(names.filter((name) => name !== 'start')).toEqual(['sanity check', 'nodes', 'save state'].filter((name) => names.includes(name)));
      expect(create?.phases?.some((p) => p.name === 'nodes' && p.durationMs >= 50)).toBe(true);
      for (const action of summary.actions.filter((a) => a.status !== 'skipped')) {
        const sum = (action.phases ?? []).reduce((total, p) => total + p.durationMs, 0);
        expect(Math.abs(sum - action.durationMs), `${action.action}: ${JSON.stringify(action.phases)} vs ${action.durationMs}`).toBeLessThanOrEqual(action.durationMs * 0.05 + 0.001);
      }
    } finally {
      createBehaviour = async () => undefined;
    }
  });

  it('runs the cleanup before the trailing destroy after a failure, and the leading one finds no nodes', async () => {
    const { summary } = await run('always', undefined, ['cleanup', 'destroy', 'create', 'prepare', 'verify', 'cleanup', 'destroy']);
    expect(summary.actions.map((a) => `${a.action}:${a.status}`)).toEqual([
      'cleanup:passed',
      'destroy:passed',
      'create:passed',
      // The fake driver's nodes are "missing": prepare has no steps, so it does not look.
      'prepare:passed',
      'verify:failed',
      'cleanup:passed',
      'destroy:passed',
    ]);
    expect(summary.actions[3]?.message).toBe('no prepare steps');
    expect(summary.actions[5]?.message).toBe('no cleanup steps');
    expect(calls).toEqual(['create', 'destroy']);
  });

  it('keeps the teardown cleanup with the nodes when --destroy passing keeps them', async () => {
    const { summary } = await run('passing', undefined, ['create', 'verify', 'cleanup', 'destroy']);
    expect(summary.actions.map((a) => `${a.action}:${a.status}`)).toEqual(['create:passed', 'verify:failed', 'cleanup:skipped', 'destroy:skipped']);
  });
});

describe('inspectHint', () => {
  const login = 'Run "swarm-molecule login -s default -h manager-01" to inspect.';
  const TEST: Action[] = ['dependency', 'cleanup', 'destroy', 'syntax', 'create', 'converge', 'verify', 'cleanup', 'destroy'];

  it('when test destroys the nodes next, says how to keep them (--destroy never), then to log in', () => {
    expect(inspectHint(login, scenario, { command: 'test', sequence: TEST, destroy: 'always' })).toBe(
      'This run destroys the nodes at its end: to keep them, run "swarm-molecule test -s default --destroy never", then run "swarm-molecule login -s default -h manager-01" to inspect.',
    );
  });

  it('suggests login directly when the nodes stay: --destroy never or passing, or a command that does not destroy', () => {
    expect(inspectHint(login, scenario, { command: 'test', sequence: TEST, destroy: 'never' })).toBe(login);
    expect(inspectHint(login, scenario, { command: 'test', sequence: TEST, destroy: 'passing' })).toBe(login);
    expect(inspectHint(login, scenario, { command: 'verify', sequence: ['verify'] })).toBe(login);
    expect(inspectHint(login, scenario, { command: 'converge', sequence: ['dependency', 'create', 'prepare', 'converge'] })).toBe(login);
  });

  it('never tells verify (which takes no --destroy) to use --destroy: its own sequence ends with destroy', () => {
    const hint = inspectHint(login, scenario, { command: 'verify', sequence: ['verify', 'destroy'] });
    expect(hint).toBe(
      'This run destroys the nodes at its end (sequences.verify in scenario.yml ends with destroy): to keep them, remove that destroy or run "swarm-molecule test -s default --destroy never", then run "swarm-molecule login -s default -h manager-01" to inspect.',
    );
    expect(hint).not.toMatch(/swarm-molecule verify .*--destroy/);
  });

  it('leaves other hints alone', () => {
    const other = 'See .swarm-molecule/default/logs/ansible.log.';
    expect(inspectHint(other, scenario, { command: 'test', sequence: TEST, destroy: 'always' })).toBe(other);
  });
});
