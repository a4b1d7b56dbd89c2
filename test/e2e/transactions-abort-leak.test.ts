/**
 * Issue 12, the safety bug: aborted records reached read_committed consumers. A kafkajs
 * transactional producer aborts transaction after transaction while read_committed kafkajs
 * consumers poll the same topic; they must be handed none of the aborted records. Before the fix
 * (every change a fetch observes published in one step), this short form leaked dozens of records
 * in every run. The long form is bench/transactions/abort-leak.ts.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runAbortLeakScenario} from './abort-leak-scenario.js'
import type {TestBroker} from './harness.js'
import {kafkaFor, startTxnBroker} from './transactions-support.js'

describe('read_committed never sees aborted records (kafkajs)', () => {
  let tb: TestBroker

  beforeAll(async () => {
    tb = await startTxnBroker()
  }, 30_000)

  afterAll(async () => {
    await tb?.stop()
  })

  it('hands 0 of 6,000 aborted records to consumers polling while the producer aborts', async () => {
    const result = await runAbortLeakScenario(kafkaFor(tb.bootstrap, 'abort-leak'), {
      topic: 'abort-leak',
      partitions: 2,
      rounds: 30,
      recordsPerTxn: 200,
      consumers: 2,
      timeoutMs: 60_000,
    })
    expect(result.consumersFinished).toBe(2)
    expect(result.abortedRecordsSeen).toBe(0)
  }, 90_000)
})
