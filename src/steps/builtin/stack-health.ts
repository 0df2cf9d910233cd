import { currentTasks, isRunning, type TaskRow } from './services.js';

/** How one service of a stack stands: the tasks it wants and those Running. */
export interface ServiceReadiness {
  service: string;
  /** Replicas of a replicated service; for a global one, the tasks Swarm wants running (one per eligible node). */
  desired: number;
  running: number;
  /** It declares a healthcheck: Swarm reports a task Running only once it is healthy. */
  healthcheck: boolean;
  /** Why it is not ready, in a few words; absent when it is. */
  problem?: string;
}

/** Whether a service spec declares a healthcheck that is not `NONE` (an image's own HEALTHCHECK is not in the spec). */
export function hasHealthcheck(spec: Record<string, unknown>): boolean {
  const container = (spec['TaskTemplate'] as { ContainerSpec?: { Healthcheck?: { Test?: string[] } } } | undefined)?.ContainerSpec;
  const test = container?.Healthcheck?.Test;
  return Array.isArray(test) && test.length > 0 && test[0] !== 'NONE';
}

/** Replicas a service spec asks for; undefined for a global service. */
export function desiredReplicas(spec: Record<string, unknown>): number | undefined {
  const mode = spec['Mode'] as { Replicated?: { Replicas?: number }; Global?: unknown } | undefined;
  return mode?.Replicated ? (mode.Replicated.Replicas ?? 1) : undefined;
}

/** Whether `service` runs what its spec wants: every wanted task Running (so healthy, where it has a healthcheck). */
export function readiness(service: string, spec: Record<string, unknown>, tasks: readonly TaskRow[]): ServiceReadiness {
  const current = currentTasks(tasks);
  const replicas = desiredReplicas(spec);
  const desired = replicas ?? current.length;
  const running = current.filter(isRunning);
  const healthcheck = hasHealthcheck(spec);
  const base = { service, desired, running: running.length, healthcheck };
  if (replicas === undefined && desired === 0) return { ...base, problem: 'global service with no task (no eligible node?)' };
  if (running.length === desired && current.length === desired) return base;
  const waiting = current.filter((t) => !isRunning(t)).map((t) => `${t.name} ${t.currentState}${t.error ? ` (${t.error})` : ''}`);
  return { ...base, problem: `${running.length}/${desired} Running${healthcheck ? ' and healthy' : ''}${waiting.length ? `: ${waiting.join('; ')}` : ''}` };
}

/** One line for the live line: `web 2/2, client 0/1`. */
export const readinessSummary = (all: readonly ServiceReadiness[]): string => all.map((r) => `${r.service} ${r.running}/${r.desired}`).join(', ');

/** The task errors of a service's history, most recent first, each once. */
export function lastErrors(tasks: readonly TaskRow[], limit = 3): string[] {
  return [...new Set(tasks.filter((t) => t.error !== '').map((t) => `${t.name} on ${t.node || '(no node)'}: ${t.error}`))].slice(0, limit);
}

/**
 * The task whose logs explain a failure: the newest one that failed or is not
 * Running (docker lists a slot's tasks newest first).
 */
export function failingTask(tasks: readonly TaskRow[]): TaskRow | undefined {
  return tasks.find((t) => t.state === 'Failed' || t.state === 'Rejected' || t.error !== '') ?? tasks.find((t) => t.desiredState === 'Running' && !isRunning(t));
}

/**
 * Running tasks that were not running at the start of the stable period, or
 * that stopped since: each a restart (or a move) Swarm made.
 */
export function restarts(first: ReadonlySet<string>, tasks: readonly TaskRow[]): string[] {
  const now = new Set(tasks.filter(isRunning).map((t) => t.id));
  const stopped = tasks.filter((t) => first.has(t.id) && !now.has(t.id)).map((t) => `${t.name} (${t.id.slice(0, 12)}) stopped: ${t.currentState}${t.error ? ` (${t.error})` : ''}`);
  const started = tasks.filter((t) => now.has(t.id) && !first.has(t.id)).map((t) => `${t.name} (${t.id.slice(0, 12)}) started on ${t.node}`);
  return [...stopped, ...started];
}
