export { quoteArg, quoteCommand } from './quote.js';
// Steps mask what they print through the transport they run commands with.
export { secrets, Secrets } from '../secrets/index.js';
export { ConnectionPool } from './pool.js';
export { COMMAND_PATH, CommandTimedOut, hostKeyLine, remoteCommand, SshConnection, TransportError, type ConnectOptions } from './ssh.js';
export { ensureKeyPair, generateKeyPair, writeKeyPair, type KeyPair } from './keys.js';
export type { CommandListener, CommandResult, DockerApiRequest, DockerApiResponse, RunOptions, SshTarget } from './types.js';
export { DOCKER_SOCKET, EngineNoAnswer, EngineRequestFailed, NodeEngine, SocketUnreachable, engineMessage, type EngineCall } from './engine.js';
