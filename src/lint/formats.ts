import type { Diagnostic } from '../errors.js';
import { lintRules } from './registry.js';

// GitHub's workflow-command escaping: data and property values differ.
const escapeData = (text: string) => text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
const escapeProperty = (text: string) => escapeData(text).replaceAll(':', '%3A').replaceAll(',', '%2C');

/**
 * GitHub Actions workflow annotations, one line per diagnostic:
 * `::error file=F,line=L,col=C,title=CODE::MESSAGE` (the hint on a second line of the message).
 */
export function githubAnnotations(diagnostics: readonly Diagnostic[]): string {
  return diagnostics
    .map((d) => {
      const properties = [`file=${escapeProperty(d.file)}`, `line=${d.line}`, `col=${d.col}`, `title=${escapeProperty(d.code)}`].join(',');
      return `::${d.severity === 'error' ? 'error' : 'warning'} ${properties}::${escapeData(d.hint ? `${d.message}\n${d.hint}` : d.message)}`;
    })
    .join('\n');
}

/** A SARIF 2.1.0 log (for GitHub code scanning and other tools): one run, a rule per code found. */
export function sarifLog(diagnostics: readonly Diagnostic[], version: string): object {
  const codes = [...new Set(diagnostics.map((d) => d.code))];
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'swarm-molecule',
            version,
            informationUri: 'https://github.com/swarm-molecule/swarm-molecule',
            rules: codes.map((id) => ({ id, shortDescription: { text: lintRules[id]?.reason ?? `scenario ${id} check` } })),
          },
        },
        results: diagnostics.map((d) => ({
          ruleId: d.code,
          ruleIndex: codes.indexOf(d.code),
          level: d.severity === 'error' ? 'error' : 'warning',
          message: { text: d.hint ? `${d.message} ${d.hint}` : d.message },
          locations: [{ physicalLocation: { artifactLocation: { uri: d.file }, region: { startLine: d.line, startColumn: d.col } } }],
        })),
      },
    ],
  };
}
