import type { LintCheck, LintFinding } from '../types.js';

export const verifyDisruptiveWithoutRestore: LintCheck = {
  check({ scenario, builtin, optionsOf }) {
    const findings: LintFinding[] = [];
    const last = scenario.verify.length - 1;
    for (const entry of scenario.verify) {
      if (entry.index === last || entry.step === undefined) continue;
      const definition = builtin(entry);
      if (definition?.kind !== 'verify' || !definition.disruptive || optionsOf(entry)?.restore !== false) continue;
      const next = scenario.verify[entry.index + 1];
      const following = last - entry.index;
      findings.push({
        path: ['verify', entry.index, 'with', 'restore'],
        message: `${entry.step} does not restore the nodes it stops, and ${following === 1 ? '1 verify step follows' : `${following} verify steps follow`} it (first ${next?.step ?? next?.playbook ?? 'another'}).`,
        hint: 'Remove "restore: false", or move this step to the end of verify.',
      });
    }
    return findings;
  },
};
