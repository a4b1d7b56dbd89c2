import {configDefaults, defineConfig} from 'vitest/config'

/**
 * Two projects: 'unit', whose files can share one process (npm test runs them with --no-isolate:
 * their 1-2 s of imports per file were 40% of their time), and 'e2e', which spawns brokers,
 * clusters, Connect workers and PostgreSQL and keeps a process per file. Vitest 3 sets isolation
 * for a whole run, not per project, so scripts/test.sh runs the two as separate vitest runs, at the
 * same time (KCLI_TEST_SERIAL=1: one after the other).
 */
const SHARED_PROCESS = ['test/lib/**/*.test.ts', 'test/server/**/*.test.ts', 'test/commands/**/*.test.ts', 'test/streams/**/*.test.ts']

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {extends: true, test: {name: 'unit', include: SHARED_PROCESS}},
      {extends: true, test: {name: 'e2e', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...SHARED_PROCESS]}},
    ],
  },
})
