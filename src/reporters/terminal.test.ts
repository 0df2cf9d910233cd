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
    // The walk of the steps is one phase: the steps overlap, each shown with its span in it.
    const phases = [
      { name: 'start', durationMs: 710 },
      {
        name: 'steps',
        durationMs: 610,
        spans: [
          { name: 'swarm/init', startMs: 0, durationMs: 200 },
          { name: 'swarm/join-workers', startMs: 200, durationMs: 410 },
          { name: 'swarm/labels', startMs: 350, durationMs: 100 },
        ],
      },
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
    expect(out).toMatch(
      /^ {2}converge +passed +1\.3s\n {6}start 0\.71s · steps 0\.61s\n {8}steps: swarm\/init 0\.00–0\.20 s · swarm\/join-workers 0\.20–0\.61 s · swarm\/labels 0\.35–0\.45 s\n {2}total +passed +1\.9s {2}\(exit 0\)$/m,
    );
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

  it('after playbook steps, prints Ansible\'s own PLAY RECAP per host; built-in steps keep their RECAP of steps', () => {
    const written: string[] = [];
    const reporter = new TerminalReporter({ write: (t) => written.push(t), color: false, live: false });
    const info = { scenario: 'default', command: 'converge', driver: 'netns', actions: ['converge' as const], hosts: ['manager-01', 'worker-01'] };
    reporter.runStart(info);
    reporter.actionStart('converge');
    reporter.stepStart('converge', 'swarm/init');
    reporter.hostResult('swarm/init', { host: 'manager-01', status: 'changed', changes: ['swarm: inactive → active'], durationMs: 10 });
    reporter.stepStart('converge', 'converge.yml');
    // A 30-task playbook: one host result per host, carrying Ansible's counts.
    const recap = { ok: 30, changed: 12, unreachable: 0, failed: 0, skipped: 3, rescued: 1, ignored: 2, fromRecap: true };
    reporter.hostResult('converge.yml', { host: 'worker-01', status: 'changed', changes: ['task "x": changed'], ansible: { ...recap, ok: 28 }, durationMs: 10 });
    reporter.hostResult('converge.yml', { host: 'manager-01', status: 'changed', changes: ['task "x": changed'], ansible: recap, durationMs: 10 });
    // A second playbook in the same action adds up, as one long PLAY RECAP.
    reporter.stepStart('converge', 'more.yml');
    reporter.hostResult('more.yml', { host: 'manager-01', status: 'ok', changes: [], ansible: { ...recap, ok: 2, changed: 0, skipped: 0, rescued: 0, ignored: 0 }, durationMs: 10 });
    reporter.runEnd({ info, actions: [{ action: 'converge', status: 'passed', durationMs: 30 }], status: 'passed', exitCode: 0, durationMs: 30 });
    const out = written.join('');
    expect(out).toContain(
      [
        'RECAP converge',
        '  manager-01         ok=0  changed=1  failed=0  skipped=0',
        '',
        'PLAY RECAP converge',
        '  manager-01         ok=32  changed=12  unreachable=0  failed=0  skipped=3  rescued=1  ignored=2',
        '  worker-01          ok=28  changed=12  unreachable=0  failed=0  skipped=3  rescued=1  ignored=2',
        '',
      ].join('\n'),
    );
  });

  it('in the PLAY RECAP, marks a host a playbook stopped on without a failed task, and counts taken from task results', () => {
    const written: string[] = [];
    const reporter = new TerminalReporter({ write: (t) => written.push(t), color: false, live: false });
    const info = { scenario: 'default', command: 'converge', driver: 'netns', actions: ['converge' as const], hosts: ['manager-01'] };
    reporter.runStart(info);
    reporter.actionStart('converge');
    const counts = { ok: 2, changed: 1, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0, fromRecap: false };
    reporter.hostResult('converge.yml', { host: 'manager-01', status: 'failed', changes: [], message: "'swarm_port' is undefined", ansible: counts, durationMs: 10 });
    reporter.runEnd({ info, actions: [{ action: 'converge', status: 'failed', durationMs: 30 }], status: 'failed', exitCode: 3, durationMs: 30 });
    const out = written.join('');
    expect(out).not.toMatch(/^RECAP converge$/m);
    expect(out).toContain(
      'PLAY RECAP converge\n  manager-01         ok=2  changed=1  unreachable=0  failed=0  skipped=0  rescued=0  ignored=0  stopped: the playbook ended with an error before any task failed (no recap from Ansible: counted from its task results)\n',
    );
  });
});
