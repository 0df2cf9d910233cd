import { z } from 'zod';
import { messageOf } from '../../errors.js';
import { defineVerifyStep, type Host } from '../api.js';
import { AssertionFailed } from '../assert.js';
import { duration, durationMs, elapsedSince, secondsText } from './duration.js';
import { bodyOf, ensureTestImages, TEST_IMAGES, WEB_PORT } from './images.js';
import { removingService, waitForTasks } from './service-checks.js';
import { createService } from './services.js';

const HOST_SERVICE = 'sm-published-port';
const MESH_SERVICE = 'sm-ingress-mesh';
const IPVS = '/proc/net/ip_vs';

const port = z.number().int().min(1).max(65535);
const options = z.strictObject({
  /** The port published in mode=host on each node that runs a task. */
  port: port.default(18080),
  /** Tasks of the service (mode=host allows one per node). */
  replicas: z.number().int().min(1).default(2),
  /** Placement constraints of the services. */
  constraints: z.array(z.string().min(1)).default(['node.role==worker']),
  /** The port published through the ingress routing mesh, where the nodes have IPVS. */
  ingressPort: port.default(18081),
  /** How long the tasks may take to run and answer. */
  timeout: duration().default('60s'),
});
type Options = z.output<typeof options>;

/** GET http://address:port/ from the harness, with a short timeout; the body, trimmed. */
async function httpGet(address: string, portNumber: number, signal: AbortSignal): Promise<string> {
  const response = await fetch(`http://${address}:${portNumber}/`, {
    headers: { connection: 'close' },
    signal: AbortSignal.any([signal, AbortSignal.timeout(2000)]),
  });
  const body = (await response.text()).trim();
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${body.slice(0, 200)}`);
  return body;
}

/** What an HTTP request failed with, in a few words (fetch hides the cause). */
const failureOf = (error: unknown): string => {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? messageOf(error);
};

export default defineVerifyStep<Options>({
  name: 'swarm/published-port',
  description:
    'Publish a service port in mode=host and check that every node running a task answers on it with the expected page (an HTTP GET from the harness); check the ingress routing mesh (a node without a task answers) where the nodes have IPVS, and say so where they have not.',
  options,
  requirements(_scenario, o) {
    return o.port === o.ingressPort ? [{ path: ['with', 'ingressPort'], message: `ingressPort must differ from port (both are ${o.port}).` }] : [];
  },
  async verify(ctx) {
    const o = ctx.options;
    const timeoutMs = durationMs(o.timeout);
    const manager = ctx.leader();
    await ensureTestImages(ctx, ['v1']);
    const expected = bodyOf('v1');

    const answers = async (host: Host, portNumber: number, what: string) =>
      ctx.eventually(
        async (observe) => {
          try {
            const body = await httpGet(host.address, portNumber, ctx.signal);
            observe(body);
            if (body !== expected) throw new AssertionFailed(`${host.name}:${portNumber} answered with another page.`, { expected, observed: body });
          } catch (error) {
            if (error instanceof AssertionFailed) throw error;
            observe(`GET http://${host.address}:${portNumber}/ failed: ${failureOf(error)}`);
            throw new Error(`GET http://${host.address}:${portNumber}/ on ${host.name} failed: ${failureOf(error)}`, { cause: error });
          }
        },
        { timeout: timeoutMs, interval: 500, description: `${host.name} to answer on ${what}` },
      );

    await removingService(ctx, [manager], HOST_SERVICE, async () => {
      const started = performance.now();
      await createService(manager, {
        name: HOST_SERVICE,
        image: TEST_IMAGES.v1,
        replicas: o.replicas,
        constraints: o.constraints,
        publish: [`mode=host,target=${WEB_PORT},published=${o.port}`],
        step: 'swarm/published-port',
      });
      const tasks = await waitForTasks(ctx, manager, HOST_SERVICE, { replicas: o.replicas, image: TEST_IMAGES.v1, timeoutMs });
      const nodes = [...new Set(tasks.map((t) => t.node))].sort().map((name) => ctx.host(name));
      await Promise.all(nodes.map((node) => answers(node, o.port, `port ${o.port} (mode=host)`)));
      ctx.measure('published port answering', elapsedSince(started));
      ctx.log(`mode=host: ${nodes.map((n) => `${n.name} (${n.address}:${o.port})`).join(', ')} answer "${expected}"`);
    });

    // The routing mesh needs IPVS in the kernel of the node that receives the request.
    const probes = await Promise.all(ctx.hosts.map(async (host) => ({ host, ipvs: (await host.run(['test', '-e', IPVS], { readOnly: true })).exitCode === 0 })));
    const withoutIpvs = probes.filter((p) => !p.ipvs).map((p) => p.host.name);
    if (withoutIpvs.length > 0) {
      const where = withoutIpvs.length === ctx.hosts.length ? 'on every node' : `on ${withoutIpvs.join(', ')}`;
      ctx.log(`ingress mesh: skipped, no IPVS in this kernel (${IPVS} missing ${where})`);
      return;
    }
    await removingService(ctx, [manager], MESH_SERVICE, async () => {
      const started = performance.now();
      await createService(manager, {
        name: MESH_SERVICE,
        image: TEST_IMAGES.v1,
        replicas: 1,
        constraints: o.constraints,
        publish: [`published=${o.ingressPort},target=${WEB_PORT}`],
        step: 'swarm/published-port',
      });
      const [task] = await waitForTasks(ctx, manager, MESH_SERVICE, { replicas: 1, image: TEST_IMAGES.v1, timeoutMs });
      const elsewhere = ctx.hosts.filter((h) => h.name !== task?.node);
      const node = elsewhere[0];
      if (!node) {
        throw new AssertionFailed('The ingress mesh needs a node without a task to ask, and every node runs one.', { expected: 'a node without a task', observed: task?.node ?? '' });
      }
      await answers(node, o.ingressPort, `port ${o.ingressPort} (ingress mesh, task on ${task?.node ?? '?'})`);
      ctx.measure('ingress mesh answering', elapsedSince(started));
      ctx.log(`ingress mesh: ${node.name} (no task) answers on ${o.ingressPort}, task on ${task?.node ?? '?'} (${secondsText(performance.now() - started)})`);
    });
  },
});
