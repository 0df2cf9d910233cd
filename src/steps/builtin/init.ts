import { changed, defineConvergeStep, ok } from '../api.js';
import { engineOrCliWrite } from './engine.js';
import { gatherSwarmInfo, roleOf, settledSwarmInfo } from './swarm-info.js';

export default defineConvergeStep({
  name: 'swarm/init',
  description: 'Initialise the swarm on the swarm-leader host, advertising the node\'s own address.',
  hosts: 'swarm-leader',
  graph: { provides: ['member'] },
  gather: gatherSwarmInfo,
  async apply(ctx, host) {
    const info = await settledSwarmInfo(ctx, host);
    if (info.LocalNodeState === 'active' && info.ControlAvailable) return ok('already a manager of a swarm');
    if (info.LocalNodeState === 'active') {
      throw new Error(`${host.name} is a worker of an existing swarm; the swarm-leader host must be a manager. Run "docker swarm leave --force" on it, or recreate the node.`);
    }
    await engineOrCliWrite(
      host,
      { label: 'POST /swarm/init', call: (docker) => docker.swarmInit({ ListenAddr: `${host.address}:2377`, AdvertiseAddr: host.address }), timeoutMs: 90_000 },
      ['swarm', 'init', '--advertise-addr', host.address, '--listen-addr', `${host.address}:2377`],
    );
    return changed(`swarm: ${roleOf(info)} → manager (leader, ${host.address}:2377)`);
  },
});
