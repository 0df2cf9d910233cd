import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { stepKindOf, type StepConfig } from '../../config/index.js';
import { CheckFailed, InfraError, Interrupted } from '../../errors.js';
import { quoteCommand, secrets } from '../../transport/index.js';
import type { HostResult, StepRunInput } from '../types.js';
import { EVENTS_ENV, writeCallbackPlugin } from './callback.js';
import { logLines, parseEvents, summarize, type HostSummary } from './events.js';
import { buildInventory, limitOf, mergeKnownHosts } from './inventory.js';
import { ansibleEnvironment } from './environment.js';
import { tailEvents } from './tail.js';
import { IDEMPOTENCE_NOTEST_TAG, INSTALL, NOTEST_TAG, which } from './tools.js';

export { IDEMPOTENCE_NOTEST_TAG, NOTEST_TAG };

/** The ansible-playbook arguments an entry adds to the inventory: extra vars files, tags, skipped tags, limit, pass-through. */
export function playbookArgs(
  entry: Pick<StepConfig, 'tags' | 'limit' | 'hosts'>,
  options: { extraVarsFiles: readonly string[]; skipTags: readonly string[]; args: readonly string[] },
): string[] {
  const args: string[] = [];
  for (const file of options.extraVarsFiles) args.push('--extra-vars', `@${file}`);
  if (entry.tags !== undefined && entry.tags.length > 0) args.push('--tags', entry.tags.join(','));
  const skip = [...new Set([NOTEST_TAG, ...options.skipTags])];
  args.push('--skip-tags', skip.join(','));
  const limit = limitOf(entry);
  if (limit !== undefined) args.push('--limit', limit);
  args.push(...options.args);
  return args;
}

/** A playbook could not run at all (a missing role, an undefined variable in a play): the code under test. */
export class PlaybookFailed extends CheckFailed {}

/** The display name of a playbook entry: its `name:`, else the playbook's path. */
export function playbookStepName(entry: StepConfig): string {
  return entry.name ?? entry.playbook ?? '?';
}

/**
 * Environment of every ansible-playbook run. Ansible's screen output goes to the
 * logs only; results come from the callback's JSON lines.
 */
