import { changed, defineConvergeStep, ok } from 'swarm-molecule';

interface Options {
  /** Name of the attachable overlay network services will share. */
  network: string;
}

/**
 * An example of a custom converge step: make sure an attachable overlay
 * network exists. It reads the real state first and reports `ok` when there is
 * nothing to do, so the idempotence check passes.
 */
export default defineConvergeStep<Options>({
  name: 'overlay-network',
  description: 'Create an attachable overlay network on the swarm.',
  hosts: 'swarm-leader',
  async apply(ctx, host) {
    const { network } = ctx.options;
    const inspect = await host.run(['docker', 'network', 'inspect', network, '--format', '{{.Driver}}']);
    const existing = inspect.exitCode === 0 ? inspect.stdout.trim() : '';
    if (existing === 'overlay') return ok(`network ${network} exists`);
    if (existing !== '') throw new Error(`A ${existing} network named ${network} exists; remove it or pick another name.`);
    await host.docker(['network', 'create', '--driver', 'overlay', '--attachable', network]);
    return changed(`network ${network}: absent → overlay`);
  },
});
