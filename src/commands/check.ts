import { ConfigError, ExitCode, type Diagnostic } from '../errors.js';
import { formatDiagnostics } from '../reporters/diagnostics.js';
import { color, err, out } from './output.js';
import { VERSION } from './version.js';
import { selectedScenarios, type ScenarioSelection } from './scenarios.js';

/** The offline checks: `syntax` (exit 2 on an error) and `lint` (exit 1, or 2 when the file itself is broken). */
export type CheckKind = 'syntax' | 'lint';

export async function runCheck(kind: CheckKind, options: ScenarioSelection & { format?: 'text' | 'json' | 'github' | 'sarif' }): Promise<number> {
  const format = options.format ?? 'text';
  const diagnostics: Diagnostic[] = [];
  // What type-checking did or why it did not, said once per scenario.
  const notes: string[] = [];
  try {
    for (const scenario of await selectedScenarios(process.cwd(), options)) {
      if (kind === 'syntax') {
        const { checkSyntax } = await import('../syntax/index.js');
        const { typeCheckSteps } = await import('../syntax/typecheck.js');
        diagnostics.push(...(await checkSyntax(scenario)));
        const { note } = await typeCheckSteps(scenario);
        if (note) notes.push(`${kind}: ${scenario.name}: ${note}`);
      } else {
        const { lintScenarioAndPlaybooks } = await import('../lint/index.js');
        diagnostics.push(...(await lintScenarioAndPlaybooks(scenario)));
      }
    }
  } catch (error) {
    // A scenario that is not there has no positions to report: say so, exit 2.
    if (!(error instanceof ConfigError) || error.diagnostics.length === 0) throw error;
    diagnostics.push(...error.diagnostics);
  }
  if (format === 'github' || format === 'sarif') {
    const { githubAnnotations, sarifLog } = await import('../lint/formats.js');
    if (format === 'github' && diagnostics.length > 0) out(`${githubAnnotations(diagnostics)}\n`);
    if (format === 'sarif') out(`${JSON.stringify(sarifLog(diagnostics, VERSION), null, 2)}\n`);
  } else if (format === 'json' || diagnostics.length > 0) out(`${formatDiagnostics(diagnostics, { format, color: color() })}\n`);
  else out(`${kind}: no problems found\n`);
  // Machine-read formats keep stdout to themselves.
  for (const note of notes) (format === 'text' ? out : err)(`${note}\n`);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length === 0) return ExitCode.passed;
  if (kind === 'syntax' || errors.some((d) => d.code === 'yaml' || d.code === 'schema' || d.code === 'syntax')) return ExitCode.usage;
  return ExitCode.checkFailed;
}
