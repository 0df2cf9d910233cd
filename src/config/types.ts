import type { Diagnostic } from '../errors.js';

/** The actions a sequence is made of, in the words of Molecule. */
export const ACTIONS = ['destroy', 'syntax', 'create', 'converge', 'idempotence', 'lint', 'verify'] as const;
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

export interface StepConfig {
  /** `converge` or `verify`, and the index in that list: for positions. */
  section: 'converge' | 'verify';
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
  /** Every command's sequence: the defaults with the scenario's overrides. */
  sequences: Record<SequenceCommand, Action[]>;
  lint: { rules: Record<string, RuleSetting> };
  source: ScenarioSource;
}
