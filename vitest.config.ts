import {configDefaults, defineConfig} from 'vitest/config'

/**
 * Test files that share one process, one after another (no module re-import per file): their
 * 1–2 s of imports per file were 40% of their time (test/lib + test/server: 170 s isolated, 91 s
 * shared; test/commands 101 -> 74 s; test/streams 78 -> 71 s). The end-to-end tests, which spawn
 * brokers, clusters, Connect workers and PostgreSQL, keep a process each.
 */
const SHARED_PROCESS = ['test/lib/**/*.test.ts', 'test/server/**/*.test.ts', 'test/commands/**/*.test.ts', 'test/streams/**/*.test.ts']

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {extends: true, test: {name: 'unit', include: SHARED_PROCESS, isolate: false}},
      {extends: true, test: {name: 'e2e', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...SHARED_PROCESS]}},
    ],
  },
})
