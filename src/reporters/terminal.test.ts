import { describe, expect, it } from 'vitest';
import { TerminalReporter } from './terminal.js';
import type { RunSummary } from './types.js';

const summary: RunSummary = {
  info: { scenario: 'default', command: 'verify', driver: 'netns', actions: ['verify'] },
  actions: [{ action: 'verify', status: 'passed', durationMs: 1200 }],
  status: 'passed',
  exitCode: 0,
  durationMs: 1200,
};

function drive(options: { live: boolean; timestamps: boolean }) {
  const written: string[] = [];
  const reporter = new TerminalReporter({ write: (t) => written.push(t), color: false, ...options });
  reporter.runStart(summary.info);
  reporter.actionStart('verify');
  reporter.stepStart('verify', 'swarm/failover-leader');
  reporter.waiting('swarm/failover-leader', 'a new leader among manager-02, manager-03');
  reporter.verifyResult({ name: 'swarm/failover-leader', index: 0, status: 'passed', log: [], measurements: [], durationMs: 21_000 });
  reporter.actionEnd(summary.actions[0]!);
  reporter.runEnd(summary);
  return written.join('');
}

describe('TerminalReporter', () => {
  it('on a terminal, keeps a live line with the running step and what it waits for, and clears it at the end', () => {
    const out = drive({ live: true, timestamps: false });
    expect(out).toContain('verify › swarm/failover-leader › waiting for a new leader among manager-02, manager-03');
    // Printed lines clear the live line first, and the run ends with it cleared.
    expect(out).toContain('\r\u001b[2K   passed   swarm/failover-leader');
    expect(out.slice(out.lastIndexOf('\r\x1b[2K'))).not.toMatch(/waiting/);
  });

  it('on a terminal, shows a wait\'s last observed value as it changes, with the time spent out of its timeout', () => {
    const written: string[] = [];
    const reporter = new TerminalReporter({ write: (t) => written.push(t), color: false, live: true });
    reporter.runStart(summary.info);
    reporter.actionStart('verify');
    reporter.stepStart('verify', 'swarm/rolling-update');
    const what = 'the rolling update of sm-rolling-update to app:v2';
    reporter.waiting('swarm/rolling-update', what, { timeoutMs: 120_000 });
    expect(written.at(-1)).toMatch(/verify › swarm\/rolling-update › waiting for the rolling update of sm-rolling-update to app:v2 \(\d+ s of 120 s\)$/);
    reporter.waiting('swarm/rolling-update', what, { timeoutMs: 120_000, observed: '2/3 tasks of app:v2 running, 1 of app:v1 · update updating' });
    expect(written.at(-1)).toMatch(/verify › swarm\/rolling-update › 2\/3 tasks of app:v2 running, 1 of app:v1 · update updating \(\d+ s of 120 s\)$/);
    reporter.waiting('swarm/rolling-update', what, { timeoutMs: 120_000, observed: '3/3 tasks of app:v2 running · update completed' });
    expect(written.at(-1)).toMatch(/verify › swarm\/rolling-update › 3\/3 tasks of app:v2 running · update completed \(\d+ s of 120 s\)$/);
    reporter.runEnd(summary);
  });

  it('in CI, prints plain lines: no control characters, a wall-clock time on each action', () => {
    const out = drive({ live: false, timestamps: true });
    expect(out.includes('\r') || out.includes('\u001b')).toBe(false);
    expect(out).toMatch(/^── verify {2}\d\d:\d\d:\d\d$/m);
    expect(out).toMatch(/^ {3}passed {3}swarm\/failover-leader +21\.0s$/m);
  });

  it('labels the whole command apart from its action, and shows where each action\'s time went', () => {
    const written: string[] = [];
    const reporter = new TerminalReporter({ write: (t) => written.push(t), color: false, live: false });
    const phases = [
      { name: 'check nodes', durationMs: 310 },
      { name: 'connect', durationMs: 400 },
      { name: 'swarm/init', durationMs: 610 },
    ];
    const converge: RunSummary = {
      info: { scenario: 'default', command: 'converge', driver: 'netns', actions: ['converge'] },
      actions: [{ action: 'converge', status: 'passed', durationMs: 1320, phases }],
      status: 'passed',
      exitCode: 0,
      durationMs: 1900,
    };
    reporter.runEnd(converge);
    const out = written.join('');
    expect(out).toMatch(/^ {2}converge +passed +1\.3s\n {6}check nodes 0\.31s · connect 0\.40s · swarm\/init 0\.61s\n {2}total +passed +1\.9s {2}\(exit 0\)$/m);
  });

  it('streams Ansible\'s task lines as they happen: changed and failed ones, and every one with -v', () => {
    const lines = (verbose: boolean) => {
      const written: string[] = [];
      const reporter = new TerminalReporter({ write: (t) => written.push(t), color: false, live: false, verbose });
      reporter.actionStart('converge');
      reporter.taskStart('converge.yml', 'swarm_app : Create the group');
      reporter.taskResult('converge.yml', { host: 'n1', task: 'swarm_app : Create the group', status: 'ok', ignored: false });
      reporter.taskResult('converge.yml', { host: 'n2', task: 'swarm_app : Create the group', status: 'changed', ignored: false });
      reporter.taskResult('converge.yml', { host: 'n3', task: 'swarm_app : Create the group', status: 'failed', ignored: false, message: 'denied' });
      reporter.taskResult('converge.yml', { host: 'n4', task: 'swarm_app : Create the group', status: 'failed', ignored: true });
      return written.join('').split('\n').filter((l) => l.includes('·'));
    };
    expect(lines(false)).toEqual(['       · changed  n2               swarm_app : Create the group', '       · failed   n3               swarm_app : Create the group']);
    expect(lines(true)).toEqual([
      '       · ok       n1               swarm_app : Create the group',
      '       · changed  n2               swarm_app : Create the group',
      '       · failed   n3               swarm_app : Create the group',
      '       · ignored  n4               swarm_app : Create the group',
    ]);
  });
});
