import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { PlatformConfig } from '../../config/index.js';
import { InfraError } from '../../errors.js';
import { defineDriver, type RunState, type TypedDriver, type TypedDriverContext } from '../state.js';
import type { Driver, DriverContext, NodeRecord, NodeStatus, SanityProblem } from '../types.js';

/** A node of the fake machine: it runs or not, and keeps a disk (path → content) across stops. */
export interface FakeNode {
  runId: string;
  name: string;
  host: string;
  running: boolean;
  disk: Map<string, string>;
}

/**
 * The in-memory "machine" the fake driver makes nodes on. Tests look at it
 * (and change it behind the driver's back) the way end-to-end tests look at
 * the real machine.
 */
export class FakeMachine {
  /** Runs by id, with the state directory of the scenario that made each. */
  readonly runs = new Map<string, { stateDir: string }>();
  /** Nodes by id (`<runId>/<name>`). */
  readonly nodes = new Map<string, FakeNode>();

  /** Everything on the machine that belongs to `runId`, by name. */
  objectsOf(runId: string): string[] {
    const nodes = [...this.nodes.entries()].filter(([, node]) => node.runId === runId).map(([id, node]) => `node ${id} (${node.running ? 'running' : 'stopped'})`);
    return [...(this.runs.has(runId) ? [`run ${runId}`] : []), ...nodes];
  }

  /** A node dies as in a crash, without the driver knowing. */
  crash(runId: string, name: string): void {
    const node = this.nodes.get(`${runId}/${name}`);
    if (node) node.running = false;
  }
}

const runSchema = z.object({ runId: z.string().regex(/^[0-9a-f]+$/) });
const nodeSchema = z.object({ id: z.string() });
type RunData = z.infer<typeof runSchema>;
type NodeData = z.infer<typeof nodeSchema>;
type State = RunState<RunData, NodeData>;
type Context = TypedDriverContext<RunData, NodeData>;
type Node = NodeRecord<NodeData>;

/**
 * A driver whose nodes live in a `FakeMachine`: what unit tests use instead of
 * real nodes. It keeps the driver contract (test/drivers/contract.ts) like
 * the real drivers do; its nodes answer no SSH.
 */
class FakeDriver implements TypedDriver<RunData, NodeData> {
  readonly name: string;

  constructor(readonly machine: FakeMachine, name: string) {
    this.name = name;
  }

  sanityCheck(): Promise<SanityProblem[]> {
    return Promise.resolve([]);
  }

  async create(ctx: Context, platforms: PlatformConfig[], previous: State | undefined): Promise<State> {
    let run = previous?.run;
    if (run && !this.machine.runs.has(run.runId)) {
      // The machine lost the run (a reboot): start clean, as the real drivers do.
      await this.destroy(ctx, { run, nodes: previous?.nodes ?? [] });
      run = undefined;
    }
    if (!run) {
      run = { runId: randomBytes(3).toString('hex') };
      this.machine.runs.set(run.runId, { stateDir: ctx.stateDir });
    }
    const runId = run.runId;
    const wanted = new Set(platforms.map((p) => p.name));
    for (const node of previous?.nodes.filter((n) => !wanted.has(n.name)) ?? []) this.machine.nodes.delete(node.data.id);
    const nodes = platforms.map((platform, index): Node => {
      const id = `${runId}/${platform.name}`;
      const node = this.machine.nodes.get(id) ?? { runId, name: platform.name, host: `10.99.0.${11 + index}`, running: true, disk: new Map<string, string>() };
      node.running = true;
      this.machine.nodes.set(id, node);
      return { name: platform.name, host: node.host, port: 22, user: 'root', identityFile: '/dev/null', data: { id } };
    });
    const state: State = { run, nodes };
    await ctx.record(state);
    for (const node of nodes) ctx.log('up', node.name);
    return state;
  }

  destroy(_ctx: Context, state: State): Promise<void> {
    for (const node of state.nodes) this.machine.nodes.delete(node.data.id);
    if (state.run) this.#removeRun(state.run.runId);
    return Promise.resolve();
  }

  #removeRun(runId: string): void {
    for (const [id, node] of this.machine.nodes) if (node.runId === runId) this.machine.nodes.delete(id);
    this.machine.runs.delete(runId);
  }

  status(_ctx: Context, state: State): Promise<Map<string, NodeStatus>> {
    return Promise.resolve(
      new Map(state.nodes.map((node): [string, NodeStatus] => {
        const onMachine = this.machine.nodes.get(node.data.id);
        return [node.name, onMachine ? (onMachine.running ? 'running' : 'stopped') : 'missing'];
      })),
    );
  }

  stop(_ctx: Context, state: State, name: string): Promise<State> {
    this.#onMachine(state, name).running = false;
    return Promise.resolve(state);
  }

  start(_ctx: Context, state: State, name: string): Promise<State> {
    this.#onMachine(state, name).running = true;
    return Promise.resolve(state);
  }

  #onMachine(state: State, name: string): FakeNode {
    const id = state.nodes.find((n) => n.name === name)?.data.id;
    const node = id === undefined ? undefined : this.machine.nodes.get(id);
    if (!node) throw new InfraError(`There is no node named ${name} in this scenario's state.`);
    return node;
  }

  sweep(ctx: DriverContext): Promise<string[]> {
    const runs = [...this.machine.runs].filter(([, run]) => run.stateDir === ctx.stateDir).map(([runId]) => runId);
    return Promise.resolve(
      runs.map((runId) => {
        const what = this.machine.objectsOf(runId).join(', ');
        this.#removeRun(runId);
        return `fake run ${runId}: ${what}`;
      }),
    );
  }
}

/**
 * The fake driver on `machine`. `name` is the driver name it answers to
 * (unit tests of the lifecycle give scenarios that name a real driver).
 */
export function fakeDriver(machine: FakeMachine = new FakeMachine(), name = 'fake'): Driver {
  return defineDriver({ run: runSchema, node: nodeSchema }, new FakeDriver(machine, name));
}
