import type { StepGraph } from './api.js';

/**
 * The converge graph: each step entry on each host is a task, which starts as
 * soon as what it depends on has ended (Ansible's `strategy: free`, Terraform's
 * graph walk) instead of every step waiting for every host of the step before.
 * Planning is pure: which task waits for which. Running is `walk`.
 */

/** A step of the list, as the walk sees it. */
export interface WalkStep {
  /** Its hosts, in the order a serial step takes them; `undefined`: a batch step (a playbook), one task for all its hosts. */
  hosts: readonly string[] | undefined;
  /** Its declared place in the graph; `undefined`: a barrier. */
  graph: StepGraph | undefined;
  /** One host at a time, in order. */
  serial: boolean;
}

/** One step entry on one host (or a whole batch step, or a step with no hosts). */
export interface WalkTask {
  id: number;
  /** Index of the step in the list. */
  step: number;
  /** `undefined`: a batch step's one task, or the no-op task of a step with no hosts. */
  host: string | undefined;
  /** Tasks that must have ended without failing first. */
  needs: readonly number[];
  /** Tasks that must have ended first, whatever their outcome (the host before, in a serial step). */
  after: readonly number[];
}

/**
 * Which task waits for which. A barrier step (no `graph`, or a batch step)
 * waits for every task before it, and every later task waits for it. A graph
 * step's task on a host waits for the host's own tasks in the earlier graph
 * steps (since the last barrier) and, for each need, for the tasks that provide
 * it: `member` on that host, `swarm` on the leader. A need no earlier step
 * provides makes the task wait for every task before it (as a barrier does).
 */
export function planWalk(steps: readonly WalkStep[], leader: string | undefined): WalkTask[] {
  const tasks: WalkTask[] = [];
  const byStep: WalkTask[][] = [];
  let barrier = -1;
  const ids = (list: readonly WalkTask[]) => list.map((t) => t.id);
  for (const [index, step] of steps.entries()) {
    const everyEarlier = ids(byStep.flat());
    // Graph steps since the last barrier, with their tasks.
    const since = byStep.slice(barrier + 1).map((list, offset) => ({ step: steps[barrier + 1 + offset], list }));
    const afterBarrier = barrier >= 0 ? ids(byStep[barrier] ?? []) : [];
    const needsOn = (host: string, graph: StepGraph): number[] => {
      const needs = [...afterBarrier, ...ids(since.flatMap(({ list }) => list.filter((t) => t.host === host)))];
      for (const need of graph.needs ?? []) {
        const of = need === 'swarm' ? leader : host;
        const providers = since.flatMap(({ step: s, list }) => (s?.graph?.provides?.includes('member') ? list.filter((t) => t.host !== undefined && t.host === of) : []));
        if (providers.length === 0) return everyEarlier;
        needs.push(...ids(providers));
      }
      return needs;
    };
    const isBarrier = step.hosts === undefined || step.graph === undefined;
    const mine: WalkTask[] = [];
    const hosts: readonly (string | undefined)[] = step.hosts === undefined || step.hosts.length === 0 ? [undefined] : step.hosts;
    for (const host of hosts) {
      const needs = isBarrier || host === undefined || step.graph === undefined ? everyEarlier : needsOn(host, step.graph);
      const previous = mine.at(-1);
      const task: WalkTask = { id: tasks.length, step: index, host, needs: [...new Set(needs)], after: step.serial && previous ? [previous.id] : [] };
      tasks.push(task);
      mine.push(task);
    }
    byStep.push(mine);
    if (isBarrier) barrier = index;
  }
  return tasks;
}

/** Where a task stands; `not run`: a task it needs failed, or an earlier step failed before it could start. */
export type TaskState = 'pending' | 'running' | 'ok' | 'failed' | 'not run';

export interface WalkHooks {
  /** Run one task: `failed` when a host failed (the walk goes on); throw to stop the walk at once (an interrupt). */
  run(task: WalkTask): Promise<'ok' | 'failed'>;
  /** Every task of `step` has ended or will never run. */
  settled?(step: number): void;
}

/**
 * Run every task as soon as what it waits for has ended, all that may at
 * once. A failed task stops the tasks that need it, and no task of a step later
 * than a failed step starts (as a failed step stopped the list before); tasks
 * already running end, and tasks of the failed step and earlier ones that do
 * not need the failure still run. Resolves with every task's state once
 * nothing more can start and nothing runs; rejects at once when a task throws.
 */
export function walk(tasks: readonly WalkTask[], hooks: WalkHooks): Promise<Map<number, TaskState>> {
  const state = new Map<number, TaskState>(tasks.map((t) => [t.id, 'pending']));
  const steps = [...new Set(tasks.map((t) => t.step))];
  const settled = new Set<number>();
  const ended = (s: TaskState | undefined) => s === 'ok' || s === 'failed' || s === 'not run';
  let firstFailedStep = Infinity;
  let running = 0;
  let stopped = false;
  return new Promise((resolve, reject) => {
    const start = (task: WalkTask) => {
      state.set(task.id, 'running');
      running++;
      hooks.run(task).then(
        (end) => {
          running--;
          state.set(task.id, end);
          if (end === 'failed') firstFailedStep = Math.min(firstFailedStep, task.step);
          pump();
        },
        (error: unknown) => {
          stopped = true;
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    };
    const pump = () => {
      if (stopped) return;
      for (let changed = true; changed; ) {
        changed = false;
        for (const task of tasks) {
          if (state.get(task.id) !== 'pending') continue;
          const needs = task.needs.map((id) => state.get(id));
          if (task.step > firstFailedStep || needs.some((s) => s === 'failed' || s === 'not run')) {
            state.set(task.id, 'not run');
            changed = true;
          } else if (needs.every((s) => s === 'ok') && task.after.every((id) => ended(state.get(id)))) {
            start(task);
            if (stopped) return;
          }
        }
      }
      for (const step of steps) {
        if (settled.has(step) || !tasks.every((t) => t.step !== step || ended(state.get(t.id)))) continue;
        settled.add(step);
        hooks.settled?.(step);
      }
      if (running > 0) return;
      // Nothing runs and nothing could start: what is left waits for what never comes.
      for (const task of tasks) if (state.get(task.id) === 'pending') state.set(task.id, 'not run');
      for (const step of steps) if (!settled.has(step)) hooks.settled?.(step);
      resolve(state);
    };
    pump();
  });
}
