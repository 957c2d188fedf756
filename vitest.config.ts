import { defineConfig } from 'vitest/config';

// Unit tests are pure and fast (`npm run test:fast`); integration tests start real
// PostgreSQL servers and processes, so they get longer timeouts and fewer workers.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          // test/<layer>/ mirrors src/<layer>/: in-process tests of one module each.
          include: [
            'test/unit/**/*.test.ts',
            'test/{cli,config,core,fleet,state,pipeline,providers,image,ci,layering}/**/*.test.ts',
          ],
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
      'examples/startupwebapp',
    ],
  },
});
