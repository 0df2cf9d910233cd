import { issueDiagnostics } from '../config/issues.js';
import { diagnosticAt, sortDiagnostics } from '../config/positions.js';
import { LEADER_GROUP } from '../config/roles.js';
import { didYouMean } from '../config/suggest.js';
import type { ScenarioInvalid } from '../config/index.js';
import type { Scenario, ScenarioSource, StepConfig } from '../config/types.js';
import { capabilityOnRequest, driverCapabilities, driverOptionsSchema, driversWith } from '../drivers/index.js';
import { messageOf, type Diagnostic } from '../errors.js';
import { isModuleReference, resolveStep, resolveStepRef, StepLoadError } from '../steps/loader.js';
import type { LoadedStep } from '../steps/types.js';
import { stepEntries } from '../steps/ansible/tools.js';
import { typeCheckSteps } from './typecheck.js';

type Report = (path: readonly PropertyKey[], message: string, hint: string, at?: 'key' | 'value') => void;

function reporter(source: ScenarioSource, diagnostics: Diagnostic[]): Report {
  return (path, message, hint, at = 'value') => {
    const position = at === 'key' ? source.keyPositionOf(path) : source.positionOf(path);
    diagnostics.push(diagnosticAt(source, position, { severity: 'error', code: 'syntax', message, hint }));
  };
}

/** Exactly one platform initialises the swarm. */
function checkLeader(scenario: Scenario, report: Report): void {
  const leaders = scenario.platforms.flatMap((platform, i) => (platform.groups.includes(LEADER_GROUP) ? [i] : []));
  const [first, ...extra] = leaders;
  const declared = scenario.ansible.initialisesSwarm;
  const playbooks = stepEntries(scenario).filter((entry) => entry.playbook !== undefined && (entry.section === 'prepare' || entry.section === 'converge'));
  if (declared === true && playbooks.length === 0) {
    report(
      ['ansible', 'initialisesSwarm'],
      'ansible.initialisesSwarm says the playbooks initialise the swarm, but no prepare or converge entry is a playbook.',
      `Add the playbook that initialises it under converge, or remove initialisesSwarm and put one platform in ${LEADER_GROUP}.`,
    );
  }
  if (first === undefined) {
    // Declared: the scenario's playbooks build the swarm with groups of their own.
    if (declared === true) return;
    if (declared === false) {
      report(['ansible', 'initialisesSwarm'], `No platform is in group ${LEADER_GROUP}, and ansible.initialisesSwarm is false.`, `Add "${LEADER_GROUP}" to the groups of exactly one platform: it initialises the swarm.`, 'key');
      return;
    }
    // Plain hosts (no swarm group, no step), e.g. made for another scenario: no swarm to initialise.
    const swarmGroups = scenario.platforms.some((platform) => platform.groups.some((group) => group.startsWith('swarm-')));
    const entries = stepEntries(scenario);
    if (!swarmGroups && entries.length === 0) return;
    // Playbooks only (and swarm/node-roles told which nodes are managers): the playbook builds the swarm
    // (or none) with groups of its own, as a Molecule scenario does.
    const needsLeader = (entry: StepConfig) => entry.playbook === undefined && !(entry.step === 'swarm/node-roles' && entry.with.managers !== undefined);
    if (entries.length > 0 && !entries.some(needsLeader)) return;
    const orDeclare = playbooks.length > 0 ? '; or, when your playbook initialises the swarm, set "ansible: { initialisesSwarm: true }"' : '';
    report(['platforms'], `No platform is in group ${LEADER_GROUP}.`, `Add "${LEADER_GROUP}" to the groups of exactly one platform: it initialises the swarm${orDeclare}.`, 'key');
    return;
  }
  const firstName = scenario.platforms[first]?.name ?? '';
  for (const i of extra) {
    const platform = scenario.platforms[i];
    if (!platform) continue;
    report(
      ['platforms', i, 'groups', platform.groups.indexOf(LEADER_GROUP)],
      `${platform.name} is a second ${LEADER_GROUP} (the first is ${firstName}).`,
      `Keep ${LEADER_GROUP} on ${firstName} only; make ${platform.name} a swarm-manager.`,
    );
  }
}

