import { defineConfig } from 'vitest/config';

// Unit tests are pure and fast (`npm run test:fast`); integration tests start real
// PostgreSQL servers and processes, so they get longer timeouts and fewer workers; the
// emulator tests talk to one shared AWS emulator, one file at a time.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // berth's AWS commands, run as a user would (the built CLI as a child process) against
        // the AWS emulator (moto, `../shared/aws-emulator.sh`). One file at a time: they share
        // the emulator and reset it. ECS tasks are polled every 5 s, hence the long timeouts.
        test: {
          name: 'emulator',
          include: ['test/emulator/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          pool: 'forks',
          maxWorkers: 1,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
      'examples/startupwebapp',
    ],
  },
});