function ansibleEnv(callbackDir: string, eventsFile: string, scenarioEnv: Record<string, string>): Record<string, string> {
  return {
    ...scenarioEnv,
    [EVENTS_ENV]: eventsFile,
    ANSIBLE_CALLBACK_PLUGINS: [callbackDir, process.env.ANSIBLE_CALLBACK_PLUGINS ?? '~/.ansible/plugins/callback:/usr/share/ansible/plugins/callback'].join(':'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_RETRY_FILES_ENABLED: '0',
    // Keep group names exactly as the platforms declare them (swarm-leader), without a warning.
    ANSIBLE_TRANSFORM_INVALID_GROUP_CHARS: 'ignore',
    ANSIBLE_PIPELINING: '1',
    ANSIBLE_HOST_KEY_CHECKING: 'True',
    // No ControlPersist master: one would outlive the run, holding a connection to
    // a node that destroy removes, and the next run's node at the same address
    // would be reached through it.
    ANSIBLE_SSH_ARGS: '-o ControlMaster=no -o ServerAliveInterval=15 -o ServerAliveCountMax=4',
  };
}

/** The `ERROR! ...` paragraph of ansible-playbook's stderr (what went wrong before any task). */
export function ansibleError(stderr: string): string | undefined {
  const start = stderr.indexOf('ERROR!');
  if (start < 0) return undefined;
  const paragraph = stderr.slice(start + 'ERROR!'.length).split(/\n\s*\n/)[0] ?? '';
  return paragraph.replace(/\s+/g, ' ').trim() || undefined;
}

async function appendLog(dir: string, node: string, text: string): Promise<void> {
  await appendFile(join(dir, `${node}.log`), `${secrets.mask(text)}\n`);
}

/**
 * How long one ansible-playbook run may take before it is stopped (SIGINT,
 * then SIGKILL after 5 s) and the step fails as an infrastructure error: a
 * task waiting on a node that never answers must not hang the run.
 */
const secondsOf = (ms: number) => (ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 1000).toFixed(1)} s`);

export const playbookLimits = { timeoutMs: 30 * 60_000 };

/**
 * Run a playbook entry with ansible-playbook against the scenario's nodes:
 * the inventory is generated from the platforms and the driver's node records,
 * results are read per host and task from the JSON callback (never from
 * Ansible's text), and Ansible's output is kept in `logs/ansible.log` and, per
 * task, in each node's log. A converge entry reports each host through
 * `events.hostResult`; a verify entry through `events.log`.
 *
 * Throws InfraError when ansible-playbook is missing or a node is unreachable,
 * PlaybookFailed when the playbook stops before its tasks say why, and
 * Interrupted on Ctrl-C. Failed tasks are failed host results, not errors.
 */
export async function runPlaybookEntry(input: StepRunInput, entry: StepConfig): Promise<HostResult[]> {
  const { scenario } = input;
  const name = playbookStepName(entry);
  if (entry.playbook === undefined) throw new InfraError(`Entry ${entry.section}[${entry.index}] has no playbook.`);
  if (which('ansible-playbook') === undefined) {
    throw new InfraError(`Scenario "${scenario.name}" has playbook steps, but ansible-playbook is not installed.`, {
      hint: `Install it: ${INSTALL['ansible-playbook']}`,
    });
  }
  const { targets, stateDir } = input;
  if (targets === undefined || stateDir === undefined) {
    throw new InfraError(`Playbook step "${name}" needs the nodes' SSH targets and the state directory, which the runner did not give.`);
  }
  const nodes = targets();
  // Absolute: the inventory names these files, and Ansible runs in the scenario directory.
  const ansibleDir = resolve(stateDir, 'ansible');
  const logDir = resolve(stateDir, 'logs');
  await mkdir(ansibleDir, { recursive: true, mode: 0o700 });
  await mkdir(logDir, { recursive: true, mode: 0o700 });

  const knownHostsFile = join(ansibleDir, 'known_hosts');
  const previous = await readFile(knownHostsFile, 'utf8').catch(() => '');
  await writeFile(knownHostsFile, mergeKnownHosts(previous, nodes), { mode: 0o600 });
  const inventoryFile = join(ansibleDir, 'inventory.yml');
  const inventory = buildInventory({
    platforms: scenario.platforms,
    targets: nodes,
    driver: scenario.driver.name,
    knownHostsFile,
    hostVars: scenario.ansible.hostVars,
    groupVars: scenario.ansible.groupVars,
  });
  await writeFile(inventoryFile, `${JSON.stringify(inventory, null, 2)}\n`, { mode: 0o600 });
  const callbackDir = join(ansibleDir, 'callback_plugins');
  await writeCallbackPlugin(callbackDir);

  const extraVarsFiles: string[] = [];
  // The scenario's extraVars first: an entry's own win (the later file does).
  for (const [label, vars] of [['scenario', scenario.ansible.extraVars], [`${entry.section}-${entry.index}`, entry.extraVars]] as const) {
    if (vars === undefined || Object.keys(vars).length === 0) continue;
    const file = join(ansibleDir, `extra-vars.${label}.json`);
    await writeFile(file, `${JSON.stringify(vars, null, 2)}\n`, { mode: 0o600 });
    extraVarsFiles.push(file);
  }
  const args = [
    '-i',
    inventoryFile,
    '--diff',
    ...playbookArgs(entry, {
      extraVarsFiles,
      skipTags: [...scenario.ansible.skipTags, ...(input.playbook?.skipTags ?? [])],
      args: [...(input.playbook?.args ?? []), ...scenario.ansible.args],
    }),
  ];
  const playbook = resolve(scenario.dir, entry.playbook);
  args.push(playbook);

  // The events may hold what a task printed: keep them out of the state directory.
  const eventsDir = await mkdtemp(join(tmpdir(), 'swarm-molecule-ansible-'));
  const eventsFile = join(eventsDir, 'events.jsonl');
  const started = Date.now();
  // Each task's result per host as it happens, for the live output.
  const tail = tailEvents(eventsFile, (event) => {
    if (event.kind === 'task') input.events.taskStart?.(name, event.name);
    else if (event.kind === 'result') {
      const { kind: _kind, ...line } = event;
      input.events.taskResult?.(name, line.message === undefined ? line : { ...line, message: secrets.mask(line.message) });
    }
  });
  try {
    const run = await execa('ansible-playbook', args, {
      cwd: scenario.dir,
      env: ansibleEnv(callbackDir, eventsFile, ansibleEnvironment({ scenario, stateDir: resolve(stateDir), inventoryFile })),
      stdin: 'ignore',
      all: true,
      reject: false,
      cancelSignal: input.base.signal,
      timeout: playbookLimits.timeoutMs,
      // Ansible stops its workers on SIGINT (as on Ctrl-C in a terminal).
      killSignal: 'SIGINT',
      forceKillAfterDelay: 5000,
    }).finally(() => tail.stop());
    await appendFile(
      join(logDir, 'ansible.log'),
      secrets.mask(
        [
          `# ${new Date(started).toISOString()} ${entry.section} "${name}" $ ansible-playbook ${quoteCommand(args)}`,
          (run.all ?? '').trimEnd(),
          `# exit=${run.exitCode ?? '?'} ${((Date.now() - started) / 1000).toFixed(1)}s`,
          '',
        ].join('\n'),
      ),
    );
    const events = parseEvents(await readFile(eventsFile, 'utf8').catch(() => ''));
    for (const result of events.results) await appendLog(logDir, result.host, logLines(result, entry.playbook).join('\n'));
    if (run.isCanceled) throw new Interrupted(String(input.base.signal.reason ?? 'signal'));
    if (run.timedOut) {
      throw new InfraError(`ansible-playbook for step "${name}" did not finish within ${secondsOf(playbookLimits.timeoutMs)}; it was stopped.`, {
        hint: `See ${join(logDir, 'ansible.log')} for the task it was running.`,
      });
    }
    if (run.failed && run.exitCode === undefined) {
      throw new InfraError(`ansible-playbook could not be run for step "${name}": ${run.shortMessage ?? 'failed to start'}`, { hint: `Install it: ${INSTALL['ansible-playbook']}` });
    }
    const summaries = summarize(events, scenario.platforms.map((p) => p.name));
    // A play-level error (an undefined variable in a play, a role not found) stops the run with no failed task:
    // the hosts it stopped on failed, and the RECAP says so.
    const stopped = playLevelError(run.exitCode ?? 0, run.stderr, summaries);
    const results = summaries.map(hostResultOf).map((r) => (stopped !== undefined && r.status !== 'failed' ? { ...r, status: 'failed' as const, changes: [], message: secrets.mask(stopped) } : r));
    for (const result of results) {
      if (stepKindOf(entry.section) === 'converge') input.events.hostResult?.(name, result);
      else input.events.log?.(`${result.host}: ${result.status}${result.message ? ` — ${result.message}` : ''}`, name);
    }
    assertRan(scenario.name, name, run.exitCode ?? 0, run.stderr, summaries);
    return results;
  } finally {
    await rm(eventsDir, { recursive: true, force: true });
  }
}

