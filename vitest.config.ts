import { defineConfig } from 'vitest/config';

// Unit tests are in-process and fast (`npm run test:fast`, no build needed); integration
// tests start real PostgreSQL servers, processes and containers, so they get longer timeouts
// and fewer workers; the slow project holds the 50-tenant fleets.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          // test/<layer>/ mirrors src/<layer>/: in-process tests of one module each.
          include: [
            'test/{cli,config,core,fleet,state,pipeline,providers,image,ci,migrations,layering}/**/*.test.ts',
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
      {
        // Fleets of 50 tenants on real PostgreSQL: minutes, not seconds. `npm run test:slow`;
        // .ci/run runs it after `npm run check`.
        test: {
          name: 'slow',
          include: ['test/slow/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          pool: 'forks',
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
      'examples/startupwebapp',
    ],
  },
});
