import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { swarmMolecule } from './support/cli.js';
import { findLeftovers, type Leftovers } from './support/leaks.js';

/**
 * Two projects side by side on this machine (issue 14, item 2): project B has
 * real nodes; project A is given a state file forged to name B's run (its
 * directory, subnet and PIDs) and a PID of an unrelated process. A's `reset`
 * and `destroy` must touch none of it.
 */

const root = mkdtempSync(join(tmpdir(), 'sm-forged-'));
const projectA = join(root, 'a');
const projectB = join(root, 'b');
const stateFile = (project: string) => join(project, '.swarm-molecule', 'default', 'state.json');

function scenario(project: string, node: string): void {
  mkdirSync(join(project, 'scenarios', 'default'), { recursive: true });
  writeFileSync(
    join(project, 'scenarios', 'default', 'scenario.yml'),
    `driver:\n  name: netns\n  options:\n    readyTimeoutSeconds: 900\nplatforms:\n  - name: ${node}\n    groups: [swarm-leader, swarm-manager]\nconverge:\n  - step: swarm/init\nverify:\n  - step: swarm/node-roles\n`,
  );
}

const processSchema = z.object({ pid: z.number(), startTime: z.string() });
const stateSchema = z.object({
  driverState: z.object({
    data: z.object({ runId: z.string(), runDir: z.string(), subnet: z.object({ base: z.string() }) }),
    nodes: z.array(z.object({ name: z.string(), data: z.object({ dir: z.string(), process: processSchema }).loose() }).loose()),
  }),
}).loose();

const startTimeOf = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
};

/** What the machine holds of the given runs (by run id or subnet lease): other engineers' runs are not ours. */
function objectsOf(runIds: string[], subnets: string[]): string[] {
  const found = findLeftovers();
  const ours = (item: string) => runIds.some((id) => item.includes(id)) || subnets.some((base) => item === `${base}.0`);
  return (Object.keys(found) as (keyof Leftovers)[]).flatMap((kind) => found[kind].filter(ours).map((item) => `${kind}: ${item}`));
}

const sleeper = spawn('sleep', ['3600'], { stdio: 'ignore', detached: false });

