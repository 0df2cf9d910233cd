import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cgroups, findLeftovers, leftoversSince } from '../support/leaks.js';

const runId = () => Math.random().toString(16).slice(2, 8).padEnd(6, '0');

describe('the e2e leak check', () => {
  it('counts only the objects of the runs its test created, not those another run makes meanwhile', () => {
    const project = mkdtempSync(join(tmpdir(), 'sm-leakcheck-'));
    const ours = runId();
    const theirs = runId();
    const before = findLeftovers([project]);
    // Our test's run: its state file names its run id; it leaves a namespace behind.
    mkdirSync(join(project, '.swarm-molecule', 'default'), { recursive: true });
    writeFileSync(join(project, '.swarm-molecule', 'default', 'state.json'), JSON.stringify({ driverState: { nodes: [], data: { runId: ours } } }));
    // Another run, live on the machine at the same time (another scenario, another checkout).
    const namespaces = [`sm-${ours}-n1`, `sm-${theirs}-n1`];
    try {
      for (const ns of namespaces) execFileSync('ip', ['netns', 'add', ns]);
      const leftovers = leftoversSince(before);
      expect(leftovers.namespaces).toEqual([`sm-${ours}-n1`]);
    } finally {
      for (const ns of namespaces) execFileSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('finds sm-* cgroups at the top of a pure cgroup-v2 hierarchy and in each v1 hierarchy', () => {
    const root = mkdtempSync(join(tmpdir(), 'sm-cgroupfs-'));
    try {
      mkdirSync(join(root, 'sm-aaaaaa-n1'));
      mkdirSync(join(root, 'system.slice'));
      mkdirSync(join(root, 'memory', 'sm-bbbbbb-n1'), { recursive: true });
      expect(cgroups(root).sort()).toEqual([join(root, 'memory', 'sm-bbbbbb-n1'), join(root, 'sm-aaaaaa-n1')]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
