import { dirname } from 'node:path';
import type Docker from 'dockerode';
import type { DriverContext } from '../types.js';

/**
 * Labels on everything the docker driver makes (containers, volumes,
 * networks), kind's way: `destroy` and `sweep` find a run's objects on the
 * engine by them, with or without a state file.
 */
export const LABEL = {
  /** The project directory (the scenario's `.swarm-molecule/` is in it). */
  project: 'io.swarm-molecule.project',
  scenario: 'io.swarm-molecule.scenario',
  run: 'io.swarm-molecule.run',
  node: 'io.swarm-molecule.node',
} as const;

/** The labels of a scenario's objects; with a run id, of one run's. */
export function labelsOf(ctx: Pick<DriverContext, 'stateDir' | 'scenario'>, runId?: string): Record<string, string> {
  return {
    [LABEL.project]: dirname(dirname(ctx.stateDir)),
    [LABEL.scenario]: ctx.scenario.name,
    ...(runId === undefined ? {} : { [LABEL.run]: runId }),
  };
}

const filtersOf = (labels: Record<string, string>) => ({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });

/** Remove one object; one that is already gone (404, or 409: a container being removed by another call) is fine. */
async function removeIfThere(remove: () => Promise<unknown>, fine: number[] = [404]): Promise<void> {
  try {
    await remove();
  } catch (error) {
    if (!fine.includes((error as { statusCode?: number }).statusCode ?? 0)) throw error;
  }
}

/**
 * Remove every container, then volume, then network carrying all of `labels`
 * (containers first: they hold the others). Says what it removed, e.g.
 * `["3 container(s)", "3 volume(s)", "1 network(s)"]`; nothing for nothing.
 */
export async function removeLabelled(docker: Docker, labels: Record<string, string>): Promise<string[]> {
  const filters = filtersOf(labels);
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(containers.map((c) => removeIfThere(() => docker.getContainer(c.Id).remove({ force: true, v: true }), [404, 409])));
  const volumes = (await docker.listVolumes({ filters })).Volumes ?? [];
  await Promise.all(volumes.map((v) => removeIfThere(() => docker.getVolume(v.Name).remove())));
  const networks = await docker.listNetworks({ filters });
  for (const n of networks) await removeIfThere(() => docker.getNetwork(n.Id).remove());
  const counts: [number, string][] = [
    [containers.length, 'container(s)'],
    [volumes.length, 'volume(s)'],
    [networks.length, 'network(s)'],
  ];
  return counts.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}`);
}
