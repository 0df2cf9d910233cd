/** What `test` does with the nodes at the end: Test Kitchen's --destroy. */
export const DESTROY_POLICIES = ['always', 'never', 'passing'] as const;
export type DestroyPolicy = (typeof DESTROY_POLICIES)[number];

/** The commands that take `--destroy` (see commands/index.ts): the others destroy as their sequence says. */
export const DESTROY_OPTION_COMMANDS: readonly string[] = ['test'];
