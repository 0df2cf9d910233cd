import { z } from 'zod';
import { driverFor, type DriverState, type NodeRecord } from '../../src/drivers/index.js';
import { SshConnection } from '../../src/transport/index.js';
import { driverContract } from '../drivers/contract.js';
import { findLeftovers, type Leftovers } from './support/leaks.js';

/** The few netns facts the suite reads from the state: parsed, as anything read back is. */
const runSchema = z.object({ runId: z.string(), subnet: z.object({ base: z.string() }) });
const nodeSchema = z.object({ process: z.object({ pid: z.number() }).optional() });

function node(state: DriverState, name: string): NodeRecord {
  const found = state.nodes.find((n) => n.name === name);
  if (!found) throw new Error(`no node ${name} in the state`);
  return found;
}

async function onNode(state: DriverState, name: string, script: string, ...args: string[]): Promise<{ stdout: string; exitCode: number }> {
  const connection = new SshConnection(node(state, name), { timeoutMs: 30_000 });
  try {
    return await connection.run(['sh', '-c', script, 'sh', ...args], { timeoutMs: 30_000 });
  } finally {
    connection.close();
  }
}

// The node's disk as Docker sees it: the same on every driver, whatever the node's root filesystem.
const onDisk = '"$(docker info --format "{{.DockerRootDir}}")/$1"';

driverContract('netns (real nodes)', async () => ({
  driver: await driverFor('netns'),
  options: {},
  // What the leak checks find that names the run (by id, or its subnet's lease): other runs on the machine are not ours.
  objectsOf: (state) => {
    const run = runSchema.parse(state.data);
    const ours = (item: string) => item.includes(run.runId) || item === `${run.subnet.base}.0`;
    const found = findLeftovers();
    return Promise.resolve((Object.keys(found) as (keyof Leftovers)[]).flatMap((kind) => found[kind].filter(ours).map((item) => `${kind}: ${item}`)).sort());
  },
  crash: (state, name) => {
    const pid = nodeSchema.parse(node(state, name).data).process?.pid;
    if (pid !== undefined) process.kill(pid, 'SIGKILL');
    return Promise.resolve();
  },
  writeOnNode: async (state, name, path, content) => {
    const result = await onNode(state, name, `printf %s "$2" > ${onDisk}`, path, content);
    if (result.exitCode !== 0) throw new Error(`could not write ${path} on ${name}`);
  },
  readOnNode: async (state, name, path) => {
    const result = await onNode(state, name, `cat ${onDisk}`, path);
    return result.exitCode === 0 ? result.stdout : undefined;
  },
}));
