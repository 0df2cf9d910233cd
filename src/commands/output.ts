/** Colour on a terminal, plain in CI and when NO_COLOR is set. */
export const color = () => Boolean(process.stdout.isTTY) && !process.env.CI && !process.env.NO_COLOR;

/** CI logs: no TTY or CI=true gives plain, timestamped lines. */
export const inCi = () => !process.stdout.isTTY || Boolean(process.env.CI);

export const out = (text: string) => void process.stdout.write(text);
export const err = (text: string) => void process.stderr.write(text);
