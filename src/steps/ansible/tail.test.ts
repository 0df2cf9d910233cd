import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LiveEvent } from './events.js';
import { tailEvents } from './tail.js';

const line = (event: Record<string, unknown>) => `${JSON.stringify({ time: 1, ...event })}\n`;

describe('tailEvents', () => {
  it('turns the callback\'s lines into live events as they are appended, a line cut in two included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-tail-'));
    const file = join(dir, 'events.jsonl');
    const seen: LiveEvent[] = [];
    const tail = tailEvents(file, (e) => seen.push(e), 10);
    // The file does not exist until Ansible's first event.
    await new Promise((r) => setTimeout(r, 30));
    writeFileSync(file, line({ event: 'play', name: 'Converge' }) + line({ event: 'task', name: 'Create the group', path: 'x' }));
    const result = line({ event: 'result', status: 'failed', ignored: false, host: 'n1', task: 'Create the group', result: { msg: 'groupadd: permission denied' } });
    appendFileSync(file, result.slice(0, 20));
    // Up to 10 s: the tail polls every 10 ms, but a loaded machine may run it late.
    for (let i = 0; i < 1000 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual([
      { kind: 'play', name: 'Converge' },
      { kind: 'task', name: 'Create the group' },
    ]);
    appendFileSync(file, result.slice(20) + line({ event: 'result', status: 'changed', host: 'n2', task: 'Create the group', result: {} }));
    await tail.stop();
    expect(seen.slice(2)).toEqual([
      { kind: 'result', host: 'n1', task: 'Create the group', status: 'failed', ignored: false, message: 'groupadd: permission denied' },
      { kind: 'result', host: 'n2', task: 'Create the group', status: 'changed', ignored: false },
    ]);
    rmSync(dir, { recursive: true, force: true });
  });
});
