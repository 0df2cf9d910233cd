import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../errors.js';
import { githubAnnotations, sarifLog } from './formats.js';

const findings: Diagnostic[] = [
  { file: 'scenarios/default/scenario.yml', line: 3, col: 5, severity: 'error', code: 'yaml-duplicate-keys', message: 'Key "name" is given twice, 100%.', hint: 'Keep one.' },
  { file: 'scenarios/a,b/scenario.yml', line: 9, col: 1, severity: 'warning', code: 'swarm-even-managers', message: '2 managers.' },
];

describe('lint output for CI', () => {
  it('writes GitHub workflow annotations, one line each, escaped as GitHub reads them', () => {
    expect(githubAnnotations(findings)).toBe(
      [
        '::error file=scenarios/default/scenario.yml,line=3,col=5,title=yaml-duplicate-keys::Key "name" is given twice, 100%25.%0AKeep one.',
        '::warning file=scenarios/a%2Cb/scenario.yml,line=9,col=1,title=swarm-even-managers::2 managers.',
      ].join('\n'),
    );
  });

  it('writes a SARIF 2.1.0 log with a rule per code and each result at its position', () => {
    const log = sarifLog(findings, '0.1.0') as { version: string; runs: { tool: { driver: { name: string; rules: { id: string }[] } }; results: unknown[] }[] };
    expect(log).toMatchObject({ version: '2.1.0', $schema: 'https://json.schemastore.org/sarif-2.1.0.json' });
    expect(log.runs[0]?.tool.driver.name).toBe('swarm-molecule');
    expect(log.runs[0]?.tool.driver.rules.map((r) => r.id)).toEqual(['yaml-duplicate-keys', 'swarm-even-managers']);
    expect(log.runs[0]?.results[0]).toEqual({
      ruleId: 'yaml-duplicate-keys',
      ruleIndex: 0,
      level: 'error',
      message: { text: 'Key "name" is given twice, 100%. Keep one.' },
      locations: [{ physicalLocation: { artifactLocation: { uri: 'scenarios/default/scenario.yml' }, region: { startLine: 3, startColumn: 5 } } }],
    });
    expect(log.runs[0]?.results[1]).toMatchObject({ level: 'warning', ruleIndex: 1 });
  });
});
