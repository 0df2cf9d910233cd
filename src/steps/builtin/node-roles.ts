import { defineVerifyStep } from '../api.js';
import { AssertionFailed } from '../assert.js';
import { isManager } from '../../config/roles.js';
import drainManagers from './drain-managers.js';
import { nodeListFromAny } from './managers.js';
import { nodeTable } from './node-list.js';

/**
 * Every platform is in the swarm, Ready, with the role and availability the
 * scenario gives it. Exactly one manager is Leader — after a failover that may
 * be another manager than the swarm-leader platform, which is still correct.
 */
export default defineVerifyStep({
  name: 'swarm/node-roles',
  description: 'Every platform is in `docker node ls`, Ready, with its role (one Leader, other managers Reachable, workers not managers) and availability (managers Drain when converge drains them).',
  async verify(ctx) {
    // Managers that a swarm/drain-managers entry of the converge drains.
    const drained = new Set(
      ctx.scenario.converge
        .filter((entry) => entry.step === drainManagers.name)
        .flatMap((entry) => (entry.hosts === undefined ? ctx.managers() : ctx.group(entry.hosts)))
        .map((host) => host.name),
    );
    const expectations = ctx.hosts.map((host) => {
      const manager = isManager(host);
      return { host: host.name, manager, availability: manager && drained.has(host.name) ? 'Drain' : 'Active' };
    });
    const expectedText = expectations
      .map((e) => `${e.host}: Ready, ${e.manager ? 'Leader or Reachable' : 'worker'}, ${e.availability}`)
      .join('\n');
    await ctx.eventually(
      async (observe) => {
        const rows = await nodeListFromAny(ctx.managers());
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