function checkHosts(scenario: Scenario, entry: StepConfig, report: Report): void {
  if (entry.hosts === undefined || entry.hosts === 'all') return;
  const platforms = scenario.platforms.map((p) => p.name);
  const groups = [...new Set(scenario.platforms.flatMap((p) => p.groups))];
  if (platforms.includes(entry.hosts) || groups.includes(entry.hosts)) return;
  report(
    [entry.section, entry.index, 'hosts'],
    `No group or platform is named "${entry.hosts}".${didYouMean(entry.hosts, [...groups, ...platforms])}`,
    `Use "all", a group (${groups.join(', ') || 'none yet'}) or a platform (${platforms.join(', ')}).`,
  );
}

function checkOptions(source: ScenarioSource, entry: StepConfig, definition: LoadedStep, report: Report, diagnostics: Diagnostic[]): unknown {
  const base = [entry.section, entry.index, 'with'];
  if (!definition.options) {
    // A custom step without a schema takes its options as they are; a built-in without one takes none.
    if (entry.step !== undefined && isModuleReference(entry.step)) return entry.with;
    for (const key of Object.keys(entry.with)) {
      report([...base, key], `${definition.name} takes no options, but "with" sets "${key}".`, 'Remove it.', 'key');
    }
    return entry.with;
  }
  const parsed = definition.options.safeParse(entry.with);
  if (parsed.success) return parsed.data;
  diagnostics.push(
    ...issueDiagnostics(parsed.error.issues, { source, code: 'syntax', basePath: base, schema: definition.options, input: entry.with }),
  );
  return undefined;
}

/** A step that needs what the scenario's driver cannot do (partition the network) is refused before anything is made. */
function checkDriverCapabilities(scenario: Scenario, entry: StepConfig, definition: LoadedStep, report: Report): void {
  const has = driverCapabilities(scenario.driver.name, scenario.driver.options);
  for (const need of definition.needs ?? []) {
    if (has.includes(need)) continue;
    const able = driversWith(need);
    const optIn = capabilityOnRequest(scenario.driver.name, need);
    report(
      [entry.section, entry.index, 'step'],
      `${definition.name} needs a driver that can ${need} the node network; the ${scenario.driver.name} driver cannot${optIn ? ' unless its options say how' : ''}.`,
      optIn
        ? `${optIn}; or remove the step.`
        : `Run this scenario with ${able.length ? `the ${able.length > 1 ? `${able.slice(0, -1).join(', ')} or ${able.at(-1)}` : able[0]} driver` : 'another driver'}, or remove the step.`,
    );
  }
}

function checkRequirements(scenario: Scenario, entry: StepConfig, definition: LoadedStep, options: unknown, report: Report): void {
  checkDriverCapabilities(scenario, entry, definition, report);
  if (!definition.requirements) return;
  try {
    for (const problem of definition.requirements(scenario, options)) {
      report([entry.section, entry.index, ...(problem.path ?? [])], problem.message, problem.hint ?? `${definition.name} cannot run in this scenario as written.`);
    }
  } catch (error) {
    report([entry.section, entry.index, 'step'], `${definition.name}: its requirements check failed: ${messageOf(error)}`, 'Fix the step\'s requirements().');
  }
}

/** `driver.options` against the driver's own schema, so that bad options are refused before a node or a lease is made. */
async function checkDriverOptions(scenario: Scenario, diagnostics: Diagnostic[]): Promise<void> {
  const schema = await driverOptionsSchema(scenario.driver.name);
  if (!schema) return; // The scenario schema already limits driver.name to the known drivers.
  const input = scenario.driver.options;
  const parsed = schema.safeParse(input);
  if (parsed.success) return;
  diagnostics.push(...issueDiagnostics(parsed.error.issues, { source: scenario.source, code: 'syntax', basePath: ['driver', 'options'], schema, input }));
}

