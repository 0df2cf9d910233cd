import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { repoRoot, swarmMolecule } from '../support/cli.js';
import { processesOf, runNamespaces } from '../support/processes.js';
import { findLeftovers, leftoversSince, NOTHING_LEFT, type Leftovers } from '../support/leaks.js';
import { until } from '../support/until.js';

const project = (name: string) => join(repoRoot, 'fixtures', 'projects', name);
const small = project('small');
/** The small scenario with a verify step that takes a few seconds, so a signal can land in it. */
const slow = project('slow-verify');
const stateFile = (dir: string) => join(dir, '.swarm-molecule', 'default', 'state.json');
const readState = (dir: string) => JSON.parse(readFileSync(stateFile(dir), 'utf8')) as Record<string, unknown>;

/** Start `test` and send `signals` once the output shows the n-th header of `action`. */
async function interruptAt(action: string, occurrence: number, signals: NodeJS.Signals[], report: string) {
  const run = swarmMolecule(['test', '--junit', report], slow);
  let seen = '';
  let sentAt = 0;
  await new Promise<void>((resolve) => {
    run.all?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (sentAt === 0 && seen.split(`── ${action}`).length - 1 >= occurrence) {
        sentAt = performance.now();
        void (async () => {
          for (const signal of signals) {
            run.kill(signal);
            await new Promise((r) => setTimeout(r, 100));
          }
        })();
        resolve();
      }
    });
    void run.then(() => resolve());
  });
  const result = await run;
  return { result, stopMs: performance.now() - sentAt };
}

/** The network namespaces (by inode) of the nodes the state of `project` names. */
function ourNodeNamespaces(project: string): Set<number> {
  try {
    const state = JSON.parse(readFileSync(stateFile(project), 'utf8')) as { driverState?: { data?: { runId?: string } } };
    return runNamespaces(state.driverState?.data?.runId);
  } catch {
    return new Set(); // no state yet
  }
}

/** Command lines holding a join token, of processes in `namespaces` or descended from `root`. */
function tokensInProcessesOf(root: number, namespaces: Set<number>): string[] {
  return processesOf(root, namespaces)
    .filter((r) => r.args.includes('SWMTKN'))
    .map((r) => `${r.pid} ${r.args}`);
}