afterAll(async () => {
  // Whatever happened, B's nodes go (by its own state or its leases), and our sleep.
  if (existsSync(join(projectB, 'scenarios'))) {
    await swarmMolecule(['destroy'], projectB);
    await swarmMolecule(['reset'], projectB);
  }
  if (sleeper.pid !== undefined && sleeper.exitCode === null) process.kill(sleeper.pid, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

describe('a forged state file cannot touch another project', () => {
  it('refuses it; the other project\'s nodes and an unrelated process survive; then nothing of either is left', async () => {
    scenario(projectA, 'fa-node');
    scenario(projectB, 'fb-node');
    const created = await swarmMolecule(['create'], projectB);
    expect(created.exitCode, created.all).toBe(0);
    const b = stateSchema.parse(JSON.parse(readFileSync(stateFile(projectB), 'utf8')));
    const run = b.driverState.data;
    const bNode = b.driverState.nodes[0]!;
    const bPid = bNode.data.process;
    expect(startTimeOf(bPid.pid)).toBe(bPid.startTime);
    const sleepPid = sleeper.pid!;
    const sleepStart = startTimeOf(sleepPid)!;
    expect(sleepStart).toBeDefined();

    const bSurvives = async () => {
      expect(startTimeOf(bPid.pid), 'B\'s node process').toBe(bPid.startTime);
      expect(existsSync(run.runDir) && existsSync(bNode.data.dir), 'B\'s run dir').toBe(true);
      expect(existsSync(`/run/swarm-molecule/subnets/${run.subnet.base}.0`), 'B\'s lease').toBe(true);
      const exec = await swarmMolecule(['exec', '-h', 'fb-node', '--', 'hostname'], projectB);
      expect(exec.exitCode, exec.all).toBe(0);
      expect(exec.stdout.trim()).toBe('fb-node');
      expect(startTimeOf(sleepPid), 'the unrelated sleep').toBe(sleepStart);
    };

    // (1) A names B's state directory through its scenario name.
    const backup = join(root, 'b-state.json');
    copyFileSync(stateFile(projectB), backup);
    const traversal = await swarmMolecule(['reset', '-s', '../../b/.swarm-molecule/default'], projectA);
    // The fault happened: the command was given B's state (it exits 2 on the name once names are checked by the CLI).
    expect(traversal.all).toMatch(/is not a scenario name/);
    if (!existsSync(stateFile(projectB))) {
      // Without the CLI's name check, reset forgets the state file it was pointed at (but destroyed nothing): put it back.
      copyFileSync(backup, stateFile(projectB));
    }
    await bSurvives();

    // (2) A's own state file, forged to name B's run, subnet and node process.
    const forged = JSON.parse(readFileSync(backup, 'utf8')) as { driverState: { nodes: Record<string, unknown>[] } };
    mkdirSync(join(projectA, '.swarm-molecule', 'default'), { recursive: true });
    writeFileSync(stateFile(projectA), JSON.stringify(forged));
    const destroyB = await swarmMolecule(['destroy'], projectA);
    expect(destroyB.exitCode, destroyB.all).toBe(2);
    expect(destroyB.all).toContain(`The state file ${stateFile(projectA)} names something that swarm-molecule did not make`);
    expect(destroyB.all).toMatch(/at "driverState\.data\.subnet": [\d.]+\.0\/24 is leased to another run/);
    expect(destroyB.all).toContain('swarm-molecule reset -s default');
    await bSurvives();
    const resetB = await swarmMolecule(['reset'], projectA);
    expect(resetB.all).toMatch(/driverState\.data\.subnet/);
    await bSurvives();

    // (3) A run of A's own (unleased id and subnet) whose node PID is the unrelated sleep.
    const fakeId = 'f0f0f0';
    const fakeBase = '10.213.254';
    const fake = {
      ...forged,
      driverState: {
        data: { runId: fakeId, runDir: `/var/lib/swarm-molecule/${fakeId}`, subnet: { base: fakeBase, gateway: `${fakeBase}.1`, prefixLength: 24 } },
        nodes: [{
          name: 'fa-node', host: `${fakeBase}.11`, port: 22, user: 'root', identityFile: join(projectA, '.swarm-molecule', 'default', 'ssh', 'id_ed25519'),
          data: { index: 0, netns: `sm-${fakeId}-fa-node`, veth: `smv-${fakeId}-0`, dir: `/var/lib/swarm-molecule/${fakeId}/fa-node`, cgroup: `/sm-${fakeId}-fa-node`, process: { pid: sleepPid, startTime: sleepStart } },
        }],
      },
    };
    writeFileSync(stateFile(projectA), JSON.stringify(fake));
    const destroySleep = await swarmMolecule(['destroy'], projectA);
    expect(destroySleep.exitCode, destroySleep.all).toBe(2);
    expect(destroySleep.all).toContain(`at "driverState.nodes.0.data.process": PID ${sleepPid} is a process that swarm-molecule did not start`);
    const resetSleep = await swarmMolecule(['reset'], projectA);
    expect(resetSleep.all).toMatch(/PID \d+ is a process that swarm-molecule did not start/);
    await bSurvives();

    // B's own destroy still works, and nothing of either project is left.
    const destroyed = await swarmMolecule(['destroy'], projectB);
    expect(destroyed.exitCode, destroyed.all).toBe(0);
    expect(objectsOf([run.runId, fakeId], [run.subnet.base, fakeBase])).toEqual([]);
    expect(existsSync(run.runDir)).toBe(false);
    expect(startTimeOf(sleepPid)).toBe(sleepStart);
  }, 1_800_000);
});
