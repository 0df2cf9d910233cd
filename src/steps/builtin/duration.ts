import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
// Go's duration syntax (what `docker service update --update-delay` takes), without ns/us.
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** Milliseconds of a duration like `1s`, `500ms`, `1m30s`; `undefined` when it is not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DURATION.test(trimmed)) return undefined;
  let ms = 0;
  for (const [, amount = '0', unit = 's'] of trimmed.matchAll(PART)) ms += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  return Math.round(ms);
}

/** Milliseconds of a duration the option schema already validated. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`"${text}" is not a duration (write e.g. 1s, 500ms, 2m).`);
  return ms;
}

/** A duration option: a string in Docker's (Go's) syntax, kept as written so it can be passed to docker. */
export const duration = () =>
  z
    .string()
    .refine((text) => parseDuration(text) !== undefined, { message: 'Expected a duration such as 500ms, 1s, 90s or 2m.' });

/** `1.2 s`, for messages. */
export const secondsText = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Whole milliseconds since `started` (a `performance.now()`), for measurements. */
export const elapsedSince = (started: number): number => Math.round(performance.now() - started);
