export { quoteArg, quoteCommand } from './quote.js';
export { secrets, Secrets } from './secrets.js';
export { ConnectionPool } from './pool.js';
export { CommandTimedOut, hostKeyLine, SshConnection, TransportError, type ConnectOptions } from './ssh.js';
export { ensureKeyPair, generateKeyPair, writeKeyPair, type KeyPair } from './keys.js';
export type { CommandListener, CommandResult, DockerApiRequest, DockerApiResponse, RunOptions, SshTarget } from './types.js';
