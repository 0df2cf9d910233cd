import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { z } from 'zod';
import { defineVerifyStep, type Host, type VerifyContext } from '../api.js';
import { AssertionFailed } from '../assert.js';
import { duration, durationMs } from './duration.js';
import { currentTasks, isRunning, serviceTasks, taskTable, type TaskRow } from './services.js';

const options = z.strictObject({
  /** The service as Swarm names it (STACK_SERVICE for a stack's service). */
  service: z.string().min(1),
  /** The volume's mount point in the container; default the service's only volume mount. */
  target: z.string().regex(/^\//, 'an absolute path in the container').optional(),
  /** restart: `service update --force` (Swarm may place the new task anywhere); move: keep the task off the node it ran on, then give the placement back. */
  force: z.enum(['restart', 'move']).default('move'),
  /** How long the new task may take to run. */
  timeout: duration().default('90s'),
});
type Options = z.output<typeof options>;

interface ServiceMount {
  Type?: string;
  Source?: string;
  Target?: string;
  VolumeOptions?: { DriverConfig?: { Name?: string } };
}

/** The volume mount the step works through: the one at `target`, or the service's only one. */
export function volumeMount(mounts: readonly ServiceMount[], target: string | undefined): { mount?: ServiceMount; problem?: string } {
  const volumes = mounts.filter((m) => m.Type === 'volume' && m.Source);
  const listed = mounts.map((m) => `${m.Type ?? '?'} ${m.Source ?? '(anonymous)'} → ${m.Target ?? '?'}`).join(', ') || 'none';
  if (target !== undefined) {
    const mount = volumes.find((m) => m.Target === target);
    return mount ? { mount } : { problem: `it mounts no named volume at ${target} (mounts: ${listed})` };
  }
  if (volumes.length === 1) return { mount: volumes[0] };
  return { problem: volumes.length === 0 ? `it mounts no named volume (mounts: ${listed})` : `it mounts ${volumes.length} volumes; say which with target (mounts: ${listed})` };
}

/** Where the marker was, after the task was replaced. */
export interface MarkerSeen {
  driver: string;
  writtenOn: string;
  /** The node of the new task. */
  nowOn: string;
  /** Whether the new task sees the marker through its volume. */
  inNewTask: boolean;
  /** Whether the volume on the node where it was written still holds it. */
  whereWritten: boolean;
}

/**
 * What the volume driver promises, against what was seen: a local volume keeps
 * the marker on the node where it was written (the new task sees it only there);
 * any other driver is taken as shared storage the marker follows the task with.
 */
export function volumeVerdict(seen: MarkerSeen): { problem?: string; note: string } {
  const moved = seen.nowOn !== seen.writtenOn;
  if (seen.driver === 'local') {
    if (!seen.whereWritten) return { problem: `the local volume on ${seen.writtenOn} lost the marker written there`, note: '' };
    if (!moved && !seen.inNewTask) return { problem: `the new task on ${seen.nowOn} (the same node) does not see the marker through the local volume`, note: '' };
    if (moved && seen.inNewTask) return { problem: `the new task on ${seen.nowOn} sees a marker written on ${seen.writtenOn} through a local volume, which is per node`, note: '' };
    return {
      note: moved
        ? `a local volume does not follow the task to another node: the task moved ${seen.writtenOn} → ${seen.nowOn} and starts with that node's own volume; the marker stayed on ${seen.writtenOn}, where it was written`
        : `the new task on ${seen.nowOn} sees the marker through the local volume`,
    };
  }
  if (!seen.inNewTask) return { problem: `the new task on ${seen.nowOn} does not see the marker written on ${seen.writtenOn} through the ${seen.driver} volume`, note: '' };
  return { note: `the marker written on ${seen.writtenOn} followed the task to ${seen.nowOn} (volume driver ${seen.driver})` };
}

async function containerOf(manager: Host, task: TaskRow): Promise<string> {
  return manager.docker(['inspect', '--format', '{{.Status.ContainerStatus.ContainerID}}', task.id], { readOnly: true });
}

/** The one running task after the change, not `old`. */
async function newTask(ctx: VerifyContext<Options>, manager: Host, old: TaskRow, avoid?: string): Promise<TaskRow> {
  const o = ctx.options;
  return ctx.eventually(
    async (observe) => {
      const tasks = currentTasks(await serviceTasks(manager, o.service));
      observe(taskTable(tasks));
      const fresh = tasks.find((t) => isRunning(t) && t.id !== old.id && (avoid === undefined || t.node !== avoid));
      if (!fresh) throw new AssertionFailed(`No new task of ${o.service} runs yet.`, { expected: `a task other than ${old.name} (${old.id.slice(0, 12)}) Running${avoid ? ` off ${avoid}` : ''}`, observed: taskTable(tasks) });
      return fresh;
    },
    { timeout: durationMs(o.timeout), interval: 1000, description: `a new task of ${o.service}` },
  );
}

export default defineVerifyStep<Options>({
  name: 'swarm/volume-survives',
  description:
    "Write a marker through a service's named volume (docker exec in a running task), replace the task (force: move keeps it off its node for a while; restart: service update --force), then check what the volume driver promises: a local volume keeps the marker on the node where it was written (the step says so when the task moved, and checks it there); another driver must show it to the new task. It removes the marker and gives back any placement it changed.",
  options,
  disruptive: true,
  async verify(ctx) {
    const o = ctx.options;
    const manager = ctx.leader();
    const mounts = JSON.parse((await manager.docker(['service', 'inspect', '--format', '{{json .Spec.TaskTemplate.ContainerSpec.Mounts}}', o.service], { readOnly: true })) || 'null') as ServiceMount[] | null;
    const { mount, problem } = volumeMount(mounts ?? [], o.target);
    if (!mount?.Source || !mount.Target) throw new AssertionFailed(`Service ${o.service} has no volume to check: ${problem ?? ''}.`, { expected: 'a named volume mount (type: volume)', observed: JSON.stringify(mounts), hint: 'Give the service a named volume (volumes: [data:/data] in compose), or name its mount point with target.' });
    const driver = mount.VolumeOptions?.DriverConfig?.Name ?? 'local';
    const volume = mount.Source;

    const before = await ctx.eventually(
      async (observe) => {
        const tasks = currentTasks(await serviceTasks(manager, o.service));
        observe(taskTable(tasks));
        const running = tasks.find(isRunning);
        if (!running) throw new AssertionFailed(`No task of ${o.service} runs.`, { expected: 'a Running task', observed: taskTable(tasks) });
        return running;
      },
      { timeout: durationMs(o.timeout), interval: 1000, description: `a running task of ${o.service}` },
    );
    const writtenOn = ctx.host(before.node);
    const marker = `swarm-molecule ${randomBytes(8).toString('hex')}`;
    const file = posix.join(mount.Target, `.swarm-molecule-volume-survives-${randomBytes(3).toString('hex')}`);
    // Shell builtins only (echo, read): the image may have nothing but a shell.
    const read = (host: Host, container: string) => host.run(['docker', 'exec', container, '/bin/sh', '-c', 'IFS= read -r line < "$1" && echo "$line"', 'sh', file], { readOnly: true });
    await writtenOn.docker(['exec', await containerOf(manager, before), '/bin/sh', '-c', 'echo "$1" > "$2"', 'sh', marker, file]);
    ctx.log(`wrote a marker to ${file} (volume ${volume}, driver ${driver}) in ${before.name} on ${writtenOn.name}`);

    const constraint = `node.hostname!=${writtenOn.name}`;
    let constrained = false;
    try {
      if (o.force === 'move') {
        await manager.docker(['service', 'update', '--detach', '--constraint-add', constraint, o.service], { timeoutMs: 60_000, signal: ctx.signal });
        constrained = true;
      } else {
        await manager.docker(['service', 'update', '--detach', '--force', o.service], { timeoutMs: 60_000, signal: ctx.signal });
      }
      const after = await newTask(ctx, manager, before, o.force === 'move' ? writtenOn.name : undefined);
      const nowOn = ctx.host(after.node);
      const inNewTask = (await read(nowOn, await containerOf(manager, after))).stdout.trim() === marker;
      // Where it was written, read the volume's own directory on that node (no task of the service may run there now).
      const mountpoint = await writtenOn.run(['docker', 'volume', 'inspect', '--format', '{{.Mountpoint}}', volume], { readOnly: true });
      const whereWritten =
        mountpoint.exitCode === 0 && (await writtenOn.run(['cat', posix.join(mountpoint.stdout.trim(), posix.basename(file))], { readOnly: true })).stdout.trim() === marker;
      const seen: MarkerSeen = { driver, writtenOn: writtenOn.name, nowOn: nowOn.name, inNewTask, whereWritten };
      const verdict = volumeVerdict(seen);
      if (verdict.problem) {
        throw new AssertionFailed(`Volume ${volume} of ${o.service}: ${verdict.problem}.`, {
          expected: driver === 'local' ? `the marker on ${writtenOn.name}'s local volume, and in the new task only if it runs there` : `the marker in the new task on ${nowOn.name}`,
          observed: `written in ${before.name} on ${writtenOn.name}; new task ${after.name} on ${nowOn.name}: ${inNewTask ? 'sees' : 'does not see'} it; ${writtenOn.name}'s volume: ${whereWritten ? 'has' : 'does not have'} it`,
        });
      }
      ctx.log(verdict.note);
    } finally {
      // Give back what was changed, also after a first Ctrl-C: the placement, then the marker.
      if (constrained) await manager.run(['docker', 'service', 'update', '--detach', '--constraint-rm', constraint, o.service], { timeoutMs: 60_000, signal: ctx.cleanupSignal });
      const mountpoint = await writtenOn.run(['docker', 'volume', 'inspect', '--format', '{{.Mountpoint}}', volume], { readOnly: true, signal: ctx.cleanupSignal });
      if (mountpoint.exitCode === 0) await writtenOn.run(['rm', '-f', posix.join(mountpoint.stdout.trim(), posix.basename(file))], { signal: ctx.cleanupSignal });
    }
  },
});