/** The step an entry names, and its options; what is wrong is reported. Undefined when either is. */
async function checkStepAndOptions(
  source: ScenarioSource,
  entry: StepConfig,
  resolveEntry: () => Promise<LoadedStep>,
  report: Report,
  diagnostics: Diagnostic[],
): Promise<{ definition: LoadedStep; options: unknown } | undefined> {
  let definition: LoadedStep;
  try {
    definition = await resolveEntry();
  } catch (error) {
    // A module's own error may span lines (a parser's frame); a diagnostic is one line.
    if (error instanceof StepLoadError) report([entry.section, entry.index, 'step'], error.message.replace(/\s*\n\s*/g, ' ').trim(), error.hint);
    else report([entry.section, entry.index, 'step'], `Step ${entry.step ?? ''} cannot be loaded: ${messageOf(error)}`, 'Fix the step module.');
    return undefined;
  }
  const options = checkOptions(source, entry, definition, report, diagnostics);
  return options === undefined ? undefined : { definition, options };
}

async function checkStep(scenario: Scenario, entry: StepConfig, report: Report, diagnostics: Diagnostic[]): Promise<void> {
  const checked = await checkStepAndOptions(scenario.source, entry, () => resolveStep(scenario, entry), report, diagnostics);
  // Requirements are only meaningful with options that validated.
  if (checked) checkRequirements(scenario, entry, checked.definition, checked.options, report);
}

/**
 * The step checks that need no valid scenario, on a file that fails the schema:
 * each well-formed converge and verify entry names a step that exists and gives
 * it valid options. Reported beside the schema problems, so one round shows both.
 */
export async function checkStepsOfInvalid(invalid: ScenarioInvalid): Promise<Diagnostic[]> {
  const diagnostics: Diagnostic[] = [];
  const report = reporter(invalid.scenario.source, diagnostics);
  const { dir, source } = invalid.scenario;
  for (const entry of invalid.steps) await checkStepAndOptions(source, entry, () => resolveStepRef(dir, entry), report, diagnostics);
  return diagnostics;
}

/**
 * Everything that can be checked before any node exists: keys given twice, driver options, step references
 * resolve, options validate, each step's requirements hold, groups and hosts
 * make sense, playbooks exist and pass `ansible-playbook --syntax-check`
 * (errors point into the playbook), TypeScript step modules type-check with the
 * project's TypeScript when it has one (errors point into the module). Sorted by position.
 */
export async function checkSyntax(scenario: Scenario): Promise<Diagnostic[]> {
  const diagnostics: Diagnostic[] = [];
  const report = reporter(scenario.source, diagnostics);
  // The first of two keys is silently dropped: refused before any node is made, unless lint.rules turns the rule off.
  if (scenario.lint.rules['yaml-duplicate-keys'] !== 'off') diagnostics.push(...scenario.source.duplicateKeys);
  checkLeader(scenario, report);
  await checkDriverOptions(scenario, diagnostics);
  const entries = stepEntries(scenario);
  for (const entry of entries) checkHosts(scenario, entry, report);
  for (const entry of entries) await checkStep(scenario, entry, report, diagnostics);
  // Images named in images: must be found (in this machine's Docker engine, or as archives), before any node is made.
  // Their code (the engine client, the transport) is loaded only for a scenario that lists some.
  if (scenario.images?.length) diagnostics.push(...(await (await import('../steps/images/scenario.js')).checkScenarioImages(scenario)));
  // Ansible's code is loaded only for a scenario that has a playbook.
  if (entries.some((entry) => entry.playbook !== undefined)) {
    const { adjacentVarsOverrides, checkPlaybookSyntax } = await import('../steps/ansible/syntax.js');
    diagnostics.push(...(await checkPlaybookSyntax(scenario, entries)));
    diagnostics.push(...(await adjacentVarsOverrides(scenario, entries)));
  }
  diagnostics.push(...(await typeCheckSteps(scenario)).diagnostics);
  return sortDiagnostics(diagnostics);
}
