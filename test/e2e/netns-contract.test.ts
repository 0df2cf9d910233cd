import { z } from 'zod';
import { driverFor } from '../../src/drivers/index.js';
import { driverContract, nodeOf, onDockerDisk } from '../drivers/contract.js';
import { findLeftovers, type Leftovers } from './support/leaks.js';

/** The few netns facts the suite reads from the state: parsed, as anything read back is. */
const runSchema = z.object({ runId: z.string(), subnet: z.object({ base: z.string() }) });
const nodeSchema = z.object({ process: z.object({ pid: z.number() }).optional() });

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
    const pid = nodeSchema.parse(nodeOf(state, name).data).process?.pid;
    if (pid !== undefined) process.kill(pid, 'SIGKILL');
    return Promise.resolve();
  },
  ...onDockerDisk,
}));
