import { z } from 'zod';
import type { Host } from '../api.js';
import { engineOrCli } from './engine.js';
import { STOP_GRACE } from './images.js';

/** One task of a service, from `docker service ps --format '{{json .}}'`. */
export interface TaskRow {
  id: string;
  /** `service.slot`, e.g. `sm-rolling-update.2`. */
  name: string;
  image: string;
  node: string;
  desiredState: string;
  /** The first word of CurrentState: `Running`, `Shutdown`, `Failed`, ... */
  state: string;
  /** CurrentState as docker shows it, e.g. `Running 3 seconds ago`. */
  currentState: string;
  error: string;
}

interface RawTask {
  ID: string;
  Name: string;
  Image: string;
  Node: string;
  DesiredState: string;
  CurrentState: string;
  Error: string;
}

/** Parse `docker service ps --no-trunc --format '{{json .}}'`. */
export function parseTasks(stdout: string): TaskRow[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const raw = JSON.parse(line) as RawTask;
      return {
        id: raw.ID,
        // History rows of a slot are shown as ` \_ name` by the table format, not by json; trim anyway.
        name: raw.Name.replace(/^[\s\\_]+/, ''),
        image: raw.Image,
        node: raw.Node,
        desiredState: raw.DesiredState,
        state: raw.CurrentState.split(' ')[0] ?? '',
        currentState: raw.CurrentState,
        // docker quotes the error: "\"task: non-zero exit (1)\"".
        error: raw.Error.replace(/^"(.*)"$/s, '$1'),
      };
    });
}

export async function serviceTasks(manager: Host, service: string): Promise<TaskRow[]> {
  return parseTasks(await manager.docker(['service', 'ps', '--no-trunc', '--format', '{{json .}}', service], { readOnly: true }));
}

/** A task whose container runs (whatever the manager wants next for it). */
export const isRunning = (task: TaskRow): boolean => task.state === 'Running';

/** Tasks the manager wants running (not the history of replaced or failed ones). */
export const currentTasks = (tasks: readonly TaskRow[]): TaskRow[] => tasks.filter((t) => t.desiredState === 'Running' || t.desiredState === 'Ready');

/** An image reference without the digest docker may add (`name:tag@sha256:...`). */
export const imageName = (image: string): string => image.split('@')[0] ?? image;