describe('faults, interrupts and bad state (real nodes)', () => {
  let before: Leftovers;
  beforeEach(() => {
    before = findLeftovers();
    // Each test starts from no state; the previous one checked it left no nodes.
    for (const dir of [small, project('node-dies'), project('slow-verify')]) rmSync(join(dir, '.swarm-molecule'), { recursive: true, force: true });
  });
  afterEach(() => {
    expect(leftoversSince(before)).toEqual(NOTHING_LEFT);
  });

  const points: [string, number][] = [
    ['create', 1],
    ['converge', 1],
    ['idempotence', 1],
    ['verify', 1],
    ['destroy', 2],
  ];
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const [action, occurrence] of points) {
      it(`${signal} during ${action}: stops, destroys, writes the report and the state, exits non-zero`, async () => {
        const report = join(slow, '.swarm-molecule', `interrupt-${action}.xml`);
        const { result, stopMs } = await interruptAt(action, occurrence, [signal], report);
        if (action === 'destroy') {
          // The fault happened: the signal landed while destroy still ran (before its last node
          // was destroyed), not after the run had finished; the cleanup went on to the end.
          const header = result.all.split('── destroy').slice(0, 2).join('── destroy').length;
          const landed = result.all.indexOf(`${signal}: stopping the current step`, header);
          const lastDestroyed = [...result.all.matchAll(/destroyed$/gm)].at(-1)?.index ?? -1;
          expect(landed, result.all).toBeGreaterThan(header);
          expect(landed, result.all).toBeLessThan(lastDestroyed);
        }
        expect(result.exitCode, result.all).toBe(130);
        // Bounded, not timed: the run must not hang on the way out.
        expect(stopMs).toBeLessThan(60_000);
        expect(result.all).toMatch(/^ {2}destroy\s+passed/m);
        expect(readState(slow)).toMatchObject({ created: false });
        expect(readFileSync(report, 'utf8')).toMatch(/<testsuites /);
      });
    }
  }

  it('a second Ctrl-C abandons the cleanup out loud, and destroy finishes the job', async () => {
    const report = join(slow, '.swarm-molecule', 'interrupt-twice.xml');
    const { result } = await interruptAt('verify', 1, ['SIGINT', 'SIGINT'], report);
    expect(result.exitCode, result.all).toBe(130);
    expect(result.all).toMatch(/SIGINT again: abandoning the cleanup/);
    // Either the cleanup finished before the second signal, or the run says what is left.
    if (!/^ {2}destroy\s+passed/m.test(result.all.split('SUMMARY')[1] ?? '')) {
      expect(result.all).toMatch(/still exist .* Remove them with "swarm-molecule destroy -s default"/);
    }
    const destroy = await swarmMolecule(['destroy'], slow);
    expect(destroy.exitCode, destroy.all).toBe(0);
  });

  it('a node whose dockerd dies mid-converge fails the run as an infrastructure error naming the node', async () => {
    const result = await swarmMolecule(['test'], project('node-dies'));
    expect(result.exitCode, result.all).toBe(3);
    // Asked through the Engine API (or the CLI where the socket is not forwarded): the same fault either way.
    expect(result.all).toMatch(/dockerd on dies-worker does not answer \(while (running "docker info|asking "GET \/info")/);
    expect(result.all).toMatch(/^ {2}destroy\s+passed/m);
  });

  it('a corrupt state file gets a clear message; reset cleans up what it can find and the next run passes', async () => {
    expect((await swarmMolecule(['create'], small)).exitCode).toBe(0);
    writeFileSync(stateFile(small), '{ this is not json');
    const broken = await swarmMolecule(['converge'], small);
    expect(broken.exitCode).toBe(2);
    expect(broken.all).toMatch(/state file .* is corrupt/);
    expect(broken.all).toMatch(/swarm-molecule reset -s default/);
    expect(broken.all).not.toMatch(/\n\s+at /); // no stack trace
    const reset = await swarmMolecule(['reset'], small);
    expect(reset.exitCode, reset.all).toBe(0);
    expect(reset.all).toMatch(/swept netns run \w+: \d+ process\(es\), 2 namespace\(s\)/);
    // The nodes the corrupt state lost track of are gone: checked by afterEach.
  });

  it('a state file from another version is refused with the same advice', async () => {
    mkdirSync(dirname(stateFile(small)), { recursive: true });
    writeFileSync(stateFile(small), JSON.stringify({ version: 0, nodes: [] }));
    const result = await swarmMolecule(['verify'], small);
    expect(result.exitCode).toBe(2);
    expect(result.all).toMatch(/from another version of swarm-molecule/);
    expect((await swarmMolecule(['reset'], small)).exitCode).toBe(0);
  });

  it('the same scenario started twice: the second refuses, the first is unharmed', async () => {
    const first = swarmMolecule(['test'], small);
    // The second starts once the first holds the scenario's lock (its holder file names its pid),
    // not after a pause that a loaded machine may outlast before the first gets there.
    const lock = join(small, '.swarm-molecule', 'default', 'lock');
    const holds = () => {
      try {
        return readdirSync(lock).some((f) => f.startsWith(`holder-${first.pid}-`));
      } catch {
        return false; // no lock yet
      }
    };
    expect(await until(holds, 120_000, 100)).toBe(true);
    const second = await swarmMolecule(['test'], small);
    expect(second.exitCode).toBe(2);
    expect(second.all).toMatch(new RegExp(`Scenario "default" is in use by another swarm-molecule \\(pid ${first.pid}: .*swarm-molecule`));
    const result = await first;
    expect(result.exitCode, result.all).toBe(0);
  });

  it('keeps secrets secret: no token or private key in output, logs, reports or state; keys 0600; no route out', async () => {
    const report = join(small, '.swarm-molecule', 'secrets.xml');
    const json = join(small, '.swarm-molecule', 'secrets.json');
    // The host's process list, sampled while the nodes join: a token must never be an
    // argument of a process of this run (in its nodes' namespaces, or the harness's own tree).
    // Other runs on the machine (other checkouts) are not this test's to judge.
    const running = swarmMolecule(['converge', '-v', '--junit', report, '--json', json], small);
    const harness = running.pid ?? -1;
    const samples: string[][] = [];
    let done = false;
    void running.finally(() => (done = true));
    while (!done) {
      samples.push(tokensInProcessesOf(harness, ourNodeNamespaces(small)));
      await new Promise((r) => setTimeout(r, 50));
    }
    const converge = await running;
    try {
      expect(converge.exitCode, converge.all).toBe(0);
      // The joins happened while we sampled.
      expect(converge.all).toMatch(/swarm: inactive → worker/);
      expect(samples.length).toBeGreaterThan(10);
      expect(samples.flat()).toEqual([]);
      for (const node of ['small-manager', 'small-worker']) {
        const route = await swarmMolecule(['exec', '-h', node, '--', 'ip', 'route', 'show', 'default'], small);
        expect(route.exitCode).toBe(0);
        expect(route.stdout).toBe('');
        const out = await swarmMolecule(['exec', '-h', node, '--', 'ip', 'route', 'get', '192.0.2.1'], small);
        expect(out.all).toMatch(/unreachable/i);
      }
      const key = join(small, '.swarm-molecule', 'default', 'ssh', 'id_ed25519');
      expect(statSync(key).mode & 0o777).toBe(0o600);
      const privateKey = readFileSync(key, 'utf8').split('\n')[1] ?? 'missing';
      const logs = join(small, '.swarm-molecule', 'default', 'logs');
      const everything = [converge.all, readFileSync(stateFile(small), 'utf8'), readFileSync(report, 'utf8'), readFileSync(json, 'utf8'), ...readdirSync(logs).map((f) => readFileSync(join(logs, f), 'utf8'))].join('\n');
      // The tokens came in the answer of GET /swarm (Engine API), masked before it was logged.
      expect(everything).toMatch(/\$ docker-api GET \/swarm\n.*"JoinTokens":\{"Worker":"\*{8}","Manager":"\*{8}"\}/);
      expect(everything).not.toMatch(/SWMTKN-/);
      expect(everything).not.toContain(privateKey);
    } finally {
      expect((await swarmMolecule(['destroy'], small)).exitCode).toBe(0);
    }
  });
});
