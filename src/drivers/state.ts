import { isScenarioName } from '../config/index.js';
import { basename, dirname, join } from 'node:path';
import type { z } from 'zod';
import type { PlatformConfig } from '../config/index.js';
import { UsageError } from '../errors.js';
import type { Driver, DriverContext, DriverState, NodeRecord, NodeStatus, PartitionSides, SanityProblem } from './types.js';

/**
 * A driver's own view of its state, parsed: `run` is what it made for the whole
 * run (undefined until it made something), each node's `data` its facts about
 * that node. Saved as the state file's `driverState` ({ nodes, data }).
 */
export interface RunState<Run, Node> {
  run: Run | undefined;
  nodes: NodeRecord<Node>[];
}

/** The context a typed driver gets: `record` takes its typed state. */
export interface TypedDriverContext<Run, Node> extends Omit<DriverContext, 'record'> {
  record(state: RunState<Run, Node>): Promise<void>;
}

/** A driver written against its own run and node types; `defineDriver` turns it into a `Driver`. */
export interface TypedDriver<Run, Node> {
  readonly name: string;
  sanityCheck(ctx: DriverContext): Promise<SanityProblem[]>;
  create(ctx: TypedDriverContext<Run, Node>, platforms: PlatformConfig[], previous: RunState<Run, Node> | undefined): Promise<RunState<Run, Node>>;
  destroy(ctx: TypedDriverContext<Run, Node>, state: RunState<Run, Node>): Promise<void>;
  status(ctx: TypedDriverContext<Run, Node>, state: RunState<Run, Node>): Promise<Map<string, NodeStatus>>;
  stop(ctx: TypedDriverContext<Run, Node>, state: RunState<Run, Node>, node: string): Promise<RunState<Run, Node>>;
  start(ctx: TypedDriverContext<Run, Node>, state: RunState<Run, Node>, node: string): Promise<RunState<Run, Node>>;
  sweep?(ctx: DriverContext): Promise<string[]>;
  partition?(ctx: TypedDriverContext<Run, Node>, state: RunState<Run, Node>, sides: PartitionSides): Promise<RunState<Run, Node>>;
  heal?(ctx: TypedDriverContext<Run, Node>, state: RunState<Run, Node>): Promise<RunState<Run, Node>>;
  /**
   * Check that the parsed state names only what this driver made for this
   * scenario (its data root, its names, its leases, its processes); throw a
   * `StateNotOurs` (see `refuse`) otherwise. Runs before every method that
   * gets the state, so nothing is acted on that the driver did not make.
   */
  verifyOwnership?(ctx: DriverContext, state: RunState<Run, Node>): Promise<void>;
}

/**
 * Make the state's nodes those of `platforms`: nodes no longer in the scenario
 * are handed to `remove` and dropped. Returns `save`, which puts a node's
 * record into the state (in platform order) and records it, as `create` does
 * before and after making each node.
 */
export async function keepPlatformNodes<Run, Node>(
  ctx: TypedDriverContext<Run, Node>,
  state: RunState<Run, Node>,
  platforms: readonly PlatformConfig[],
  remove: (node: NodeRecord<Node>) => Promise<void>,
): Promise<(record: NodeRecord<Node>) => Promise<void>> {
  const wanted = new Set(platforms.map((p) => p.name));
  for (const node of state.nodes.filter((n) => !wanted.has(n.name))) await remove(node);
  state.nodes = state.nodes.filter((n) => wanted.has(n.name));
  const order = (name: string) => platforms.findIndex((p) => p.name === name);
  return async (record) => {
    state.nodes = [...state.nodes.filter((n) => n.name !== record.name), record].sort((a, b) => order(a.name) - order(b.name));
    await ctx.record(state);
  };
}

/** The schemas of a driver's state: what its run data and each node's data must be. */
export interface DriverStateSchemas<Run extends Record<string, unknown>, Node extends Record<string, unknown>> {
  run: z.ZodType<Run>;
  node: z.ZodType<Node>;
}

type Issue = { path: PropertyKey[]; message: string };

function unreadable(ctx: DriverContext, driver: string, where: string, issue: Issue | undefined): UsageError {
  // The lifecycle keeps the state in `<stateDir>/state.json`.
  const file = join(ctx.stateDir, 'state.json');
  const at = [where, ...(issue?.path.map(String) ?? [])].join('.');
  return new UsageError(
    `The state file ${file} holds ${driver} driver data that this version of swarm-molecule cannot read (at "${at}": ${issue?.message ?? 'invalid'}); it may come from an older version.`,
    { hint: `Run "swarm-molecule reset -s ${ctx.scenario.name}" to remove what can still be found and start over.` },
  );
}

/** A state file that names something this scenario's driver did not make: it is refused, nothing is touched. */
export class StateNotOurs extends UsageError {}

/** Where a check of state ownership reports: the state file and the scenario (for the way out). */
export type OwnershipContext = Pick<DriverContext, 'stateDir' | 'scenario'>;

/**
 * Refuse a state file at `field` (e.g. `driverState.data.runDir`) because of
 * `reason`: the message names the file, the field and `reset`, which removes
 * only what it can prove is this scenario's.
 */
