import { afterAll } from 'vitest';
import { z } from 'zod';
import { driverFor } from '../../../src/drivers/index.js';
import { driverContract, nodeOf, onDockerDisk } from '../../drivers/contract.js';
import { objectsOn, startTestEngine, type TestEngine } from './support/engine.js';

/** The few docker facts the suite reads from the state: parsed, as anything read back is. */
const runSchema = z.object({ runId: z.string() });
const nodeSchema = z.object({ container: z.string() });

let engine: TestEngine | undefined;
afterAll(async () => {
  await engine?.stop();
});

driverContract('docker (real engine)', async () => {
  engine = await startTestEngine();
  const docker = engine.docker;
  // The driver finds the engine as the docker CLI would.
  process.env.DOCKER_HOST = `unix://${engine.socket}`;
  return {
    driver: await driverFor('docker'),
    // This machine's engine cannot make privileged containers (no CAP_SYS_RESOURCE).
    options: { privileged: false },
    // What is on the engine that carries the run's id: its network, containers and volumes.
    objectsOf: async (state) => {
      const run = runSchema.parse(state.data);
      return (await objectsOn(docker)).filter((item) => item.includes(run.runId));
    },
    crash: async (state, name) => {
      await docker.getContainer(nodeSchema.parse(nodeOf(state, name).data).container).kill({ signal: 'SIGKILL' });
    },
    ...onDockerDisk,
  };
});
