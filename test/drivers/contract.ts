import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadScenario, type Scenario } from '../../src/config/index.js';
import type { Driver, DriverContext, DriverState, NodeRecord } from '../../src/drivers/index.js';
import { SshConnection } from '../../src/transport/index.js';

/**
 * What the contract needs to know of a driver beyond the `Driver` interface:
 * how to look at the machine and to change it behind the driver's back.
 */
export interface ContractSubject {
  driver: Driver;
  /** `driver.options` of the scenario the suite runs; its platforms are `contract-1` and `contract-2`. */
  options: Record<string, unknown>;
  /** Everything on the machine that belongs to the run in `state`, one line per object. */
  objectsOf(state: DriverState): Promise<string[]>;
  /** Kill a node as a crash would, without telling the driver. */
  crash(state: DriverState, node: string): Promise<void>;
  writeOnNode(state: DriverState, node: string, path: string, content: string): Promise<void>;
  /** The file's content, or undefined when it is not there. */
  readOnNode(state: DriverState, node: string, path: string): Promise<string | undefined>;
}

const PLATFORMS = ['contract-1', 'contract-2'];

/** A node of the state, by name. */
export function nodeOf(state: DriverState, name: string): NodeRecord {
  const found = state.nodes.find((n) => n.name === name);
  if (!found) throw new Error(`no node ${name} in the state`);
  return found;
}

async function onNode(state: DriverState, name: string, script: string, ...args: string[]): Promise<{ stdout: string; exitCode: number }> {
  const connection = new SshConnection(nodeOf(state, name), { timeoutMs: 30_000 });
  try {
    return await connection.run(['sh', '-c', script, 'sh', ...args], { timeoutMs: 30_000 });
  } finally {
    connection.close();
  }
}

// The node's disk as Docker sees it: the same on every driver, whatever the node's root filesystem.
const onDisk = '"$(docker info --format "{{.DockerRootDir}}")/$1"';

/** `writeOnNode` and `readOnNode` of a driver whose nodes answer SSH: a file on the node's Docker disk. */
export const onDockerDisk: Pick<ContractSubject, 'writeOnNode' | 'readOnNode'> = {
  writeOnNode: async (state, name, path, content) => {
    const result = await onNode(state, name, `printf %s "$2" > ${onDisk}`, path, content);
    if (result.exitCode !== 0) throw new Error(`could not write ${path} on ${name}`);
  },
  readOnNode: async (state, name, path) => {
    const result = await onNode(state, name, `cat ${onDisk}`, path);
    return result.exitCode === 0 ? result.stdout : undefined;
  },
};

/**
 * A scenario project with one scenario, loaded the way the CLI loads it, with
 * the subject's driver options (the driver itself is the subject's, whatever
 * the scenario names).
 */
async function contractScenario(options: Record<string, unknown>): Promise<Scenario> {
  const project = mkdtempSync(join(tmpdir(), 'sm-contract-'));
  const dir = join(project, 'scenarios', 'contract');
  mkdirSync(dir, { recursive: true });
  const platforms = PLATFORMS.map((name, i) => ({ name, groups: [i === 0 ? 'swarm-leader' : 'swarm-worker'] }));
  writeFileSync(join(dir, 'scenario.yml'), stringify({ platforms }));
  const scenario = await loadScenario(project, 'contract');
  return { ...scenario, driver: { ...scenario.driver, options } };
}

/**
 * The driver contract (Test Kitchen's driver base has one): what every
 * driver must do, checked against the machine rather than against its own
 * word. `makeSubject` is called once for the suite.
 */
