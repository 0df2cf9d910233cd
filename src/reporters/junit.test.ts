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
    { action: 'verify', status: 'passed', durationMs: 200, verify: [{ name: 'swarm/node-roles', index: 0, status: 'passed', measurements: [], durationMs: 200 }] },
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
        { name: 'swarm/node-roles', index: 0, status: 'failed', message: 'w1 should be a worker', expected: 'w1: worker', observed: 'w1  Ready  Reachable', measurements: [], durationMs: 300 },
        { name: 'swarm/published-port', index: 1, status: 'skipped', message: 'no IPVS', measurements: [], durationMs: 0 },
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
    expect(attr(xml, 'testsuite', 'failures')).toEqual([0, 2]);
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
});
