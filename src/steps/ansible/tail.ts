import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { liveEventsOf, type LiveEvent } from './events.js';

/**
 * Follow the callback's JSON lines while ansible-playbook runs: every
 * `intervalMs`, the lines appended since the last read become live events.
 * `stop()` reads what is left and ends.
 */
export function tailEvents(file: string, onEvent: (event: LiveEvent) => void, intervalMs = 250): { stop(): Promise<void> } {
  let offset = 0;
  let partial = '';
  // A character cut between two reads is completed by the next.
  const decoder = new StringDecoder('utf8');
  let reading: Promise<void> = Promise.resolve();
  const read = async (): Promise<void> => {
    const handle = await open(file, 'r').catch(() => undefined);
    if (handle === undefined) return;
    try {
      for (;;) {
        const buffer = Buffer.alloc(64 * 1024);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        partial += decoder.write(buffer.subarray(0, bytesRead));
      }
    } finally {
      await handle.close();
    }
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const event of liveEventsOf(lines)) onEvent(event);
  };
  const timer = setInterval(() => {
    reading = reading.then(read).catch(() => undefined);
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await reading;
      await read().catch(() => undefined);
    },
  };
}
