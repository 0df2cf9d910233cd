const MASK = '********';

/**
 * Values that must never be shown: swarm join tokens, private keys. Every line of
 * output, log, report and state passes through `mask` before it leaves the process.
 */
export class Secrets {
  readonly #values = new Set<string>();

  add(value: string): void {
    const trimmed = value.trim();
    // Short strings would mask ordinary words; tokens and keys are long.
    if (trimmed.length >= 8) this.#values.add(trimmed);
  }

  mask(text: string): string {
    let out = text;
    for (const value of this.#values) out = out.replaceAll(value, MASK);
    // A join token the harness has not seen yet (e.g. printed by a user's step).
    return out.replace(/SWMTKN-1-[0-9a-z]+-[0-9a-z]+/g, MASK);
  }
}

/** One registry per process: secrets found by any step are masked everywhere. */
export const secrets = new Secrets();
