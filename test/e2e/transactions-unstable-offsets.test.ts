/**
 * KIP-447 with confluent-kafka-python (librdkafka 2.0): OffsetFetch's requireStable. A
 * read_committed consumer that takes over a partition while an open transaction holds offsets for
 * it starts where the transaction committed, not at the offset committed before it (the records
 * in between would be processed twice — a consume-transform-produce chain consuming more than was
 * committed). Before UNSTABLE_OFFSET_COMMIT, the consumer started at offset 4.
 */
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {TestBroker} from './harness.js'
import {confluentPythonMissing, PYTHON, PYTHON_DIR, run, stopAllPeers} from './peers.js'
import {startTxnBroker} from './transactions-support.js'

describe.skipIf(confluentPythonMissing !== null)('OffsetFetch requireStable (confluent-kafka-python)', () => {
  let tb: TestBroker

  beforeAll(async () => {
    tb = await startTxnBroker()
  })

  afterAll(async () => {
    stopAllPeers()
    await tb?.stop()
  })

  it('a read_committed consumer waits for the open transaction\'s offsets and starts at them', async () => {
    const result = await run(PYTHON, [join(PYTHON_DIR, 'txn_unstable_offsets.py'), tb.bootstrap, 'unstable', 'unstable-group'], {timeoutMs: 60_000})
    expect(result.timedOut, result.stderr).toBe(false)
    expect(result.code, result.stderr).toBe(0)
    const out = JSON.parse(result.stdout.toString()) as {first_offset: number | null; offsets: number[]}
    expect(out.offsets).toEqual([10, 11])
  }, 90_000)
})
