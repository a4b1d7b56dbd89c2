import {defineConfig} from 'vitest/config'

/**
 * Test files that run alone, after the rest: multi-process clusters on etcd (three brokers each),
 * and the tests that SIGKILL or SIGSTOP processes and then wait for sessions to expire. Their
 * deadlines are sized for a quiet 2-core machine; beside another such file they would only measure
 * the contention. Everything else — unit tests, and end-to-end tests of one broker with a client —
 * mostly waits on sockets and child processes, and runs two files at a time.
 */
const ISOLATED = [
  'test/e2e/cluster-*.test.ts',
  'test/commands/cluster/up.test.ts',
  'test/e2e/connect-distributed.test.ts',
  'test/e2e/broker-durability.test.ts',
  'test/e2e/transactions-crash.test.ts',
  'test/e2e/partition-scale.test.ts',
  'test/streams/multi-instance.test.ts',
  'test/streams/word-count-eos.test.ts',
]

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {extends: true, test: {name: 'shared', include: ['test/**/*.test.ts'], exclude: ISOLATED, maxWorkers: 2, sequence: {groupOrder: 0}}},
      {extends: true, test: {name: 'isolated', include: ISOLATED, fileParallelism: false, sequence: {groupOrder: 1}}},
    ],
  },
})
