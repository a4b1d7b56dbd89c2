/**
 * Issue 7 acceptance with confluent-kafka-python (librdkafka): transactional producer commit and
 * abort, read back with isolation.level=read_committed (exactly the committed records, in
 * order) and read_uncommitted (everything; librdkafka drops the control records).
 */
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {TestBroker} from './harness.js'
import {confluentPythonMissing, PYTHON, PYTHON_DIR, run, stopAllPeers} from './peers.js'
import {startTxnBroker} from './transactions-support.js'

describe.skipIf(confluentPythonMissing !== null)('confluent-kafka-python transactions', () => {
  let tb: TestBroker

  beforeAll(async () => {
    tb = await startTxnBroker()
  })

  afterAll(async () => {
    stopAllPeers()
    await tb?.stop()
  })

  it('commits and aborts; read_committed sees exactly the committed records', async () => {
    const result = await run(PYTHON, [join(PYTHON_DIR, 'txn_produce_consume.py'), tb.bootstrap, 'txn-py', '9', '20'], {timeoutMs: 90_000})
    expect(result.timedOut, result.stderr).toBe(false)
    expect(result.code, result.stderr).toBe(0)
    const out = JSON.parse(result.stdout.toString()) as {committed: string[]; all: string[]; read_committed: string[]; read_uncommitted: string[]}
    expect(out.committed).toHaveLength(120)
    expect(out.read_committed).toEqual(out.committed)
    expect(out.read_uncommitted).toEqual(out.all)
  }, 120_000)
})
