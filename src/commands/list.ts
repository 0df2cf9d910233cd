import { messageOf } from '../errors.js';
import type { ScenarioName } from '../lifecycle/scenario-name.js';
import { StateStore, type State } from '../lifecycle/state.js';

/** `list`: each scenario's nodes with address and real state (not just what the state file says). */
export async function listNodes(projectDir: string, scenarios: readonly ScenarioName[]): Promise<string> {
  const rows: string[][] = [['SCENARIO', 'NODE', 'ADDRESS', 'STATE', 'CONVERGED', 'DRIVER']];
  for (const name of scenarios) {
    let state: State | undefined;
    try {
      state = await new StateStore(projectDir, name).read();
    } catch (error) {
      rows.push([name, '-', '-', `unreadable state: ${messageOf(error)}`, '-', '-']);
      continue;
    }
    if (!state?.driverState || state.driverState.nodes.length === 0) {
      rows.push([name, '-', '-', 'not created', '-', state?.driver ?? '-']);
      continue;
    }
    // The driver and the scenario are loaded only for a scenario with nodes: list is often run on none.
    const { driverFor } = await import('../drivers/index.js');
    const { offlineContext } = await import('./offline-context.js');
    const driver = await driverFor(state.driver);
    const ctx = await offlineContext(projectDir, name, state.driver);
    const statuses = await driver.status(ctx, state.driverState);
    for (const node of state.driverState.nodes) {
      rows.push([name, node.name, `${node.host}:${node.port}`, statuses.get(node.name) ?? 'missing', state.converged ? 'yes' : 'no', state.driver]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return `${rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n')}\n`;
}
