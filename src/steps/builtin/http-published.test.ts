import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { getFromHarness, hostModeProblem } from './http-published.js';

describe('hostModeProblem', () => {
  it('accepts a tcp port published in host mode, and says what is published otherwise', () => {
    expect(hostModeProblem([{ Protocol: 'tcp', TargetPort: 8080, PublishedPort: 18091, PublishMode: 'host' }], 18091)).toBeUndefined();
    expect(hostModeProblem([], 18091)).toBe('it does not publish port 18091 (published: none)');
    expect(hostModeProblem([{ Protocol: 'tcp', TargetPort: 8080, PublishedPort: 18091, PublishMode: 'ingress' }], 18091)).toBe(
      'it publishes port 18091 through the ingress routing mesh, not in host mode (published: 18091→8080/tcp (ingress))',
    );
    expect(hostModeProblem([{ Protocol: 'udp', TargetPort: 53, PublishedPort: 53, PublishMode: 'host' }], 53)).toBe('it publishes port 53 over udp, not tcp');
  });
});

describe('getFromHarness', () => {
  it('returns the status, the body and the time, or what kept the answer away', async () => {
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/' ? 200 : 404);
      res.end(`page ${req.url ?? ''}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const ok = await getFromHarness(`http://127.0.0.1:${port}/`, new AbortController().signal);
      expect(ok).toMatchObject({ status: 200, body: 'page /', exitCode: 0 });
      expect(ok.latencyMs).toBeGreaterThanOrEqual(0);
      expect(await getFromHarness(`http://127.0.0.1:${port}/x`, new AbortController().signal)).toMatchObject({ status: 404, body: 'page /x' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const refused = await getFromHarness(`http://127.0.0.1:${port}/`, new AbortController().signal);
    expect(refused.status).toBeUndefined();
    expect(refused.error).toBe('ECONNREFUSED');
  });
});
