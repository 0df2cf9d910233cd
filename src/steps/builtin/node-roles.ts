import { z } from 'zod';
import { defineVerifyStep, type Host, type StepContext } from '../api.js';
import { AssertionFailed } from '../assert.js';
import { isManager } from '../../config/roles.js';
import drainManagers from './drain-managers.js';
import { nodeListFromAny } from './managers.js';
import { nodeTable } from './node-list.js';

const hostsRef = z
  .union([z.string().min(1), z.array(z.string().min(1))])
  .meta({ description: 'A group or platform name, or a list of platform names.' });
const options = z.strictObject({
  managers: hostsRef.optional().meta({
    description: 'The nodes expected to be managers (a group, e.g. one your playbook uses, or platform names). Default: the swarm-leader and swarm-manager groups.',
  }),
  drained: hostsRef.optional().meta({
    description: 'The nodes expected at availability Drain. Default: the managers a swarm/drain-managers converge entry drains.',
  }),
});
type Options = z.output<typeof options>;

function hostsOf(ctx: StepContext<Options>, ref: string | string[]): Host[] {
  if (typeof ref === 'string') return ctx.group(ref);
  return ctx.hosts.filter((h) => ref.includes(h.name));
}

/**
 * Every platform is in the swarm, Ready, with the role and availability the
 * scenario gives it. Exactly one manager is Leader — after a failover that may
 * be another manager than the swarm-leader platform, which is still correct.
 */
export default defineVerifyStep<Options>({
  name: 'swarm/node-roles',
  description:
    'Every platform is in `docker node ls`, Ready, with its role (one Leader, other managers Reachable, workers not managers) and availability (managers Drain when converge drains them); with: managers and drained say so for a swarm a playbook builds.',
  options,
  // It only reads the node list.
  concurrent: true,
  requirements(scenario, o) {
    const names = (ref: string | string[] | undefined) => (ref === undefined ? [] : typeof ref === 'string' ? [ref] : ref);
    const known = new Set([...scenario.platforms.map((p) => p.name), ...scenario.platforms.flatMap((p) => p.groups), 'all']);
    return (['managers', 'drained'] as const).flatMap((key) =>
      names(o[key])
        .filter((name) => !known.has(name))
        .map((name) => ({ path: ['with', key], message: `No group or platform is named "${name}".`, hint: 'Name a group of the platforms, or platform names.' })),
    );
  },
  async verify(ctx) {
    const o = ctx.options;
    const managers = new Set((o.managers === undefined ? ctx.hosts.filter((h) => isManager(h)) : hostsOf(ctx, o.managers)).map((h) => h.name));
    // Managers that a swarm/drain-managers entry of the converge drains, unless the scenario says which.
    const drained = new Set(
      o.drained !== undefined
        ? hostsOf(ctx, o.drained).map((h) => h.name)
        : ctx.scenario.converge
            .filter((entry) => entry.step === drainManagers.name)
            .flatMap((entry) => (entry.hosts === undefined ? ctx.managers() : ctx.group(entry.hosts)))
            .map((host) => host.name),
    );
    const expectations = ctx.hosts.map((host) => {
      const manager = managers.has(host.name);
      // swarm/drain-managers drains managers only; a list given in "drained" is taken as it is.
      const drain = drained.has(host.name) && (o.drained !== undefined || manager);
      return { host: host.name, manager, availability: drain ? 'Drain' : 'Active' };
    });
    const expectedText = expectations
      .map((e) => `${e.host}: Ready, ${e.manager ? 'Leader or Reachable' : 'worker'}, ${e.availability}`)
      .join('\n');
    await ctx.eventually(
      async (observe) => {
        const rows = await nodeListFromAny(ctx.hosts.filter((h) => managers.has(h.name)));
        observe(nodeTable(rows));
        const problems: string[] = [];
        for (const e of expectations) {
          const row = rows.find((r) => r.Hostname === e.host);
          if (!row) {
            problems.push(`${e.host} is not in the swarm`);
            continue;
          }
          if (row.Status !== 'Ready') problems.push(`${e.host} is ${row.Status}, not Ready`);
          if (e.manager && !['Leader', 'Reachable'].includes(row.ManagerStatus)) {
            problems.push(`${e.host} should be a manager (Leader or Reachable) but is ${row.ManagerStatus || 'a worker'}`);
          }
          if (!e.manager && row.ManagerStatus !== '') problems.push(`${e.host} should be a worker but is a manager (${row.ManagerStatus})`);
          if (row.Availability !== e.availability) problems.push(`${e.host} availability is ${row.Availability}, not ${e.availability}`);
        }
        const leaders = rows.filter((r) => r.ManagerStatus === 'Leader');
        if (leaders.length !== 1) problems.push(`${leaders.length} nodes are Leader, not exactly 1`);
        const extra = rows.filter((r) => !expectations.some((e) => e.host === r.Hostname));
        for (const row of extra) problems.push(`${row.Hostname} is in the swarm but is not a platform of the scenario`);
        if (problems.length > 0) {
          throw new AssertionFailed(`Node roles are not as the scenario says: ${problems.join('; ')}.`, { expected: expectedText, observed: nodeTable(rows) });
        }
        ctx.log(`leader is ${leaders[0]?.Hostname ?? '?'}`);
      },
      { timeout: 30_000, interval: 500, description: 'every node to have its role' },
    );
  },
});
