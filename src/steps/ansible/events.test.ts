import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { changeLine, diffSummary, failureOf, logLines, parseEvents, recapOf, summarize } from './events.js';

// Recorded from real runs of ansible-core 2.14 on netns nodes with the
// swarm_molecule_events callback: the ansible scenario's converge.yml on fresh
// nodes and again, and testdata/mixed.yml (every kind of result, one host unreachable).
const sample = (name: string) => readFileSync(new URL(`./testdata/${name}.jsonl`, import.meta.url), 'utf8');
const ORDER = ['manager-01', 'manager-02', 'manager-03', 'worker-01'];

describe('parseEvents', () => {
  it('reads every result and the recap of a run', () => {
    const events = parseEvents(sample('converge-first'));
    expect(events.results).toHaveLength(14);
    expect(events.stats?.['manager-02']).toEqual({ ok: 3, changed: 1, failures: 0, unreachable: 0, skipped: 1, rescued: 0, ignored: 0 });
    expect(events.results[0]).toMatchObject({ host: 'manager-01', task: 'swarm_leader : Read the swarm state of this node', status: 'ok' });
    expect(events.results[0]?.path).toMatch(/roles\/swarm_leader\/tasks\/main\.yml:2$/);
    for (const r of events.results) expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('keeps what a run wrote before it was cut short, without a recap', () => {
    const lines = sample('converge-first').split('\n');
    const cut = `${lines.slice(0, 6).join('\n')}\n{"event": "result", "host": "manager`;
    const events = parseEvents(cut);
    expect(events.stats).toBeUndefined();
    expect(events.results.map((r) => r.task)).toEqual(['swarm_leader : Read the swarm state of this node', 'swarm_leader : Initialise the swarm']);
  });

  it('never holds what a no_log task printed', () => {
    const events = parseEvents(sample('converge-first'));
    const joins = events.results.filter((r) => r.task.includes('join'));
    expect(joins.length).toBeGreaterThan(0);
    for (const r of joins) expect(Object.keys(r.result)).not.toContain('stdout');
    expect(sample('converge-first')).not.toMatch(/SWMTKN/);
    expect(sample('mixed')).not.toContain('not-for-the-logs');
  });
});

describe('summarize', () => {
  it('reports a first converge as one change per host, naming the task', () => {
    const summaries = summarize(parseEvents(sample('converge-first')), ORDER);
    expect(summaries.map((s) => [s.host, s.status, s.changes])).toEqual([
      ['manager-01', 'changed', ['task "swarm_leader : Initialise the swarm": changed']],
      ['manager-02', 'changed', ['task "swarm_manager : Join the swarm as a manager": changed']],
      ['manager-03', 'changed', ['task "swarm_manager : Join the swarm as a manager": changed']],
      ['worker-01', 'changed', ['task "swarm_worker : Join the swarm as a worker": changed']],
    ]);
  });

  it('reports the rerun as ok on every host', () => {
    const summaries = summarize(parseEvents(sample('converge-again')), ORDER);
    expect(summaries.map((s) => `${s.host} ${s.status} ${s.message ?? ''}`)).toEqual([
      'manager-01 ok 1 ok, 2 skipped',
      'manager-02 ok 1 ok, 3 skipped',
      'manager-03 ok 1 ok, 3 skipped',
      'worker-01 ok 1 ok, 2 skipped',
    ]);
  });

  it('tells failed, unreachable, changed with diffs and ignored failures apart', () => {
    const byHost = new Map(summarize(parseEvents(sample('mixed')), ORDER).map((s) => [s.host, s]));
    // Hosts in the given order first, then the others.
    expect([...byHost.keys()]).toEqual([...ORDER, 'gone-01']);
    // An ignored failure is not a failure.
    expect(byHost.get('manager-01')).toMatchObject({ status: 'ok', message: '3 ok, 4 skipped' });
    expect(byHost.get('manager-02')).toMatchObject({
      status: 'changed',
      changes: ['task "Make a directory": changed (/run/swarm-molecule-dir state: absent → directory)'],
    });
    // A failed task wins over the changes before it; the message says which task and why.
    expect(byHost.get('manager-03')).toMatchObject({
      status: 'failed',
      unreachable: false,
      message: 'task "Fail on manager-03" failed: "ls /nonexistent-swarm-molecule" exited 2: ls: cannot access \'/nonexistent-swarm-molecule\': No such file or directory',
    });
    expect(byHost.get('worker-01')?.changes).toEqual([
      'task "Stamp the run time": changed (/run/swarm-molecule-stamp: "2026-11-25 13:38:28.323740" → "2026-11-25 13:38:47.753971")',
    ]);
    expect(byHost.get('gone-01')).toMatchObject({ status: 'failed', unreachable: true });
    expect(byHost.get('gone-01')?.message).toMatch(/^unreachable at task "Read the hostname": Data could not be sent to remote host "10\.213\.250\.99"/);
  });

  it('says why fact gathering failed: the nested module\'s stderr, not only "modules failed to execute"', () => {
    const [summary] = summarize(parseEvents(sample('no-python')), ['manager-01']);
    expect(summary).toMatchObject({ host: 'manager-01', status: 'failed' });
    expect(summary?.message).toBe(
      'task "Gathering Facts" failed: ansible.legacy.setup: The module failed to execute correctly, you probably need to set the interpreter. | See stdout/stderr for the exact error: /bin/sh: 1: /usr/bin/python: not found',
    );
  });

  it('falls back on the results when the recap is missing', () => {
    const { results } = parseEvents(sample('mixed'));
    const [summary] = summarize({ results: results.filter((r) => r.host === 'manager-03'), stats: undefined });
    expect(summary?.status).toBe('failed');
  });
});

describe('recapOf', () => {
  it('gives Ansible\'s own PLAY RECAP counts of each host', () => {
    const events = parseEvents(sample('mixed'));
    expect(recapOf(events, 'manager-01')).toEqual({ ok: 4, changed: 0, unreachable: 0, failed: 0, skipped: 4, rescued: 0, ignored: 1, fromRecap: true });
    expect(recapOf(events, 'manager-03')).toEqual({ ok: 3, changed: 1, unreachable: 0, failed: 1, skipped: 3, rescued: 0, ignored: 0, fromRecap: true });
    expect(recapOf(events, 'gone-01')).toEqual({ ok: 0, changed: 0, unreachable: 1, failed: 0, skipped: 0, rescued: 0, ignored: 0, fromRecap: true });
    expect(summarize(events, ORDER).find((s) => s.host === 'worker-01')?.counts).toEqual(recapOf(events, 'worker-01'));
  });

  it('without a recap (the run stopped), counts the task results as Ansible does', () => {
    // On the recorded runs the count from the results is Ansible's recap, host by host.
    for (const name of ['mixed', 'converge-first', 'converge-again', 'no-python']) {
      const events = parseEvents(sample(name));
      for (const host of Object.keys(events.stats ?? {})) {
        expect({ name, host, ...recapOf({ ...events, stats: undefined }, host) }).toEqual({ name, host, ...recapOf(events, host), fromRecap: false });
      }
    }
  });
});

describe('diffs and messages', () => {
  it('summarises a multi-line content diff by lines', () => {
    expect(diffSummary({ diff: [{ before: 'a\nb\nc\n', after: 'a\nB\nc\nd\n', before_header: '/etc/daemon.json' }] })).toBe('/etc/daemon.json: +2 -1 lines');
  });

  it('shows an empty before as (empty) and a prepared diff by its first line', () => {
    expect(diffSummary({ diff: { before: '', after: 'x\n', before_header: '/run/f' } })).toBe('/run/f: (empty) → "x"');
    // A new file: no before_header, and the after_header is Ansible's temporary copy.
    expect(diffSummary({ dest: '/run/stamp', diff: [{ before: '', after: 'x\n', after_header: '/root/.ansible/tmp/ansible-local-1/tmp2' }] })).toBe(
      '/run/stamp: (empty) → "x"',
    );
    expect(diffSummary({ diff: { prepared: 'The following NEW packages will be installed:\n  jq' } })).toBe('The following NEW packages will be installed: | jq');
  });

  it('collects the diffs of the changed items of a loop', () => {
    const result = {
      results: [
        { changed: true, diff: { before: { path: '/a', state: 'absent' }, after: { path: '/a', state: 'directory' } } },
        { changed: false, diff: { before: { path: '/b' }, after: { path: '/b' } } },
      ],
    };
    expect(diffSummary(result)).toBe('/a state: absent → directory');
  });

  it('names a task without a diff plainly', () => {
    expect(changeLine({ host: 'h', task: 'Bump', status: 'changed', ignored: false, action: 'command', path: '', result: { changed: true }, time: 0, durationMs: 0 })).toBe(
      'task "Bump": changed',
    );
  });

  it('explains failures of modules, loops, assertions and no_log tasks', () => {
    expect(failureOf({ msg: 'Assertion failed', assertion: 'swarm_nodes | length == 3' })).toBe('Assertion failed: swarm_nodes | length == 3');
    expect(failureOf({ msg: 'All items completed', results: [{ failed: false }, { failed: true, _ansible_item_label: 'b', msg: 'nope' }] })).toBe('item b: nope');
    expect(failureOf({ censored: 'hidden', changed: false })).toBe('(output hidden by no_log)');
    expect(failureOf({ msg: 'MODULE FAILURE', module_stderr: 'Traceback\n  boom' })).toBe('MODULE FAILURE: Traceback | boom');
    // A module nested in a multi-module action (gather_facts): its own message and output.
    expect(
      failureOf({
        msg: 'The following modules failed to execute: ansible.legacy.setup\n',
        failed_modules: { 'ansible.legacy.setup': { failed: true, module_stderr: '', module_stdout: 'Traceback\nImportError: no json', msg: 'MODULE FAILURE', rc: 1 } },
      }),
    ).toBe('ansible.legacy.setup: MODULE FAILURE: Traceback | ImportError: no json');
  });

  it('logs a task with its command, output and items', () => {
    const { results } = parseEvents(sample('mixed'));
    const loop = results.find((r) => r.host === 'manager-03' && r.task === 'Loop over items');
    expect(loop && logLines(loop, 'mixed.yml').slice(1)).toEqual(['All items completed', '- item a: ok a', '- item b: changed b']);
    const secret = results.find((r) => r.task === 'A secret');
    expect(secret && logLines(secret, 'mixed.yml')[1]).toBe('(output hidden by no_log)');
  });
});
