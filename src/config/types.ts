import type { Diagnostic } from '../errors.js';

/** The actions a sequence is made of, in the words of Molecule. */
export const ACTIONS = ['dependency', 'destroy', 'syntax', 'create', 'prepare', 'converge', 'idempotence', 'side_effect', 'lint', 'verify', 'cleanup'] as const;
export type Action = (typeof ACTIONS)[number];

/** Commands whose sequence a scenario may override. */
export const SEQUENCE_COMMANDS = ['test', 'create', 'converge', 'destroy', 'verify'] as const;
export type SequenceCommand = (typeof SEQUENCE_COMMANDS)[number];

/** 1-based line and column in the scenario file. */
export interface Position {
  line: number;
  col: number;
}

/** The scenario file as read, to point diagnostics at the right place. */
export interface ScenarioSource {
  file: string;
  text: string;
  /**
   * Position of the value at `path` (e.g. `['converge', 2, 'with', 'replicas']`);
   * the nearest existing ancestor when the path does not exist (a missing key).
   */
  positionOf(path: readonly PropertyKey[]): Position;
  /** Position of the key itself (for unknown or duplicate keys), else of the value. */
  keyPositionOf(path: readonly PropertyKey[]): Position;
  /** Keys given twice in one mapping (the last value wins): errors with code `yaml`. */
  readonly duplicateKeys: readonly Diagnostic[];
  /** A diagnostic for the value at `path`, with a code frame. */
  diagnostic(path: readonly PropertyKey[], init: Omit<Diagnostic, 'file' | 'line' | 'col' | 'frame'>): Diagnostic;
}

export interface PlatformConfig {
  /** A valid hostname: it becomes the node's hostname and its name in `docker node ls`. */
  name: string;
  /** Inventory groups, e.g. `swarm-leader`, `swarm-manager`, `swarm-worker`. */
  groups: string[];
  /** Swarm node labels applied by `swarm/labels`. */
  labels: Record<string, string>;
  /** existing driver: where the host is. */
  address?: string;
  port?: number;
  user?: string;
  identityFile?: string;
  /** vagrant driver: box (VM providers) or image (docker provider), memory in MiB, cpus. */
  box?: string;
  memory?: number;
  cpus?: number;
}

/** The step lists of a scenario, each run by the action of the same name. */
export const STEP_SECTIONS = ['prepare', 'converge', 'side_effect', 'verify', 'cleanup'] as const;
export type StepSection = (typeof STEP_SECTIONS)[number];

/** The kind of step a section takes: every list but verify changes the nodes. */
export function stepKindOf(section: StepSection): 'converge' | 'verify' {
  return section === 'verify' ? 'verify' : 'converge';
}

export interface StepConfig {
  /** The list the entry is in (`converge`, `verify`, `prepare`...), and its index there: for positions. */
  section: StepSection;
  index: number;
  /**
   * A built-in step (`swarm/init`), or the path of a TypeScript/JavaScript module
   * relative to the scenario directory (`./steps/motd.ts`). Absent for playbooks.
   */
  step?: string;
  /** An Ansible playbook path relative to the scenario directory. */
  playbook?: string;
  /** Display name; defaults to the step's own name. */
  name?: string;
  /** Group or platform name the step runs on; defaults to the step's own choice. */
  hosts?: string;
  /** The step's options. */
  with: Record<string, unknown>;
  /** Ansible only. */
  extraVars?: Record<string, unknown>;
  tags?: string[];
  limit?: string;
}

export interface DriverConfig {
  name: 'netns' | 'docker' | 'vagrant' | 'existing';
  options: Record<string, unknown>;
}

export interface DependencyConfig {
  /** The requirements file (ansible-galaxy), relative to the scenario directory; default requirements.yml when it exists. */
  requirements?: string;
}

export interface AnsibleConfig {
  /** Tags never run (ansible-playbook --skip-tags), beside molecule-notest. */
  skipTags: string[];
  /** More arguments for every ansible-playbook run (after those of the command line's "--"). */
  args: string[];
  /** Environment variables of every Ansible run. */
  env: Record<string, string>;
  /** Extra variables of every playbook run (an entry's own extraVars win). */
  extraVars: Record<string, unknown>;
  /** Inventory host_vars and group_vars, by host or group name. */
  hostVars: Record<string, Record<string, unknown>>;
  groupVars: Record<string, Record<string, unknown>>;
  /** The playbooks initialise the swarm (no swarm-leader needed); false: one is; absent: inferred from the entries. */
  initialisesSwarm?: boolean | undefined;
}

export type RuleSetting = 'off' | 'warning' | 'error';

export interface Scenario {
  /** Directory name under `scenarios/`. */
  name: string;
  /** Absolute path of the scenario directory. */
  dir: string;
  /** Absolute path of `scenario.yml`. */
  file: string;
  driver: DriverConfig;
  platforms: PlatformConfig[];
  converge: StepConfig[];
  verify: StepConfig[];
  /** Run once after create (Molecule's prepare): not judged by idempotence, not rerun on the same nodes. */
  prepare: StepConfig[];
  /** Images every node must have before the converge steps: references in this machine's Docker engine, or `.tar` archives relative to `dir`. */
  images?: string[];
  /** Molecule's side_effect: after idempotence, before verify (a fault to inject, an upgrade). */
  side_effect: StepConfig[];
  /** Molecule's cleanup: before destroy, whatever happened before. */
  cleanup: StepConfig[];
  /** Molecule's dependency: the Ansible roles and collections to install before syntax. */
  dependency: DependencyConfig;
  /** Settings of every ansible-playbook run of the scenario. */
  ansible: AnsibleConfig;
  /** Every command's sequence: the defaults with the scenario's overrides. */
  sequences: Record<SequenceCommand, Action[]>;
  lint: { rules: Record<string, RuleSetting>; dependencies?: RuleSetting };
  source: ScenarioSource;
}
