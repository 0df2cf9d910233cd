import { driverContract } from '../../../test/drivers/contract.js';
import { fakeDriver, FakeMachine } from './index.js';

/** The fake's node data is `{ id }`, its key on the machine. */
const idOf = (state: { nodes: { name: string; data: Record<string, unknown> }[] }, name: string) => String(state.nodes.find((n) => n.name === name)?.data.id);

driverContract('fake (in memory)', () => {
  const machine = new FakeMachine();
  return {
    driver: fakeDriver(machine),
    options: {},
    objectsOf: (state) => Promise.resolve(machine.objectsOf(String(state.data.runId))),
    crash: (state, node) => {
      const found = machine.nodes.get(idOf(state, node));
      if (found) found.running = false;
      return Promise.resolve();
    },
    writeOnNode: (state, node, path, content) => {
      machine.nodes.get(idOf(state, node))?.disk.set(path, content);
      return Promise.resolve();
    },
    readOnNode: (state, node, path) => Promise.resolve(machine.nodes.get(idOf(state, node))?.disk.get(path)),
  };
});
