import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { diagnosticAt, displayPath } from '../../config/positions.js';
import type { Scenario, StepConfig } from '../../config/types.js';
import type { Diagnostic } from '../../errors.js';
import { ansibleEnvironment } from './environment.js';
import { buildInventory } from './inventory.js';
import { INSTALL, which } from './tools.js';

/** What `ansible-playbook --syntax-check` said, and where when it says. */
export interface AnsibleSyntaxError {
  message: string;
  file?: string;
  line?: number;
  col?: number;
}

const LOCATION = /The error appears to be in '(.+?)': line (\d+), column (\d+)/;

/**
 * Read Ansible's error report: the `ERROR!` message (for YAML errors, the
 * parser's own words rather than "unable to read either as JSON nor YAML") and
 * the `The error appears to be in '<file>': line N, column M` position.
 */
export function parseSyntaxError(stderr: string): AnsibleSyntaxError {
  const start = stderr.indexOf('ERROR!');
  const report = start >= 0 ? stderr.slice(start + 'ERROR!'.length) : stderr;
  const location = LOCATION.exec(report);
  const head = location ? report.slice(0, location.index) : report.split(/\n\s*\n/)[0] ?? report;
  const message = head
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('We were unable to read either as JSON nor YAML') && !line.startsWith('JSON: '))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  const result: AnsibleSyntaxError = { message: message || 'ansible-playbook --syntax-check failed.' };
  if (location) {
    result.file = location[1] ?? '';
    result.line = Number(location[2]);
    result.col = Math.max(1, Number(location[3]));
  }
  return result;
}

const ENV = {
  ANSIBLE_NOCOLOR: '1',
  ANSIBLE_FORCE_COLOR: '0',
  ANSIBLE_RETRY_FILES_ENABLED: '0',
  ANSIBLE_TRANSFORM_INVALID_GROUP_CHARS: 'ignore',
};

async function syntaxCheck(scenario: Scenario, entry: StepConfig, playbook: string, workDir: string): Promise<Diagnostic[]> {
  const inventory = join(workDir, `inventory-${entry.section}-${entry.index}.yml`);
  await writeFile(
    inventory,
    JSON.stringify(buildInventory({ platforms: scenario.platforms, driver: scenario.driver.name, hostVars: scenario.ansible.hostVars, groupVars: scenario.ansible.groupVars })),
  );
  const args = ['--syntax-check', '-i', inventory];
  if (entry.extraVars !== undefined) {
    const vars = join(workDir, `extra-vars-${entry.section}-${entry.index}.json`);
    await writeFile(vars, JSON.stringify(entry.extraVars));
    args.push('--extra-vars', `@${vars}`);
  }
  args.push(playbook);
  const run = await execa('ansible-playbook', args, { cwd: scenario.dir, env: { ...ansibleEnvironment({ scenario }), ...ENV }, stdin: 'ignore', reject: false, timeout: 120_000 });
  if (run.exitCode === 0) return [];
  const error = parseSyntaxError(run.stderr || run.stdout || (run.shortMessage ?? ''));
  const hint = `Fix the playbook; "ansible-playbook --syntax-check ${entry.playbook ?? ''}" in ${displayPath(scenario.dir)} shows the same.`;
  if (error.file !== undefined && error.line !== undefined && existsSync(error.file)) {
    const text = await readFile(error.file, 'utf8');
    return [diagnosticAt({ file: displayPath(error.file), text }, { line: error.line, col: error.col ?? 1 }, { severity: 'error', code: 'syntax', message: error.message, hint })];
  }
  return [
    scenario.source.diagnostic([entry.section, entry.index, 'playbook'], {
      severity: 'error',
      code: 'syntax',
      message: `Playbook ${entry.playbook ?? ''} does not pass ansible-playbook --syntax-check: ${error.message}`,
      hint,
    }),
  ];
}

/**
 * `ansible-playbook --syntax-check` for each playbook entry (those whose file
 * exists), against an inventory of the platforms' groups: offline, no node
 * needed. An error points at the playbook's file and line as Ansible reports
 * them. Without ansible-playbook: one error saying how to install it.
 */
export async function checkPlaybookSyntax(scenario: Scenario, entries: readonly StepConfig[]): Promise<Diagnostic[]> {
  const playbooks = entries.flatMap((entry) => {
    if (entry.playbook === undefined) return [];
    const path = resolve(scenario.dir, entry.playbook);
    return existsSync(path) ? [{ entry, path }] : [];
  });
  const [first] = playbooks;
  if (first === undefined) return [];
  if (which('ansible-playbook') === undefined) {
    return [
      scenario.source.diagnostic([first.entry.section, first.entry.index, 'playbook'], {
        severity: 'error',
        code: 'syntax',
        message: 'ansible-playbook is not installed, so the playbook steps cannot be checked or run.',
        hint: `Install it: ${INSTALL['ansible-playbook']}`,
      }),
    ];
  }
  const workDir = await mkdtemp(join(tmpdir(), 'swarm-molecule-syntax-'));
  try {
    const found = (await Promise.all(playbooks.map(({ entry, path }) => syntaxCheck(scenario, entry, path, workDir)))).flat();
    // Two entries running the same playbook report the same error once.
    const key = (d: Diagnostic) => `${d.file}:${d.line}:${d.col}:${d.message}`;
    return found.filter((d, i) => found.findIndex((other) => key(other) === key(d)) === i);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** The variables the generated inventory sets for the nodes to be reached as the driver made them. */
export const CONNECTION_VARS = [
  'ansible_host',
  'ansible_port',
  'ansible_user',
  'ansible_ssh_private_key_file',
  'ansible_python_interpreter',
  'ansible_ssh_common_args',
  'ansible_ssh_transfer_method',
  'ansible_connection',
] as const;

function varsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat === undefined) return [];
    if (stat.isDirectory()) return varsFiles(path);
    return /\.(ya?ml|json)$|^[^.]+$/.test(name) ? [path] : [];
  });
}

/**
 * group_vars/ and host_vars/ beside a playbook take precedence over the
 * generated inventory's group variables: one that sets a connection variable
 * (ansible_python_interpreter, ansible_host...) would silently replace ours.
 * A warning at the key, with how to mean it.
 */
export async function adjacentVarsOverrides(scenario: Scenario, entries: readonly StepConfig[]): Promise<Diagnostic[]> {
  const dirs = [...new Set(entries.flatMap((e) => (e.playbook === undefined ? [] : [dirname(resolve(scenario.dir, e.playbook))])))];
  const diagnostics: Diagnostic[] = [];
  for (const dir of dirs) {
    for (const file of [...varsFiles(join(dir, 'group_vars')), ...varsFiles(join(dir, 'host_vars'))]) {
      const text = await readFile(file, 'utf8').catch(() => '');
      const lineCounter = new LineCounter();
      const document = parseDocument(text, { lineCounter });
      if (!isMap(document.contents)) continue;
      for (const pair of document.contents.items) {
        if (!isScalar(pair.key) || !(CONNECTION_VARS as readonly string[]).includes(String(pair.key.value))) continue;
        const name = String(pair.key.value);
        diagnostics.push(
          diagnosticAt({ file: displayPath(file), text }, lineCounter.linePos(pair.key.range?.[0] ?? 0), {
            severity: 'warning',
            code: 'syntax',
            message: `${name} here overrides the value swarm-molecule's inventory gives the nodes (playbook-adjacent vars win over inventory group vars).`,
            hint: `Remove it to reach the nodes as the driver made them, or set it under ansible.groupVars / ansible.hostVars in scenario.yml if you mean it.`,
          }),
        );
      }
    }
  }
  return diagnostics;
}
