import { UsageError } from '../errors.js';

/** `--shard i/n`: the i-th (1-based) of n slices of the scenarios, for CI machines. */
export interface Shard {
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard ${text} is not of the form i/n with 1 ≤ i ≤ n.`, { hint: 'For example --shard 1/3 on the first of three CI machines.' });
  }
  return { index, count };
}

/** The scenarios of one shard, sorted by name so every CI machine slices the same list. */
export function shardOf<T extends { name: string }>(scenarios: T[], shard: Shard | undefined): T[] {
  if (!shard) return scenarios;
  return [...scenarios].sort((a, b) => a.name.localeCompare(b.name)).filter((_, i) => i % shard.count === shard.index - 1);
}
