/** Where the progress of a load goes. */
export interface ProgressView {
  /**
   * One line redrawn in place (a terminal): the bytes sent of every node. Left
   * out where output is not a terminal: then `line` gets a plain line for each
   * quarter of each node's transfer.
   */
  redraw?(text: string): void;
  /** A line that stays. */
  line(text: string): void;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

/** One archive sent to several nodes at once: bytes sent out of its size, per node. */
export class LoadProgress {
  readonly #sent = new Map<string, number>();
  readonly #quarter = new Map<string, number>();
  readonly #started = performance.now();
  #drawnAt = 0;

  constructor(
    readonly what: string,
    readonly total: number,
    nodes: readonly string[],
    readonly view: ProgressView,
    /** Redraw at most this often. */
    readonly intervalMs = 100,
  ) {
    for (const node of nodes) {
      this.#sent.set(node, 0);
      this.#quarter.set(node, 0);
    }
    this.#draw(true);
  }

  /** The line a terminal shows: `app:1 (104.9 MB) → node-a 52.4/104.9 MB · node-b 104.9/104.9 MB`. */
  text(): string {
    const nodes = [...this.#sent].map(([node, sent]) => `${node} ${mb(sent)}/${mb(this.total)} MB`);
    return `${this.what} (${mb(this.total)} MB) → ${nodes.join(' · ')}`;
  }

  /** `node` took `bytes` more. */
  advance(node: string, bytes: number): void {
    const sent = (this.#sent.get(node) ?? 0) + bytes;
    this.#sent.set(node, sent);
    if (this.view.redraw) {
      this.#draw(false);
      return;
    }
    // Plain output: one line each time a node passes a quarter.
    const quarter = this.total > 0 ? Math.min(4, Math.floor((sent / this.total) * 4)) : 4;
    if (quarter > (this.#quarter.get(node) ?? 0) && quarter < 4) {
      this.#quarter.set(node, quarter);
      this.view.line(`${this.what}: ${node} ${mb(sent)}/${mb(this.total)} MB (${quarter * 25}%)`);
    }
  }

  /** `node` loaded it: a line that stays, with the rate. */
  done(node: string, message: string): void {
    this.#draw(true);
    this.view.line(`${this.what}: ${node} ${message}`);
  }

  /** Seconds since the transfer began. */
  seconds(): number {
    return (performance.now() - this.#started) / 1000;
  }

  #draw(force: boolean): void {
    if (!this.view.redraw) return;
    const now = performance.now();
    if (!force && now - this.#drawnAt < this.intervalMs) return;
    this.#drawnAt = now;
    this.view.redraw(this.text());
  }
}

/** A view on a terminal stream: the line redrawn with `\r` when it is a TTY, plain lines otherwise. */
export function terminalView(stream: { isTTY?: boolean; write(text: string): unknown }): ProgressView & { end(): void } {
  let drawn = false;
  const clear = () => {
    if (drawn) stream.write('\r\x1b[2K');
    drawn = false;
  };
  return {
    ...(stream.isTTY
      ? {
          redraw: (text: string) => {
            stream.write(`\r\x1b[2K${text}`);
            drawn = true;
          },
        }
      : {}),
    line: (text) => {
      clear();
      stream.write(`${text}\n`);
    },
    end: clear,
  };
}
