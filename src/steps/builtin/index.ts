import type { StepDefinition } from '../api.js';

type StepKind = StepDefinition['kind'];

/**
 * A built-in step as the registry knows it before its module is loaded: the
 * name and kind that a reference is checked against, and how to load the rest.
 * Every command pays for what it imports; a scenario loads only the steps it names.
 */
export interface BuiltinStep {
  name: string;
  kind: StepKind;
  load(): Promise<StepDefinition>;
}

const builtin = (name: string, kind: StepKind, load: () => Promise<StepDefinition>): BuiltinStep => ({ name, kind, load });
const defaultOf = (m: { default: StepDefinition }) => m.default;

/** Every built-in step by the name scenarios use, in the order messages list them. */
export const builtinSteps: Readonly<Record<string, BuiltinStep>> = Object.fromEntries(
  [
    builtin('swarm/images', 'converge', () => import('./load-images.js').then(defaultOf)),
    builtin('swarm/init', 'converge', () => import('./init.js').then(defaultOf)),
    builtin('swarm/join-managers', 'converge', () => import('./join-managers.js').then(defaultOf)),
    builtin('swarm/join-workers', 'converge', () => import('./join-workers.js').then(defaultOf)),
    builtin('swarm/drain-managers', 'converge', () => import('./drain-managers.js').then(defaultOf)),
    builtin('swarm/labels', 'converge', () => import('./labels.js').then(defaultOf)),
    builtin('swarm/node-roles', 'verify', () => import('./node-roles.js').then(defaultOf)),
    builtin('swarm/rolling-update', 'verify', () => import('./rolling-update.js').then(defaultOf)),
    builtin('swarm/published-port', 'verify', () => import('./published-port.js').then(defaultOf)),
    builtin('swarm/failover-workers', 'verify', () => import('./failover-workers.js').then(defaultOf)),
    builtin('swarm/failover-leader', 'verify', () => import('./failover-leader.js').then(defaultOf)),
    builtin('swarm/network', 'converge', () => import('./network.js').then(defaultOf)),
    builtin('swarm/secret', 'converge', () => import('./swarm-data.js').then((m) => m.secretStep)),
    builtin('swarm/config', 'converge', () => import('./swarm-data.js').then((m) => m.configStep)),
    builtin('swarm/stack', 'converge', () => import('./stack.js').then(defaultOf)),
    builtin('swarm/stack-healthy', 'verify', () => import('./stack-healthy.js').then(defaultOf)),
    builtin('swarm/http', 'verify', () => import('./http.js').then(defaultOf)),
    builtin('swarm/volume-survives', 'verify', () => import('./volume-survives.js').then(defaultOf)),
    builtin('swarm/partition-minority', 'verify', () => import('./partition-minority.js').then(defaultOf)),
    builtin('swarm/quorum-loss', 'verify', () => import('./quorum-loss.js').then(defaultOf)),
    builtin('swarm/partition-worker', 'verify', () => import('./partition-worker.js').then(defaultOf)),
    builtin('swarm/measure-election', 'verify', () => import('./measure-election.js').then(defaultOf)),
  ].map((step) => [step.name, step]),
);

/** Every built-in step's definition, in the registry's order (loads them all: for the JSON Schema). */
export async function loadBuiltinSteps(): Promise<StepDefinition[]> {
  return await Promise.all(Object.values(builtinSteps).map((step) => step.load()));
}
