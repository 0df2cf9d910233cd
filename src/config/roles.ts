/** The inventory groups that give a platform its place in the swarm. */
export const LEADER_GROUP = 'swarm-leader';
export const MANAGER_GROUP = 'swarm-manager';
export const WORKER_GROUP = 'swarm-worker';

/** A platform (or host) is a manager when it is in swarm-leader or swarm-manager. */
export const isManager = (platform: { groups: readonly string[] }): boolean =>
  platform.groups.includes(LEADER_GROUP) || platform.groups.includes(MANAGER_GROUP);

/** A platform (or host) is a worker when it is in swarm-worker and in no manager group. */
export const isWorker = (platform: { groups: readonly string[] }): boolean => !isManager(platform) && platform.groups.includes(WORKER_GROUP);
