import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { Interrupted } from '../../errors.js';
import { defineVerifyStep } from '../api.js';
import { AssertionFailed } from '../assert.js';
import { duration, durationMs } from './duration.js';
import { checkPublished } from './http-published.js';
import { parseProbeLog, PROBE_SCRIPT, probeProblem } from './http-probe.js';
import { ensureTestImages, STOP_GRACE, TEST_IMAGES } from './images.js';
import { removingService } from './service-checks.js';
import { serviceTasks, taskTable } from './services.js';

const options = z.strictObject({
  /** In-cluster: what to GET, as a task on `network` sees it (a service name resolves there), e.g. http://web:8080/. */
  url: z.url({ protocol: /^http$/ }).optional(),
  /** In-cluster: the attachable overlay network the probe task joins (the stack's network). */
  network: z.string().min(1).optional(),
  /** From the harness: GET http://NODE:port/path on every node that runs a task of `service`, which publishes `port` in host mode. */
  published: z
    .strictObject({
      /** The service as Swarm names it (STACK_SERVICE for a stack's). */
      service: z.string().min(1),
      port: z.number().int().min(1).max(65535),
      path: z.string().regex(/^\//, 'starts with /').default('/'),
    })
    .optional(),
  /** The status the answer must have. */
  status: z.number().int().min(100).max(599).default(200),
  /** A regular expression the body must match. */
  body: z
    .string()
    .refine((text) => {
      try {
        new RegExp(text);
        return true;
      } catch {
        return false;
      }
    }, 'Expected a regular expression.')
    .optional(),
  /** Fail when the answer takes longer (measured in the task, 10 ms resolution). */
  maxLatency: duration().optional(),
  /** How long the probe keeps trying (one request a second) for the answer with `status`. */
  timeout: duration().default('30s'),
});
type Options = z.output<typeof options>;

export default defineVerifyStep<Options>({
  name: 'swarm/http',
  description:
    'GET a URL from inside the cluster, or (published) from the harness on every node that runs a task of a service publishing a port in host mode. Inside: a short-lived probe task (the test image\'s busybox wget) on the given network, so a service name resolves and nothing needs publishing or IPVS; retries once a second until the answer has `status` or `timeout`, then checks the status, that the body matches `body`, and the latency against `maxLatency`; the probe service is always removed.',
  options,
  // Its probe is a service of its own (a random name), or a GET from the harness.
  concurrent: true,
  requirements(_scenario, o) {
    if (o.published && (o.url !== undefined || o.network !== undefined)) {
      return [{ path: ['with', 'published'], message: 'swarm/http asks either from inside the cluster (url and network) or from the harness (published), not both.', hint: 'Split it into two entries.' }];
    }
    if (o.published) return [];
    if (o.url === undefined || o.network === undefined) {
      return [{ path: ['with'], message: `swarm/http needs ${o.url === undefined ? (o.network === undefined ? 'url and network' : 'url') : 'network'} (from inside the cluster), or published (from the harness).`, hint: 'Give url and network (a probe task on the stack\'s network), or published: { service, port } for a port published in host mode.' }];
    }
    return [];
  },
  async verify(ctx) {
    const o = ctx.options;
    if (o.published) {
      await checkPublished(ctx, {
        ...o.published,
        status: o.status,
        ...(o.body !== undefined ? { body: new RegExp(o.body) } : {}),
        ...(o.maxLatency !== undefined ? { maxLatencyMs: durationMs(o.maxLatency) } : {}),
        timeoutMs: durationMs(o.timeout),
      });
      return;
    }
    const url = o.url ?? '';
    const network = o.network ?? '';
    const manager = ctx.leader();
    await ensureTestImages(ctx, ['v1']);
    const service = `sm-http-probe-${randomBytes(3).toString('hex')}`;
    const timeoutMs = durationMs(o.timeout);
    const attempts = Math.max(1, Math.ceil(timeoutMs / 1000));
    const want = { status: o.status, ...(o.body !== undefined ? { body: new RegExp(o.body) } : {}), ...(o.maxLatency !== undefined ? { maxLatencyMs: durationMs(o.maxLatency) } : {}) };
    const expected = `GET ${url} from network ${network}: status ${o.status}${o.body !== undefined ? `, body matching /${o.body}/` : ''}${o.maxLatency !== undefined ? `, within ${o.maxLatency}` : ''}`;

    await removingService(ctx, [manager], service, async () => {
      await manager.docker([
        'service', 'create', '--detach', '--no-resolve-image', '--name', service,
        '--label', 'io.swarm-molecule.step=swarm/http',
        '--network', network, '--restart-condition', 'none', '--stop-grace-period', STOP_GRACE,
        '--env', `SM_URL=${url}`, '--env', `SM_STATUS=${o.status}`, '--env', `SM_ATTEMPTS=${attempts}`,
        TEST_IMAGES.v1, '/bin/busybox', 'sh', '-c', PROBE_SCRIPT,
      ]);
      // Wait for the probe task to end (its own retries bound it), then read what it printed.
      const deadline = performance.now() + timeoutMs * 2 + 60_000;
      ctx.waiting(`the probe of ${url}`, { timeout: deadline - performance.now() });
      let tasks = await serviceTasks(manager, service);
      while (!tasks.some((t) => ['Complete', 'Failed', 'Rejected'].includes(t.state))) {
        if (ctx.signal.aborted) throw new Interrupted(String(ctx.signal.reason ?? 'signal'));
        if (performance.now() > deadline) {
          throw new AssertionFailed(`The probe task of ${url} did not finish.`, { expected, observed: taskTable(tasks) });
        }
        await sleep(1000, undefined, { signal: ctx.signal }).catch(() => undefined);
        tasks = await serviceTasks(manager, service);
      }
      const logs = await manager.run(['docker', 'service', 'logs', '--raw', '--no-trunc', service], { readOnly: true, timeoutMs: 30_000 });
      const probe = parseProbeLog(logs.stdout);
      const last = probe.at(-1);
      if (!last) {
        throw new AssertionFailed(`The probe task of ${url} printed no answer.`, { expected, observed: `${taskTable(tasks)}\n\n${(logs.stdout + logs.stderr).trim() || '(no output)'}` });
      }
      const problem = probeProblem(last, want);
      const shown = probe.map((a) => `attempt ${a.attempt}: ${a.status ?? 'no answer'} in ${a.latencyMs} ms${a.body ? `, ${JSON.stringify(a.body.slice(0, 120))}` : ''}`).join('\n');
      if (problem) throw new AssertionFailed(`GET ${url} from network ${network}: ${problem} after ${probe.length} attempt(s).`, { expected, observed: shown });
      ctx.measure('latency', last.latencyMs);
      ctx.log(`GET ${url}: ${last.status ?? ''} in ${last.latencyMs} ms (attempt ${last.attempt}), body ${JSON.stringify(last.body.trim().slice(0, 80))}`);
    });
  },
});