/** The task list as a small aligned table, for failure messages. */
export function taskTable(tasks: readonly TaskRow[]): string {
  if (tasks.length === 0) return '(no tasks)';
  const header = ['NAME', 'IMAGE', 'NODE', 'DESIRED', 'CURRENT', 'ERROR'];
  const sorted = [...tasks].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  const lines = [header, ...sorted.map((t) => [t.name, imageName(t.image), t.node, t.desiredState, t.currentState, t.error])];
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  return lines.map((l) => l.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

/**
 * The running tasks in one line, for the live line: `2/3 tasks of app:v2 running, 1 of app:v1`
 * against what is wanted, else by image.
 */
export function runningSummary(tasks: readonly TaskRow[], want?: { replicas: number; image: string }): string {
  const byImage = new Map<string, number>();
  for (const t of tasks.filter(isRunning)) byImage.set(imageName(t.image), (byImage.get(imageName(t.image)) ?? 0) + 1);
  const tasksOf = (n: number) => `${n} task${n === 1 ? '' : 's'}`;
  if (!want) return byImage.size === 0 ? 'no task running' : [...byImage].map(([image, n]) => `${tasksOf(n)} of ${image} running`).join(', ');
  const image = imageName(want.image);
  const others = [...byImage].filter(([i]) => i !== image).map(([i, n]) => `${n} of ${i}`);
  return `${byImage.get(image) ?? 0}/${want.replicas} tasks of ${image} running${others.length > 0 ? `, ${others.join(', ')}` : ''}`;
}

/** `UpdateStatus` of `docker service inspect`; null before the first update. */
export interface UpdateStatus {
  /** `updating`, `paused`, `completed`, `rollback_started`, `rollback_paused` or `rollback_completed`. */
  State?: string;
  StartedAt?: string;
  CompletedAt?: string;
  Message?: string;
}

const updateStatusSchema = z.looseObject({ State: z.string().optional(), StartedAt: z.string().optional(), CompletedAt: z.string().optional(), Message: z.string().optional() }).nullable();

/** A service's `UpdateStatus`, through the Engine API (`GET /services/{name}`), or `docker service inspect` where the socket is not forwarded. */
export async function updateStatus(manager: Host, service: string): Promise<UpdateStatus | null> {
  const { UpdateStatus } = await engineOrCli(manager, {
    engine: { label: `GET /services/${service}`, call: (docker) => docker.getService(service).inspect() },
    cli: async () => ({ UpdateStatus: JSON.parse(await manager.docker(['service', 'inspect', '--format', '{{json .UpdateStatus}}', service], { readOnly: true })) as unknown }),
    schema: z.looseObject({ UpdateStatus: updateStatusSchema.optional().transform((status) => status ?? null) }),
  });
  return UpdateStatus;
}

export const updateStatusText = (status: UpdateStatus | null): string =>
  status?.State ? `${status.State}${status.Message ? ` (${status.Message})` : ''}` : '(no update yet)';

/** Swarm's own duration of an update (StartedAt → CompletedAt), when it recorded both. */
export function updateDurationMs(status: UpdateStatus | null): number | undefined {
  if (!status?.StartedAt || !status.CompletedAt) return undefined;
  const ms = Date.parse(status.CompletedAt) - Date.parse(status.StartedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** The tasks of a service at one moment during an update. */
export interface TaskSample {
  /** Milliseconds since the update started. */
  atMs: number;
  tasks: TaskRow[];
}

export const runningCount = (sample: TaskSample): number => sample.tasks.filter(isRunning).length;

/**
 * The samples in which fewer than `minimum` tasks were running: a rolling
 * update with parallelism P may take at most P of R tasks down at once, so
 * at least R − P must run at every moment.
 */
export function availabilityViolations(samples: readonly TaskSample[], minimum: number): TaskSample[] {
  return samples.filter((sample) => runningCount(sample) < minimum);
}

/** The slot of a task: `sm-rolling-update.2` for every task, old or new, of replica 2. */
const slotOf = (task: TaskRow): string => task.name;

/**
 * The samples of a failing update (and its rollback) in which the update took
 * down more than `parallelism` of the slots the failing image never reached.
 *
 * Swarm moves on to the next slot once a new task is Running and the delay is
 * over; the monitor period catches the failure only later. So on a loaded
 * node, a task of the failing image that takes longer to crash lets the
 * update reach another slot before the rollback starts, and both slots are
 * down at once: each by the image under test, not by the update's
 * parallelism. Those slots are the failure being tested and are left out;
 * every other slot must keep a running task, but for `parallelism` of them.
 */
export function failedUpdateViolations(samples: readonly TaskSample[], o: { replicas: number; parallelism: number; failingImage: string }): TaskSample[] {
  return samples.filter((sample) => {
    const hit = new Set(sample.tasks.filter((t) => imageName(t.image) === imageName(o.failingImage)).map(slotOf));
    const running = sample.tasks.filter((t) => isRunning(t) && !hit.has(slotOf(t))).length;
    return running < Math.max(0, o.replicas - hit.size - o.parallelism);
  });
}

/** The slots a failing image reached by one sample, for reporting. */
export const slotsReachedBy = (sample: TaskSample, image: string): string[] =>
  [...new Set(sample.tasks.filter((t) => imageName(t.image) === imageName(image)).map(slotOf))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));

/** The sample with the fewest running tasks (the first of them), for reporting. */
export function fewestRunning(samples: readonly TaskSample[]): TaskSample | undefined {
  let worst: TaskSample | undefined;
  for (const sample of samples) if (!worst || runningCount(sample) < runningCount(worst)) worst = sample;
  return worst;
}

/** What a test service is: always our small web image, never pulled from a registry. */
export interface ServiceSpec {
  name: string;
  image: string;
  replicas: number;
  constraints: readonly string[];
  /** `--publish` values, e.g. `mode=host,target=8080,published=18080`. */
  publish?: readonly string[];
  /** The step that made it, as a label, to tell our services from the user's. */
  step: string;
}

/** `docker service create` arguments for a test service. */
export function createServiceArgs(spec: ServiceSpec): string[] {
  return [
    'service',
    'create',
    '--detach',
    // Nodes have no registry: do not ask one for the image's digest.
    '--no-resolve-image',
    '--name',
    spec.name,
    '--label',
    `io.swarm-molecule.step=${spec.step}`,
    '--replicas',
    String(spec.replicas),
    '--stop-grace-period',
    STOP_GRACE,
    ...spec.constraints.flatMap((constraint) => ['--constraint', constraint]),
    ...(spec.publish ?? []).flatMap((publish) => ['--publish', publish]),
    spec.image,
  ];
}

/** Remove a service if it exists (a leftover of an interrupted run, or ours when done). */
export async function removeService(manager: Host, name: string, signal?: AbortSignal): Promise<void> {
  const result = await manager.run(['docker', 'service', 'rm', name], signal ? { signal } : undefined);
  if (result.exitCode !== 0 && !/not found|no such service/i.test(result.stderr)) {
    throw new Error(`Could not remove service ${name} on ${manager.name}: ${result.stderr.trim()}`);
  }
}

/** Create a test service, first removing one left by an interrupted run. */
export async function createService(manager: Host, spec: ServiceSpec): Promise<void> {
  await removeService(manager, spec.name);
  await manager.docker(createServiceArgs(spec));
}

/** What `waitForTasks` waits for. */
export interface TaskExpectation {
  replicas: number;
  image: string;
  timeoutMs: number;
  /** Nodes no task may run on (stopped nodes). */
  avoid?: readonly string[];
  /** For the timeout message, e.g. "3 tasks of swarm-molecule/web:v1 running". */
  description?: string;
}

/** A problem with the current tasks, or `undefined` when they are as expected. */
export function taskProblem(tasks: readonly TaskRow[], want: Omit<TaskExpectation, 'timeoutMs' | 'description'>): string | undefined {
  const current = currentTasks(tasks);
  const avoid = new Set(want.avoid ?? []);
  const good = current.filter((t) => isRunning(t) && imageName(t.image) === imageName(want.image) && !avoid.has(t.node));
  if (good.length === want.replicas && current.length === want.replicas) return undefined;
  const bad = current.filter((t) => !good.includes(t));
  const why = bad.map((t) => {
    if (avoid.has(t.node)) return `${t.name} is on stopped node ${t.node}`;
    if (imageName(t.image) !== imageName(want.image)) return `${t.name} runs ${imageName(t.image)}`;
    return `${t.name} is ${t.currentState}${t.error ? ` (${t.error})` : ''}`;
  });
  return `${good.length} of ${want.replicas} tasks are Running ${imageName(want.image)}${current.length !== want.replicas ? ` (${current.length} tasks are wanted running)` : ''}${why.length ? `: ${why.join('; ')}` : ''}`;
}