export function driverContract(name: string, makeSubject: () => ContractSubject | Promise<ContractSubject>): void {
  describe(`the driver contract: ${name}`, () => {
    let subject: ContractSubject;
    let scenario: Scenario;
    let stateDir: string;
    const made: DriverState[] = [];

    /** A context whose `record` writes the state file, as the lifecycle does. */
    const context = (): DriverContext => ({
      scenario,
      stateDir,
      signal: new AbortController().signal,
      log: () => undefined,
      record: async (state) => {
        made.push(structuredClone(state));
        await writeFile(join(stateDir, 'state.json'), JSON.stringify(state));
      },
    });
    const create = async (previous?: DriverState) => {
      const state = await subject.driver.create(context(), scenario.platforms, previous);
      made.push(state);
      return state;
    };

    beforeAll(async () => {
      subject = await makeSubject();
      scenario = await contractScenario(subject.options);
      stateDir = join(scenario.dir, '..', '..', '.swarm-molecule', 'contract');
      mkdirSync(stateDir, { recursive: true });
    });
    afterAll(async () => {
      // Whatever failed, nothing of the suite stays on the machine.
      if (!scenario) return;
      for (const state of made.reverse()) await subject.driver.destroy(context(), state).catch(() => undefined);
      await subject.driver.sweep?.(context());
      if (scenario) rmSync(join(scenario.dir, '..', '..'), { recursive: true, force: true });
    });

    it('creates one set of nodes when create runs twice, and destroy twice is fine', async () => {
      const first = await create();
      expect(first.nodes.map((n) => n.name)).toEqual(PLATFORMS);
      const objects = await subject.objectsOf(first);
      expect(objects.length).toBeGreaterThan(0);
      const second = await create(first);
      expect(second.nodes.map((n) => [n.name, n.host])).toEqual(first.nodes.map((n) => [n.name, n.host]));
      expect(await subject.objectsOf(second)).toEqual(objects);
      expect(Object.fromEntries(await subject.driver.status(context(), second))).toEqual({ 'contract-1': 'running', 'contract-2': 'running' });
      await subject.driver.destroy(context(), second);
      expect(await subject.objectsOf(second)).toEqual([]);
      await subject.driver.destroy(context(), second);
      expect(Object.values(Object.fromEntries(await subject.driver.status(context(), second)))).not.toContain('running');
    });

    it('reports a node killed behind its back as not running', async () => {
      const state = await create();
      await subject.crash(state, 'contract-2');
      const statuses = await subject.driver.status(context(), state);
      expect(statuses.get('contract-1')).toBe('running');
      expect(statuses.get('contract-2')).not.toBe('running');
      // create brings it back: the same node, not a second one.
      const again = await create(state);
      expect(Object.fromEntries(await subject.driver.status(context(), again))).toEqual({ 'contract-1': 'running', 'contract-2': 'running' });
      expect(again.nodes.map((n) => n.host)).toEqual(state.nodes.map((n) => n.host));
      await subject.driver.destroy(context(), again);
      expect(await subject.objectsOf(again)).toEqual([]);
    });

    it('keeps a node\'s disk across stop and start', async () => {
      let state = await create();
      await subject.writeOnNode(state, 'contract-1', 'contract-marker', 'kept across stop and start');
      state = await subject.driver.stop(context(), state, 'contract-1');
      expect((await subject.driver.status(context(), state)).get('contract-1')).toBe('stopped');
      state = await subject.driver.start(context(), state, 'contract-1');
      expect((await subject.driver.status(context(), state)).get('contract-1')).toBe('running');
      expect(await subject.readOnNode(state, 'contract-1', 'contract-marker')).toBe('kept across stop and start');
      await subject.driver.destroy(context(), state);
      expect(await subject.objectsOf(state)).toEqual([]);
    });

    it('leaves nothing after a sweep when the state file is lost', async () => {
      const state = await create();
      expect(await subject.objectsOf(state)).not.toEqual([]);
      await rm(join(stateDir, 'state.json'));
      expect(typeof subject.driver.sweep, `the ${name} driver has no sweep`).toBe('function');
      const sweep = () => subject.driver.sweep?.(context()) ?? Promise.resolve([]);
      expect((await sweep()).length).toBeGreaterThan(0);
      expect(await subject.objectsOf(state)).toEqual([]);
      // A second sweep finds nothing left to remove.
      expect(await sweep()).toEqual([]);
    });
  });
}