function hostResultOf(summary: HostSummary): HostResult {
  return {
    host: summary.host,
    status: summary.status,
    changes: summary.changes.map((c) => secrets.mask(c)),
    ...(summary.message !== undefined ? { message: secrets.mask(summary.message) } : {}),
    ansible: summary.counts,
    durationMs: summary.durationMs,
  };
}

/** Why a run stopped without a failed task (a play-level error), with Ansible's file and line when it gives them; undefined when it did not. */
export function playLevelError(exitCode: number, stderr: string, summaries: readonly Pick<HostSummary, 'status'>[]): string | undefined {
  if (exitCode === 0 || summaries.some((s) => s.status === 'failed')) return undefined;
  const error = ansibleError(stderr) ?? (stderr.trim().split('\n').at(-1) || `ansible-playbook exited ${exitCode}`);
  const at = /The error appears to be in '(.+?)': line (\d+), column (\d+)/.exec(stderr);
  return at && !error.includes(at[1] ?? '') ? `${error} (at ${at[1] ?? ''}:${at[2] ?? ''}:${at[3] ?? ''})` : error;
}

/** Unreachable nodes are the machinery's fault; a run that stopped without a failed task, the playbook's. */
function assertRan(scenarioName: string, name: string, exitCode: number, stderr: string, summaries: HostSummary[]): void {
  const unreachable = summaries.filter((s) => s.unreachable);
  if (unreachable.length > 0) {
    throw new InfraError(
      `Ansible could not reach ${unreachable.map((s) => s.host).join(', ')} in step "${name}" (scenario "${scenarioName}"): ${secrets.mask(unreachable[0]?.message ?? '')}`,
      { hint: `Run "swarm-molecule login -s ${scenarioName} -h ${unreachable[0]?.host ?? ''}" to inspect; see .swarm-molecule/${scenarioName}/logs/ansible.log.` },
    );
  }
  const error = playLevelError(exitCode, stderr, summaries);
  if (error === undefined) return;
  throw new PlaybookFailed(`Playbook step "${name}" stopped (scenario "${scenarioName}"): ${secrets.mask(error)}`, {
    hint: `See .swarm-molecule/${scenarioName}/logs/ansible.log; "swarm-molecule syntax -s ${scenarioName}" checks playbooks offline.`,
  });
}

/** Run a verify entry's playbook: a failed task on any host fails the check. */
export async function verifyWithPlaybook(input: StepRunInput, entry: StepConfig): Promise<void> {
  const results = await runPlaybookEntry(input, entry);
  const failed = results.filter((r) => r.status === 'failed');
  if (failed.length === 0) return;
  throw new CheckFailed(`Playbook "${playbookStepName(entry)}" failed on ${failed.map((r) => `${r.host}: ${r.message ?? 'a task failed'}`).join('; ')}`);
}
