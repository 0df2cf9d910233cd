import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { execa } from 'execa';
import { z } from 'zod';
import { diagnosticAt, displayPath } from '../../config/positions.js';
import type { Scenario, StepConfig } from '../../config/types.js';
import type { Diagnostic } from '../../errors.js';
import { DEPENDENCY_CACHE, projectDirOf } from './dependency.js';
import { ansibleEnvironment } from './environment.js';
import { DEPENDENCY_LINT_CODE, INSTALL, playbookEntries, which } from './tools.js';

export { DEPENDENCY_LINT_CODE };

export const LINT_CODE = 'ansible-lint';

/** The scenario's own ansible-lint config, when it has one (else the project's, found where ansible-lint runs). */
export function scenarioLintConfig(dir: string): string | undefined {
  return ['.ansible-lint', '.ansible-lint.yml', '.ansible-lint.yaml', join('.config', 'ansible-lint.yml')].map((name) => join(dir, name)).find((file) => existsSync(file));
}

/**
 * The severity of a finding as the scenario says: findings in dependencies
 * take `lint.dependencies` (warning unless set), others `lint.rules` for the
 * sub-rule (`fqcn[action-core]`), else its rule (`fqcn`), else ansible-lint's own.
 * Undefined: dropped (off).
 */
export function findingSeverity(
  checkName: string,
  ownSeverity: 'error' | 'warning',
  inDependency: boolean,
  lint: Pick<Scenario['lint'], 'rules' | 'dependencies'>,
): 'error' | 'warning' | undefined {
  const base = checkName.replace(/\[.*$/, '');
  const setting = lint.rules[checkName] ?? lint.rules[base];
  if (setting === 'off') return undefined;
  if (inDependency) {
    const dependencies = lint.dependencies ?? 'warning';
    return dependencies === 'off' ? undefined : dependencies;
  }
  return setting ?? ownSeverity;
}

// ansible-lint's `-f codeclimate` report (ansible-lint 6.x).
const issueSchema = z.object({
  check_name: z.string(),
  description: z.string().default(''),
  url: z.string().optional(),
  level: z.string().optional(),
  location: z.object({
    path: z.string(),
    lines: z.object({ begin: z.union([z.number(), z.object({ line: z.number(), column: z.number().optional() })]) }).optional(),
    positions: z.object({ begin: z.object({ line: z.number(), column: z.number().optional() }) }).optional(),
  }),
  content: z.object({ body: z.string().optional() }).optional(),
});
const reportSchema = z.array(z.looseObject({})).transform((issues) => issues.flatMap((i) => (issueSchema.safeParse(i).success ? [issueSchema.parse(i)] : [])));

export type LintIssue = z.output<typeof issueSchema>;

/** The findings of a codeclimate report, or undefined when `stdout` is not one. */
export function parseLintReport(stdout: string): LintIssue[] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(stdout.trim() || 'null');
  } catch {
    return undefined;
  }
  const parsed = reportSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

function positionOf(issue: LintIssue): { line: number; col: number } {
  const begin = issue.location.positions?.begin ?? issue.location.lines?.begin;
  if (typeof begin === 'number') return { line: Math.max(1, begin), col: 1 };
  return { line: Math.max(1, begin?.line ?? 1), col: Math.max(1, begin?.column ?? 1) };
}

async function diagnosticOf(issue: LintIssue, cwd: string, scenario: Scenario): Promise<Diagnostic | undefined> {
  const file = resolve(cwd, issue.location.path);
  const inDependency = file.startsWith(`${join(projectDirOf(scenario), DEPENDENCY_CACHE)}/`);
  const severity = findingSeverity(issue.check_name, issue.level === 'error' ? 'error' : 'warning', inDependency, scenario.lint);
  if (severity === undefined) return undefined;
  const text = existsSync(file) ? await readFile(file, 'utf8') : '';
  const detail = issue.content?.body && !issue.description.includes(issue.content.body) ? ` (${issue.content.body})` : '';
  return diagnosticAt({ file: displayPath(file), text }, positionOf(issue), {
    severity,
    code: inDependency ? DEPENDENCY_LINT_CODE : LINT_CODE,
    message: `${inDependency ? 'in a dependency: ' : ''}${issue.check_name}: ${issue.description}${detail}`,
    hint: inDependency
      ? 'Third-party code installed by dependency: report it upstream; "lint.dependencies: off" in scenario.yml drops these, "error" fails on them.'
      : `${issue.url ? `See ${issue.url}. ` : ''}Fix it, skip it under lint.rules in scenario.yml ("${issue.check_name}: off"), in .ansible-lint (skip_list), or on the line with "# noqa: ${issue.check_name}".`,
  });
}

function noteAt(scenario: Scenario, entry: StepConfig, message: string, hint: string): Diagnostic {
  return scenario.source.diagnostic([entry.section, entry.index, 'playbook'], { severity: 'warning', code: LINT_CODE, message, hint });
}

/**
 * ansible-lint on the scenario's playbooks (and the roles they use), offline,
 * with its findings as diagnostics: an error where ansible-lint says error,
 * else a warning. Configure it as usual (`.ansible-lint`, `# noqa`). Without
 * ansible-lint, one warning says the playbooks were not linted.
 */
export async function lintPlaybooks(scenario: Scenario): Promise<Diagnostic[]> {
  const entries = playbookEntries(scenario).filter((e) => e.playbook !== undefined && existsSync(resolve(scenario.dir, e.playbook)));
  const [first] = entries;
  if (first === undefined) return [];
  if (which('ansible-lint') === undefined) {
    return [noteAt(scenario, first, 'ansible-lint is not installed: the playbooks were not linted.', `Install it to lint them: ${INSTALL['ansible-lint']}`)];
  }
  // Run where a project keeps its .ansible-lint (the directory above scenarios/),
  // with relative paths: ansible-lint skips files outside the directory it runs in.
  const cwd = projectDirOf(scenario);
  const playbooks = [...new Set(entries.map((e) => relative(cwd, resolve(scenario.dir, e.playbook ?? ''))))];
  // The scenario's own .ansible-lint wins; without one, ansible-lint finds the project's where it runs.
  const config = scenarioLintConfig(scenario.dir);
  const run = await execa('ansible-lint', ['--offline', '--nocolor', '-q', '-f', 'codeclimate', ...(config ? ['-c', config] : []), ...playbooks], {
    cwd,
    env: { ...ansibleEnvironment({ scenario }), NO_COLOR: '1', ANSIBLE_NOCOLOR: '1', ANSIBLE_TRANSFORM_INVALID_GROUP_CHARS: 'ignore' },
    stdin: 'ignore',
    reject: false,
    timeout: 300_000,
  });
  const issues = parseLintReport(run.stdout);
  if (issues === undefined) {
    const why = run.stderr.trim().split('\n').filter(Boolean).at(-1) ?? run.shortMessage ?? 'no output';
    return [noteAt(scenario, first, `ansible-lint did not run (exit ${run.exitCode ?? '?'}): ${why}`, 'Run ansible-lint on the playbook yourself to see its whole output.')];
  }
  const found = await Promise.all(issues.map((issue) => diagnosticOf(issue, cwd, scenario)));
  return found.filter((d): d is Diagnostic => d !== undefined);
}