export function refuse(ctx: OwnershipContext, field: string, reason: string): never {
  const file = join(ctx.stateDir, 'state.json');
  throw new StateNotOurs(
    `The state file ${file} names something that swarm-molecule did not make for scenario "${ctx.scenario.name}" (at "${field}": ${reason}); nothing was touched.`,
    { hint: `If the file was edited or copied from elsewhere, run "swarm-molecule reset -s ${ctx.scenario.name}": it forgets the state and removes only what the scenario's own leases prove is its.` },
  );
}

/**
 * The state directory is `.swarm-molecule/<scenario>` of a scenario with a
 * plain name: a name like `../../other/.swarm-molecule/x` would make another
 * project's state and leases look like this scenario's.
 */
export function checkStateDir(ctx: OwnershipContext): void {
  const name = ctx.scenario.name;
  if (!isScenarioName(name)) refuse(ctx, 'scenario', `${JSON.stringify(name)} is not a scenario name`);
  if (basename(ctx.stateDir) !== name || basename(dirname(ctx.stateDir)) !== '.swarm-molecule') {
    refuse(ctx, 'scenario', `${ctx.stateDir} is not the state directory .swarm-molecule/${name}`);
  }
}

/** Refuse unless `actual` is exactly what the driver would have made. */
export function expectMade(ctx: OwnershipContext, field: string, actual: unknown, expected: unknown): void {
  if (actual !== expected) refuse(ctx, field, `${JSON.stringify(actual)} is not ${JSON.stringify(expected)}`);
}

/** Parse the state file's driver data; a mismatch is an error that names the file and the way out. */
export function parseDriverState<Run extends Record<string, unknown>, Node extends Record<string, unknown>>(
  driver: string,
  schemas: DriverStateSchemas<Run, Node>,
  ctx: DriverContext,
  state: DriverState,
): RunState<Run, Node> {
  let run: Run | undefined;
  // `{}` is a run that has not made anything yet (the state before the first record).
  if (Object.keys(state.data).length > 0) {
    const parsed = schemas.run.safeParse(state.data);
    if (!parsed.success) throw unreadable(ctx, driver, 'driverState.data', parsed.error.issues[0]);
    run = parsed.data;
  }
  const nodes = state.nodes.map((node, index): NodeRecord<Node> => {
    const parsed = schemas.node.safeParse(node.data);
    if (!parsed.success) throw unreadable(ctx, driver, `driverState.nodes.${index}.data`, parsed.error.issues[0]);
    return { ...node, data: parsed.data };
  });
  return { run, nodes };
}

export function serializeDriverState<Run extends Record<string, unknown>, Node extends Record<string, unknown>>(state: RunState<Run, Node>): DriverState {
  return { data: state.run ?? {}, nodes: state.nodes };
}

/**
 * The `Driver` the lifecycle calls, made from a typed one: driver data is
 * parsed with the driver's schemas on the way in and saved as plain JSON on
 * the way out, so a driver never casts what it reads back.
 */
export function defineDriver<Run extends Record<string, unknown>, Node extends Record<string, unknown>>(
  schemas: DriverStateSchemas<Run, Node>,
  typed: TypedDriver<Run, Node>,
): Driver {
  // No method gets state that is not parsed and proven to be the driver's own.
  const parse = async (ctx: DriverContext, state: DriverState) => {
    const parsed = parseDriverState(typed.name, schemas, ctx, state);
    checkStateDir(ctx);
    await typed.verifyOwnership?.(ctx, parsed);
    return parsed;
  };
  const typedContext = (ctx: DriverContext): TypedDriverContext<Run, Node> => ({
    ...ctx,
    record: (state) => ctx.record(serializeDriverState(state)),
  });
  const partition = typed.partition?.bind(typed);
  const heal = typed.heal?.bind(typed);
  return {
    name: typed.name,
    sanityCheck: (ctx) => typed.sanityCheck(ctx),
    create: async (ctx, platforms, previous) =>
      serializeDriverState(await typed.create(typedContext(ctx), platforms, previous ? await parse(ctx, previous) : undefined)),
    destroy: async (ctx, state) => typed.destroy(typedContext(ctx), await parse(ctx, state)),
    status: async (ctx, state) => typed.status(typedContext(ctx), await parse(ctx, state)),
    stop: async (ctx, state, node) => serializeDriverState(await typed.stop(typedContext(ctx), await parse(ctx, state), node)),
    start: async (ctx, state, node) => serializeDriverState(await typed.start(typedContext(ctx), await parse(ctx, state), node)),
    ...(partition ? { partition: async (ctx: DriverContext, state: DriverState, sides: PartitionSides) => serializeDriverState(await partition(typedContext(ctx), await parse(ctx, state), sides)) } : {}),
    ...(heal ? { heal: async (ctx: DriverContext, state: DriverState) => serializeDriverState(await heal(typedContext(ctx), await parse(ctx, state))) } : {}),
    ...(typed.sweep ? { sweep: (ctx: DriverContext) => typed.sweep?.(ctx) ?? Promise.resolve([]) } : {}),
  };
}
