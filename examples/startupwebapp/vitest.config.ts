import { defineConfig } from 'vitest/config';

// Used standalone (`npm test` in this folder) and as the 'startupwebapp' project of the repo
// root's vitest config. Integration tests spawn the built dist/ files against a real
// PostgreSQL 16, so timeouts are generous and the global setup builds and starts both once.
export default defineConfig({
  test: {
    name: 'startupwebapp',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
