/** Colour on a terminal, plain in CI and when NO_COLOR is set; FORCE_COLOR (not 0) asks for it anywhere. */
export const color = () => {
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0' && force !== 'false') return true;
  return Boolean(process.stdout.isTTY) && !process.env.CI && !process.env.NO_COLOR;
};

/** CI logs: no TTY or CI=true gives plain, timestamped lines. */
export const inCi = () => !process.stdout.isTTY || Boolean(process.env.CI);

export const out = (text: string) => void process.stdout.write(text);
export const err = (text: string) => void process.stderr.write(text);
