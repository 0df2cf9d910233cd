import type Docker from 'dockerode';
import { InfraError, Interrupted } from '../../errors.js';
import { statusOf } from '../../transport/docker-engine/client.js';

/** Wait for an engine call that streams progress (pull, import) to finish; its errors arrive in the stream. */
export function followProgress(docker: Docker, stream: NodeJS.ReadableStream, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const abort = () => {
      (stream as unknown as { destroy?: () => void }).destroy?.();
      reject(new Interrupted(String(signal.reason ?? 'signal')));
    };
    signal.addEventListener('abort', abort, { once: true });
    docker.modem.followProgress(stream, (error: Error | null, output: { error?: string }[]) => {
      signal.removeEventListener('abort', abort);
      const failed = error?.message ?? output.find((o) => o.error)?.error;
      if (failed) reject(new InfraError(failed));
      else resolve();
    });
  });
}

/** Whether the engine has an image by this name. */
export async function hasImage(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getImage(name).inspect();
    return true;
  } catch (error) {
    if (statusOf(error) === 404) return false;
    throw error;
  }
}

/**
 * Import a root filesystem archive as an image with a CMD: streamed from this
 * machine to the engine, so it works for a remote engine too.
 */
export async function importArchive(docker: Docker, archive: string, tag: string, cmd: string[], signal: AbortSignal): Promise<void> {
  const [repo, version] = tag.split(':');
  const stream = await docker.importImage(archive, { repo, tag: version, changes: [`CMD ${JSON.stringify(cmd)}`] });
  await followProgress(docker, stream, signal);
}
