import { rm } from 'node:fs/promises';
import { driverFor, knownDrivers } from '../drivers/index.js';
import { messageOf } from '../errors.js';
import { acquireLock } from '../lifecycle/lock.js';
import type { ScenarioName } from '../lifecycle/scenario-name.js';
import { StateStore, type State } from '../lifecycle/state.js';
import { offlineContext } from './offline-context.js';

/**
 * `reset`: destroy whatever the state file (however damaged) still lets us
 * find, then forget the scenario's state. Says what it could not remove.
 */
export async function reset(projectDir: string, scenario: ScenarioName): Promise<string> {
  const store = new StateStore(projectDir, scenario);
  const release = await acquireLock(store.dir, scenario);
  const lines: string[] = [];
  try {
    let state: State | undefined;
    try {
      state = await store.read();
    } catch (error) {
      lines.push(`${scenario}: the state file could not be read (${messageOf(error)}); forgetting it.`);
    }
    const ctx = await offlineContext(projectDir, scenario, state?.driver ?? 'netns');
    if (state?.driverState) {
      try {
        const driver = await driverFor(state.driver);
        await driver.destroy(ctx, state.driverState);
        lines.push(`${scenario}: destroyed ${state.driverState.nodes.length} node(s).`);
      } catch (error) {
        lines.push(`${scenario}: could not destroy everything: ${messageOf(error)}`);
      }
    }
    // Whatever the state file lost track of: every driver that can find its own leftovers looks.
    for (const name of knownDrivers()) {
      try {
        const driver = await driverFor(name);
        for (const line of (await driver.sweep?.(ctx)) ?? []) lines.push(`${scenario}: swept ${line}`);
      } catch (error) {
        lines.push(`${scenario}: the ${name} driver could not look for leftovers: ${messageOf(error)}`);
      }
    }
    await store.remove();
    await rm(`${store.dir}/logs`, { recursive: true, force: true });
    lines.push(`${scenario}: state forgotten.`);
  } finally {
    await release();
  }
  return `${lines.join('\n')}\n`;
}
