import { join } from 'node:path';
import type { z } from 'zod';
import type { PlatformConfig } from '../config/index.js';
import { UsageError } from '../errors.js';
import type { Driver, DriverContext, DriverState, NodeRecord, NodeStatus, SanityProblem } from './types.js';

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
  const parse = (ctx: DriverContext, state: DriverState) => parseDriverState(typed.name, schemas, ctx, state);
  const typedContext = (ctx: DriverContext): TypedDriverContext<Run, Node> => ({
    ...ctx,
    record: (state) => ctx.record(serializeDriverState(state)),
  });
  return {
    name: typed.name,
    sanityCheck: (ctx) => typed.sanityCheck(ctx),
    create: async (ctx, platforms, previous) =>
      serializeDriverState(await typed.create(typedContext(ctx), platforms, previous ? parse(ctx, previous) : undefined)),
    destroy: (ctx, state) => typed.destroy(typedContext(ctx), parse(ctx, state)),
    status: (ctx, state) => typed.status(typedContext(ctx), parse(ctx, state)),
    stop: async (ctx, state, node) => serializeDriverState(await typed.stop(typedContext(ctx), parse(ctx, state), node)),
    start: async (ctx, state, node) => serializeDriverState(await typed.start(typedContext(ctx), parse(ctx, state), node)),
    ...(typed.sweep ? { sweep: (ctx: DriverContext) => typed.sweep?.(ctx) ?? Promise.resolve([]) } : {}),
  };
}
