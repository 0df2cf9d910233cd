import type { PlatformConfig, Scenario } from '../config/index.js';
import type { SshTarget } from '../transport/index.js';

/** A node as the state file records it: how to reach it, and the driver's own facts. */
export interface NodeRecord<Data = Record<string, unknown>> extends SshTarget {
  /**
   * The node's own address on the node network, as its peers reach it (Swarm's
   * advertise address); default `host`. They differ where the harness reaches
   * sshd through a published port (the docker driver on a remote engine).
   */
  address?: string;
  /** Driver-specific facts needed to stop, start and destroy the node (see `defineDriver`). */
  data: Data;
}

/** What a driver made, as the state file keeps it; saved after every change. */
export interface DriverState {
  nodes: NodeRecord[];
  /** Driver-wide facts (e.g. the bridge and subnet of the netns driver). */
  data: Record<string, unknown>;
}

export type NodeStatus = 'running' | 'stopped' | 'missing';

/**
 * What a driver can do beyond making nodes, for steps that need it (checked by
 * `syntax` against the scenario's driver):
 * - `partition`: cut the node network between two sets of nodes (`partition`, `heal`).
 */
export type DriverCapability = 'partition';

/** Two sets of node names that cannot reach each other while a partition is in place. */
export type PartitionSides = readonly [readonly string[], readonly string[]];

/** Something this machine lacks for the driver, and the command that fixes it. */
export interface SanityProblem {
  problem: string;
  fix: string;
}

export interface DriverContext {
  scenario: Scenario;
  /** `.swarm-molecule/<scenario>/`: the driver may keep files here. */
  stateDir: string;
  signal: AbortSignal;
  /** A progress line, shown prefixed by the node name when one is given. */
  log(line: string, node?: string): void;
  /**
   * Persist what exists so far. A driver calls it before and after making each
   * resource, so that an interrupted `create` can still be destroyed.
   */
  record(state: DriverState): Promise<void>;
}

/**
 * Creates and destroys nodes. Everything after `create` reaches the nodes through
 * SSH, whatever the driver, so steps never depend on the driver.
 */
export interface Driver {
  readonly name: string;
  /** What this machine lacks to run the driver; empty when all is there. */
  sanityCheck(ctx: DriverContext): Promise<SanityProblem[]>;
  /**
   * Bring up every platform that is not running yet (reusing those that are)
   * and wait until each answers SSH and Docker.
   */
  create(ctx: DriverContext, platforms: PlatformConfig[], previous: DriverState | undefined): Promise<DriverState>;
  /** Remove everything in `state`, including what a failed create left half made. */
  destroy(ctx: DriverContext, state: DriverState): Promise<void>;
  /** What each recorded node really is now. */
  status(ctx: DriverContext, state: DriverState): Promise<Map<string, NodeStatus>>;
  /** Stop a node as a crash would (for failover checks); its disk is kept. */
  stop(ctx: DriverContext, state: DriverState, node: string): Promise<DriverState>;
  /** Start a stopped node again, with the disk it had, and wait until it answers. */
  start(ctx: DriverContext, state: DriverState, node: string): Promise<DriverState>;
  /**
   * Cut the network between the nodes of `sides[0]` and those of `sides[1]`:
   * every packet between them is dropped, both ways and whatever the protocol
   * (raft 2377, gossip 7946, VXLAN 4789), as a real partition drops them
   * (silence, not refusals). The harness still reaches every node. Replaces a
   * partition already in place. Recorded in the state before it is applied, so
   * that `destroy` removes it like any other resource. Present only on drivers
   * with the `partition` capability.
   */
  partition?(ctx: DriverContext, state: DriverState, sides: PartitionSides): Promise<DriverState>;
  /** Remove the partition in place, if any; the nodes reach each other again. */
  heal?(ctx: DriverContext, state: DriverState): Promise<DriverState>;
  /**
   * Find and remove everything this driver made for the scenario without
   * trusting the state file (it may be lost or damaged); say what was removed.
   */
  sweep?(ctx: DriverContext): Promise<string[]>;
}
