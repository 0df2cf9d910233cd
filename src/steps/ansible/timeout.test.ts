import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Scenario, StepConfig } from '../../config/index.js';
import { InfraError } from '../../errors.js';
import type { StepRunInput } from '../types.js';
import { playbookLimits, runPlaybookEntry } from './playbook.js';

const path = process.env.PATH;
const limit = playbookLimits.timeoutMs;
afterEach(() => {
  process.env.PATH = path;
  playbookLimits.timeoutMs = limit;
});

const running = (marker: string) =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').includes(marker);
      } catch {
        return false;
      }
    });

describe('an ansible-playbook that never finishes', () => {
  it('is stopped at its timeout and fails the step as an infrastructure error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-playbook-'));
    const marker = `${Date.now() % 100_000}.25`;
    // A playbook run that hangs, as on a task waiting for a node that never answers.
    const fake = join(dir, 'bin', 'ansible-playbook');
    writeFileSync(join(dir, 'site.yml'), '- hosts: all\n  tasks: []\n');
    mkdirSync(join(dir, 'bin'));
    const startedFile = join(dir, 'started');
    // It says it started, then sleeps for hours (the marker is seconds).
    writeFileSync(fake, `#!/bin/sh\necho $$ > ${startedFile}\nexec sleep ${marker}\n`);
    chmodSync(fake, 0o755);
    process.env.PATH = `${join(dir, 'bin')}:${path ?? ''}`;
    playbookLimits.timeoutMs = 3000;
    const scenario = {
      name: 'unit',
      dir,
      platforms: [],
      driver: { name: 'netns', options: {} },
      dependency: {},
      ansible: { skipTags: [], args: [], env: {}, extraVars: {}, hostVars: {}, groupVars: {} },
    } as unknown as Scenario;
    const input = { scenario, base: { scenario: { name: 'unit', platforms: [], converge: [] }, hosts: [], signal: new AbortController().signal }, events: {}, nodes: {}, targets: () => [], stateDir: join(dir, 'state') } as unknown as StepRunInput;
    const entry = { section: 'converge', index: 0, playbook: 'site.yml', with: {} } as unknown as StepConfig;
    const error = await runPlaybookEntry(input, entry).catch((e: unknown) => e);
    // The fault happened: the playbook started (and would have slept for hours).
    expect(existsSync(startedFile)).toBe(true);
    expect(error).toBeInstanceOf(InfraError);
    expect((error as Error).message).toMatch(/ansible-playbook for step .* did not finish within 3\.0 s; it was stopped/);
    // Stopped, not left running.
    expect(running(`sleep ${marker}`)).toEqual([]);
  }, 60_000);
});
