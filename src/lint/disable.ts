const DIRECTIVE = /(?:^|\s)#\s*swarm-molecule-lint-disable-(next-line|line)\b([^#]*)/;

/** Rule ids disabled on each line (1-based); `'all'` when a comment names none. */
export type DisabledRules = Map<number, Set<string> | 'all'>;

/**
 * `# swarm-molecule-lint-disable-line <id>[,<id>]` silences rules on its own line,
 * `# swarm-molecule-lint-disable-next-line <id>` on the line after it.
 */
export function disabledRules(lines: readonly string[]): DisabledRules {
  const disabled: DisabledRules = new Map();
  lines.forEach((text, i) => {
    const match = DIRECTIVE.exec(text);
    if (!match) return;
    const line = match[1] === 'next-line' ? i + 2 : i + 1;
    const ids = (match[2] ?? '')
      .split(/[\s,]+/)
      .filter((id) => id !== '');
    const current = disabled.get(line);
    if (ids.length === 0 || current === 'all') disabled.set(line, 'all');
    else disabled.set(line, new Set([...(current ?? []), ...ids]));
  });
  return disabled;
}

export function isDisabled(disabled: DisabledRules, line: number, id: string): boolean {
  const rules = disabled.get(line);
  return rules === 'all' || (rules?.has(id) ?? false);
}
