import { messageOf } from '../../errors.js';
import type { Host, VerifyContext } from '../api.js';
import { AssertionFailed } from '../assert.js';
import { probeProblem, type ProbeAttempt } from './http-probe.js';
import { currentTasks, isRunning, serviceTasks, taskTable } from './services.js';

/** What to ask, from the harness, of every node that runs a task of `service`. */
export interface PublishedCheck {
  service: string;
  port: number;
  path: string;
  status: number;
  body?: RegExp;
  maxLatencyMs?: number;
  timeoutMs: number;
}

interface PortSpec {
  Protocol?: string;
  TargetPort?: number;
  PublishedPort?: number;
  PublishMode?: string;
}

/** Why the service does not publish `port` in host mode over TCP, or undefined when it does. */
export function hostModeProblem(ports: readonly PortSpec[], port: number): string | undefined {
  const match = ports.find((p) => p.PublishedPort === port);
  const listed = ports.map((p) => `${p.PublishedPort ?? '?'}→${p.TargetPort ?? '?'}/${p.Protocol ?? 'tcp'} (${p.PublishMode ?? 'ingress'})`).join(', ') || 'none';
  if (!match) return `it does not publish port ${port} (published: ${listed})`;
  if (match.PublishMode !== 'host') return `it publishes port ${port} through the ingress routing mesh, not in host mode (published: ${listed})`;
  if ((match.Protocol ?? 'tcp') !== 'tcp') return `it publishes port ${port} over ${match.Protocol ?? ''}, not tcp`;
  return undefined;
}

/** One GET from the harness: status, body and time from request to the whole body. */
export async function getFromHarness(url: string, signal: AbortSignal): Promise<ProbeAttempt & { error?: string }> {
  const started = performance.now();
  try {
    const response = await fetch(url, { headers: { connection: 'close' }, signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) });
    const body = await response.text();
    return { attempt: 0, exitCode: 0, status: response.status, latencyMs: Math.round(performance.now() - started), body };
  } catch (error) {
    // fetch hides the cause (ECONNREFUSED, a timeout) one level down.
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { attempt: 0, exitCode: 1, latencyMs: Math.round(performance.now() - started), body: '', error: cause?.code ?? cause?.message ?? messageOf(error) };
  }
}

/**
 * GET http://NODE:port/path from the harness on every node that runs a task of
 * the service (host mode: each such node answers on its own address), until
 * each answers with `status` or the timeout; then the status, body and latency
 * of each node's last answer are checked.
 */
export async function checkPublished(ctx: VerifyContext<unknown>, check: PublishedCheck): Promise<void> {
  const manager = ctx.leader();
  const inspect = await manager.run(['docker', 'service', 'inspect', '--format', '{{json .Endpoint.Ports}}', check.service], { readOnly: true });
  if (inspect.exitCode !== 0) {
    throw new AssertionFailed(`There is no service ${check.service} to ask on port ${check.port}.`, { expected: `a service ${check.service} publishing ${check.port} in host mode`, observed: inspect.stderr.trim(), hint: 'Name the service as Swarm does: STACK_SERVICE for a stack\'s service.' });
  }
  const problem = hostModeProblem((JSON.parse(inspect.stdout.trim() || 'null') as PortSpec[] | null) ?? [], check.port);
  if (problem) {
    throw new AssertionFailed(`Service ${check.service} cannot be asked from the harness on port ${check.port}: ${problem}.`, {
      expected: `ports: [{ target: …, published: ${check.port}, mode: host }]`,
      observed: inspect.stdout.trim(),
      hint: 'Publish the port with mode: host (the routing mesh needs IPVS, which test nodes may lack); swarm/published-port checks the mesh where there is one.',
    });
  }
  const want = { status: check.status, ...(check.body ? { body: check.body } : {}), ...(check.maxLatencyMs !== undefined ? { maxLatencyMs: check.maxLatencyMs } : {}) };
  const expected = `GET http://NODE:${check.port}${check.path} on every node running ${check.service}: status ${check.status}${check.body ? `, body matching /${check.body.source}/` : ''}${check.maxLatencyMs !== undefined ? `, within ${check.maxLatencyMs} ms` : ''}`;

  const nodes = await ctx.eventually(
    async (observe) => {
      const tasks = currentTasks(await serviceTasks(manager, check.service));
      observe(taskTable(tasks), `${tasks.filter(isRunning).length}/${tasks.length} tasks of ${check.service} running`);
      if (tasks.length === 0 || !tasks.every(isRunning)) throw new AssertionFailed(`Not every task of ${check.service} runs.`, { expected: 'every task Running', observed: taskTable(tasks) });
      return [...new Set(tasks.map((t) => t.node))].sort().map((name) => ctx.host(name));
    },
    { timeout: check.timeoutMs, interval: 1000, description: `the tasks of ${check.service} to run` },
  );

  const answers = new Map<string, (ProbeAttempt & { error?: string })[]>();
  const ask = async (node: Host) => {
    const url = `http://${node.address}:${check.port}${check.path}`;
    const attempts: (ProbeAttempt & { error?: string })[] = [];
    answers.set(node.name, attempts);
    try {
      await ctx.eventually(
        async (observe) => {
          const answer = { ...(await getFromHarness(url, ctx.signal)), attempt: attempts.length + 1 };
          attempts.push(answer);
          observe(`${node.name}: ${answer.status ?? answer.error ?? 'no answer'}`);
          if (answer.status !== check.status) throw new Error(`${url} answered ${answer.status ?? answer.error ?? 'nothing'}`);
        },
        { timeout: check.timeoutMs, interval: 1000, description: `${url} (${node.name}) to answer ${check.status}` },
      );
    } catch (error) {
      if (ctx.signal.aborted) throw error;
    }
  };
  await Promise.all(nodes.map(ask));

  const shown = [...answers]
    .map(([node, attempts]) => {
      const last = attempts.at(-1);
      return `${node} (${attempts.length} attempt(s)): ${last?.status ?? `no answer (${last?.error ?? '?'})`} in ${last?.latencyMs ?? 0} ms${last?.body ? `, ${JSON.stringify(last.body.trim().slice(0, 120))}` : ''}`;
    })
    .join('\n');
  const problems = [...answers].flatMap(([node, attempts]) => {
    const last = attempts.at(-1);
    const wrong = last ? probeProblem(last, want) : 'no answer';
    return wrong ? [`${node}: ${last?.status === undefined && last?.error ? `no answer (${last.error})` : wrong}`] : [];
  });
  if (problems.length > 0) throw new AssertionFailed(`GET http://NODE:${check.port}${check.path} from the harness: ${problems.join('; ')}.`, { expected, observed: shown });
  const latencies = [...answers.values()].map((a) => a.at(-1)?.latencyMs ?? 0);
  ctx.measure('latency', Math.max(...latencies));
  for (const [node, attempts] of answers) {
    const last = attempts.at(-1);
    ctx.log(`GET http://${ctx.host(node).address}:${check.port}${check.path} (${node}): ${last?.status ?? ''} in ${last?.latencyMs ?? 0} ms, body ${JSON.stringify((last?.body ?? '').trim().slice(0, 80))}`);
  }
}
