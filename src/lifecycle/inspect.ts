import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_SEQUENCES, loadScenario, type Scenario } from '../config/index.js';
import { driverFor, knownDrivers, type DriverContext } from '../drivers/index.js';
import { messageOf, UsageError } from '../errors.js';
import { SshConnection } from '../transport/index.js';
import { acquireLock } from './lock.js';
import { StateStore, stateDirOf, type State } from './state.js';

/**
 * A driver context for commands that work on what exists (`list`, `reset`):
 * the scenario as loaded, or, when its file is gone or broken, its name and
 * the state's driver with default options — enough to find and remove nodes.
 */
async function offlineContext(projectDir: string, name: string, driver: string): Promise<DriverContext> {
  let scenario: Scenario;
  try {
    scenario = await loadScenario(projectDir, name);
  } catch {
    const dir = join(projectDir, 'scenarios', name);
    scenario = {
      name,
      dir,
      file: join(dir, 'scenario.yml'),
      driver: { name: driver as Scenario['driver']['name'], options: {} },
      platforms: [],
      converge: [],
      verify: [],
      sequences: structuredClone(DEFAULT_SEQUENCES) as Scenario['sequences'],
      lint: { rules: {} },
      source: undefined as never,
    };
  }
  return { scenario, stateDir: stateDirOf(projectDir, name), signal: new AbortController().signal, log: () => undefined, record: async () => undefined };
}

/** `list`: each scenario's nodes with address and real state (not just what the state file says). */
export async function listNodes(projectDir: string, scenarios: string[]): Promise<string> {
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

/** `login`: an interactive shell on one node. */
export async function login(projectDir: string, scenario: string, nodeName: string): Promise<number> {
  const state = await new StateStore(projectDir, scenario).read();
  const node = state?.driverState?.nodes.find((n) => n.name === nodeName);
  if (!node) {
    const names = state?.driverState?.nodes.map((n) => n.name).join(', ');
    throw new UsageError(`Scenario "${scenario}" has no node named "${nodeName}".`, {
      hint: names ? `Its nodes: ${names}.` : `Create them first: "swarm-molecule create -s ${scenario}".`,
    });
  }
  const connection = new SshConnection(node, { timeoutMs: 15_000 });
  try {
    return await connection.shell();
  } finally {
    connection.close();
  }
}

/**
 * `reset`: destroy whatever the state file (however damaged) still lets us
 * find, then forget the scenario's state. Says what it could not remove.
 */
export async function reset(projectDir: string, scenario: string): Promise<string> {
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

/** `exec`: run one command on a node and pass its output and exit code through. */
export async function execOnNode(projectDir: string, scenario: string, nodeName: string, argv: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const state = await new StateStore(projectDir, scenario).read();
  const node = state?.driverState?.nodes.find((n) => n.name === nodeName);
  if (!node) {
    throw new UsageError(`Scenario "${scenario}" has no node named "${nodeName}".`, { hint: `See "swarm-molecule list -s ${scenario}".` });
  }
  const connection = new SshConnection(node, { timeoutMs: 15_000 });
  try {
    return await connection.run(argv, { timeoutMs: 3_600_000 });
  } finally {
    connection.close();
  }
}
