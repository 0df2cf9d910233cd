import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './test/support/closing-line-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          // Every temporary file of the run under one TMPDIR, removed at the end.
          globalSetup: ['test/support/temp-dir.ts'],
          // Some unit tests load step modules or run ssh-keygen: seconds when the shared machine is busy.
          testTimeout: 60_000,
        },
      },
      {
        // Real nodes: one scenario at a time (the machine has 2 cores), generous timeouts.
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          exclude: ['test/e2e/vagrant/**', 'test/e2e/faults/**', 'test/e2e/docker/**', 'test/e2e/chaos/**', 'test/e2e/workloads/**', 'test/e2e/molecule/**'],
          fileParallelism: false,
          globalSetup: ['test/e2e/support/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 300_000,
        },
      },
      {
        // Slow fault suites: interrupts at every action, node deaths, bad state, leaks.
        test: {
          name: 'faults',
          include: ['test/e2e/faults/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 900_000,
          hookTimeout: 300_000,
          globalSetup: ['test/e2e/support/global-setup.ts'],
        },
      },
      {
        // Chaos on real nodes: partitions, quorum loss, election measurements (netns driver).
        test: {
          name: 'chaos',
          include: ['test/e2e/chaos/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 900_000,
          hookTimeout: 300_000,
          globalSetup: ['test/e2e/support/global-setup.ts'],
        },
      },
      {
        // Workloads on real nodes: stacks, secrets, configs; one set of nodes for all the cases of a file.
        test: {
          name: 'workloads',
          include: ['test/e2e/workloads/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 300_000,
          globalSetup: ['test/e2e/support/global-setup.ts'],
        },
      },
      {
        // Molecule migration parity on real nodes: a Galaxy-style role and its Molecule files, unchanged.
        test: {
          name: 'molecule',
          include: ['test/e2e/molecule/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 1_200_000,
          hookTimeout: 300_000,
          globalSetup: ['test/e2e/support/global-setup.ts'],
        },
      },
      {
        // Real Vagrant with its docker provider. The first run on a machine builds
        // the node image (about a minute; cached under /var/cache/swarm-molecule).
        test: {
          name: 'vagrant',
          include: ['test/e2e/vagrant/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 1_200_000,
          hookTimeout: 300_000,
          globalSetup: ['test/e2e/support/global-setup.ts'],
        },
      },
      {
        // The docker driver on a real engine: the project's own dockerd in a network
        // namespace with no route out (test/e2e/docker/support/engine.ts).
        test: {
          name: 'docker',
          include: ['test/e2e/docker/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 900_000,
          hookTimeout: 300_000,
          globalSetup: ['test/e2e/support/global-setup.ts'],
        },
      },
    ],
  },
});
