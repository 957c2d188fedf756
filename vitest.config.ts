import { defineConfig } from 'vitest/config';

// Unit tests are in-process and fast (`npm run test:fast`, no build needed); integration
// tests start real PostgreSQL servers, processes and containers, so they get longer timeouts
// and fewer workers; the slow project holds the 50-tenant fleets; the emulator project talks
// to one shared AWS emulator, one file at a time.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          setupFiles: ['test/support/cleanup.ts'],
          // test/<layer>/ mirrors src/<layer>/: in-process tests of one module each.
          include: ['test/**/*.test.ts'],
          exclude: ['test/integration/**', 'test/slow/**', 'test/emulator/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          setupFiles: ['test/support/cleanup.ts'],
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // Fleets of 50 tenants on real PostgreSQL: minutes, not seconds. `npm run test:slow`;
        // .ci/run runs it after `npm run check`.
        test: {
          name: 'slow',
          setupFiles: ['test/support/cleanup.ts'],
          include: ['test/slow/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          pool: 'forks',
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
      {
        // berth's AWS commands, run as a user would (the built CLI as a child process) against
        // the AWS emulator (moto, `../shared/aws-emulator.sh`). One file at a time: they share
        // the emulator and reset it. Not in `npm test` (minutes); `npm run test:emulator`, and .ci/run. ECS tasks are polled every 5 s, hence the long timeouts.
        test: {
          name: 'emulator',
          setupFiles: ['test/support/cleanup.ts'],
          include: ['test/emulator/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          pool: 'forks',
          maxWorkers: 1,
          fileParallelism: false,
          sequence: { groupOrder: 3 },
        },
      },
      'examples/startupwebapp',
    ],
  },
});
