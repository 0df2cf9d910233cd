import { describe, expect, it } from 'vitest';
import { junitXml } from './junit.js';
import type { RunSummary } from './types.js';

const info = { scenario: 'default', command: 'test', driver: 'netns', actions: [] };

const passing: RunSummary = {
  info,
  status: 'passed',
  exitCode: 0,
  durationMs: 12_000,
  actions: [
    { action: 'create', status: 'passed', durationMs: 1500 },
    { action: 'verify', status: 'passed', durationMs: 200, verify: [{ name: 'swarm/node-roles', index: 0, status: 'passed', log: [], measurements: [], durationMs: 200 }] },
  ],
};

const failing: RunSummary = {
  info: { ...info, scenario: 'broken <&> "x"' },
  status: 'failed',
  exitCode: 1,
  durationMs: 5000,
  actions: [
    { action: 'create', status: 'failed', kind: 'error', durationMs: 100, message: 'Could not connect to w1 over SSH' },
    {
      action: 'verify',
      status: 'failed',
      kind: 'failure',
      durationMs: 300,
      message: 'Verify failed',
      verify: [
        { name: 'swarm/node-roles', index: 0, status: 'failed', message: 'w1 should be a worker', expected: 'w1: worker', observed: 'w1  Ready  Reachable', log: [], measurements: [], durationMs: 300 },
        { name: 'swarm/published-port', index: 1, status: 'skipped', message: 'no IPVS', log: [], measurements: [], durationMs: 0 },
      ],
    },
    { action: 'destroy', status: 'skipped', durationMs: 0, message: 'nodes kept for inspection (--destroy passing)' },
  ],
};

const attr = (xml: string, tag: string, name: string) => [...xml.matchAll(new RegExp(`<${tag} [^>]*${name}="(\\d+)"`, 'g'))].map((m) => Number(m[1]));

describe('junitXml', () => {
  it('has a testsuite per scenario and a testcase per action and per verify check, with matching counts', () => {
    const xml = junitXml([passing, failing]);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).toBe(true);
    expect(xml.match(/<testsuite /g)).toHaveLength(2);
    expect(xml.match(/<testcase /g)).toHaveLength(3 + 5);
    expect(attr(xml, 'testsuites', 'tests')).toEqual([8]);
    expect(attr(xml, 'testsuite', 'tests')).toEqual([3, 5]);
    // The failed check is counted once: the verify action that holds it is not a second failure.
    expect(attr(xml, 'testsuite', 'failures')).toEqual([0, 1]);
    expect(attr(xml, 'testsuite', 'errors')).toEqual([0, 1]);
    expect(attr(xml, 'testsuite', 'skipped')).toEqual([0, 2]);
    // Every element that opens closes.
    for (const tag of ['testsuites', 'testsuite', 'failure', 'error']) {
      const opens = xml.match(new RegExp(`<${tag}[ >]`, 'g'))?.length ?? 0;
      const selfClosed = xml.match(new RegExp(`<${tag} [^>]*/>`, 'g'))?.length ?? 0;
      expect(xml.match(new RegExp(`</${tag}>`, 'g'))?.length ?? 0).toBe(opens - selfClosed);
    }
  });

  it('shows expected and observed in a failure, infra faults as errors, and reasons for skips', () => {
    const xml = junitXml([failing]);
    expect(xml).toContain('<error message="Could not connect to w1 over SSH" type="InfrastructureError"/>');
    expect(xml).toContain('expected:\nw1: worker\n\nobserved:\nw1  Ready  Reachable</failure>');
    expect(xml).toContain('<skipped message="no IPVS"/>');
    expect(xml).toContain('name="broken &lt;&amp;&gt; &quot;x&quot;"');
  });

  it('names the two destroys of test apart, stamps each suite with its start and host, and gives converge hosts cases', () => {
    const run: RunSummary = {
      info,
      status: 'failed',
      exitCode: 1,
      durationMs: 9000,
      startedAt: '2026-11-26T01:02:03.456Z',
      actions: [
        { action: 'destroy', status: 'passed', durationMs: 10 },
        {
          action: 'converge',
          status: 'failed',
          kind: 'error',
          durationMs: 500,
          message: 'Converge step "mine" threw an error',
          converge: [
            {
              name: 'mine',
              index: 0,
              log: [{ message: 'hello', host: 'm1' }],
              durationMs: 500,
              hosts: [
                { host: 'm1', status: 'changed', changes: ['x: a → b'], durationMs: 100 },
                {
                  host: 'w1',
                  status: 'failed',
                  changes: [],
                  message: "TypeError: Cannot read properties of undefined (reading 'name')",
                  error: { name: 'TypeError', message: "Cannot read properties of undefined (reading 'name')", stack: 'TypeError: x\n    at apply (/p/steps/mine.ts:5:14)', file: 'steps/mine.ts', line: 5, col: 14, frame: '> 5 | return a.x.name;' },
                  durationMs: 100,
                },
              ],
            },
          ],
        },
        { action: 'destroy', status: 'passed', durationMs: 10 },
      ],
    };
    const xml = junitXml([run], 'ci-runner-7');
    expect(xml).toContain('<testsuite name="default" timestamp="2026-11-26T01:02:03" hostname="ci-runner-7" tests="5" failures="0" errors="1" skipped="0"');
    expect(xml).toContain('name="destroy (before)"');
    expect(xml).toContain('name="destroy (after)"');
    expect(xml).toMatch(/<testcase classname="default.converge" name="mine on m1" time="0.100">\n {6}<system-out>x: a → b<\/system-out>/);
    expect(xml).toContain('<error message="TypeError: Cannot read properties of undefined (reading &apos;name&apos;)" type="TypeError">steps/mine.ts:5:14'.replace('&apos;', "'").replace('&apos;', "'"));
    expect(xml).toContain('at apply (/p/steps/mine.ts:5:14)</error>');
  });

  it('puts the file:line:col of each syntax problem in the failure body', () => {
    const run: RunSummary = {
      info,
      status: 'failed',
      exitCode: 2,
      durationMs: 100,
      actions: [
        {
          action: 'syntax',
          status: 'failed',
          kind: 'failure',
          durationMs: 5,
          message: 'Scenario "default" has 1 syntax error.',
          diagnostics: [{ file: 'scenarios/default/scenario.yml', line: 7, col: 5, severity: 'error', code: 'schema', message: 'Unknown key "hots".', hint: 'Did you mean "hosts"?' }],
        },
      ],
    };
    expect(junitXml([run])).toContain('Scenario &quot;default&quot; has 1 syntax error.\nscenarios/default/scenario.yml:7:5: error schema: Unknown key &quot;hots&quot;.\n  Did you mean &quot;hosts&quot;?</failure>');
  });

  it("says where each action's time went in its case's system-out", () => {
    const steps = { name: 'steps', durationMs: 920, spans: [{ name: 'swarm/init', startMs: 0, durationMs: 500 }, { name: 'swarm/join-workers', startMs: 450, durationMs: 470 }] };
    const timed: RunSummary = { ...passing, actions: [{ action: 'converge', status: 'passed', durationMs: 1320, phases: [{ name: 'start', durationMs: 400 }, steps] }] };
    expect(junitXml([timed])).toMatch(
      /<testcase classname="default\.action" name="converge" time="1\.320">\n {6}<system-out>time: start 0\.400 s, steps 0\.920 s \(swarm\/init 0\.00–0\.50 s; swarm\/join-workers 0\.45–0\.92 s\)<\/system-out>/,
    );
  });
});
