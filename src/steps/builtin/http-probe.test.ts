import { describe, expect, it } from 'vitest';
import { parseProbeLog, probeProblem } from './http-probe.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('parseProbeLog', () => {
  it('reads each attempt the probe printed, its body decoded, and ignores other lines', () => {
    const log = [`wget: can't connect to remote host`, `sm-probe attempt=1 rc=1 status=none ms=20 body=`, `sm-probe attempt=2 rc=0 status=200 ms=10 body=${b64('swarm-molecule web v1\n')}`].join('\n');
    expect(parseProbeLog(log)).toEqual([
      { attempt: 1, exitCode: 1, latencyMs: 20, body: '' },
      { attempt: 2, exitCode: 0, status: 200, latencyMs: 10, body: 'swarm-molecule web v1\n' },
    ]);
  });
});

describe('probeProblem', () => {
  const answer = { attempt: 1, exitCode: 0, status: 200, latencyMs: 30, body: 'swarm-molecule web v1' };
  it('holds when status, body and latency are as wanted', () => {
    expect(probeProblem(answer, { status: 200, body: /web v1/, maxLatencyMs: 100 })).toBeUndefined();
  });
  it('says what does not hold: no answer, another status, another body, too slow', () => {
    expect(probeProblem({ attempt: 1, exitCode: 1, latencyMs: 0, body: '' }, { status: 200 })).toBe('no answer (wget exit 1)');
    expect(probeProblem({ ...answer, status: 404 }, { status: 200 })).toBe('status 404, not 200');
    expect(probeProblem(answer, { status: 200, body: /v2/ })).toBe('the body does not match /v2/');
    expect(probeProblem(answer, { status: 200, maxLatencyMs: 10 })).toBe('answered in 30 ms, more than 10 ms');
  });
});
