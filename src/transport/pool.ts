import { SshConnection } from './ssh.js';
import type { CommandListener, SshTarget } from './types.js';

/** The nodes to reach: a driver's state is one, but SSH needs only the targets. */
interface Targets {
  nodes: readonly SshTarget[];
}

/** One SSH connection per node for a whole command, opened on first use. */
export class ConnectionPool {
  readonly #connections = new Map<string, SshConnection>();

  constructor(
    private state: Targets,
    private readonly options: { signal: AbortSignal; onCommand?: CommandListener; onNote?: (node: string, message: string) => void; connectTimeoutMs?: number },
  ) {}

  /** Nodes were recreated or restarted: forget connections to nodes that changed. */
  update(state: Targets): void {
    for (const node of state.nodes) {
      const before = this.state.nodes.find((n) => n.name === node.name);
      if (!before || JSON.stringify(before) !== JSON.stringify(node)) this.drop(node.name);
    }
    this.state = state;
  }

  get(name: string): SshConnection {
    let connection = this.#connections.get(name);
    if (!connection) {
      const node = this.state.nodes.find((n) => n.name === name);
      if (!node) throw new Error(`No node named ${name} exists.`);
      connection = new SshConnection(node, {
        signal: this.options.signal,
        timeoutMs: this.options.connectTimeoutMs ?? 30_000,
        ...(this.options.onCommand ? { onCommand: this.options.onCommand } : {}),
        ...(this.options.onNote ? { onNote: this.options.onNote } : {}),
      });
      this.#connections.set(name, connection);
    }
    return connection;
  }

  drop(name: string): void {
    this.#connections.get(name)?.close();
    this.#connections.delete(name);
  }

  closeAll(): void {
    for (const connection of this.#connections.values()) connection.close();
    this.#connections.clear();
  }
}
