import { CheckFailed, InfraError } from '../errors.js';
import { quoteCommand, secrets } from '../transport/index.js';

/** A command on a node exited non-zero where the step needed it to succeed. */
export class CommandFailed extends CheckFailed {
  constructor(
    readonly host: string,
    readonly argv: readonly string[],
    readonly commandExitCode: number,
    readonly stderr: string,
  ) {
    super(`"${secrets.mask(quoteCommand(argv))}" exited ${commandExitCode} on ${host}: ${secrets.mask(stderr.trim()) || '(no output)'}`);
  }
}

/** The node's Docker daemon is not there: the machinery failed, not the code under test. */
export class DockerUnavailable extends InfraError {}

/** The node's disk is full: the machinery failed, not the code under test. */
export class NodeDiskFull extends InfraError {}

/** A converge step failed: the code under test did not do what it should. */
export class ConvergeFailed extends CheckFailed {}
