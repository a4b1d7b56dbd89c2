/**
 * Issue 7 acceptance: broker SIGKILL mid-transaction and restart. The transaction left open is
 * recovered from __transaction_state as Ongoing and aborted once its timeout passes (the
 * coordinator checks every 10 s, Kafka's default), the LSO then moves past it, and a
 * read_committed consumer that was waiting gets the records produced after it (it does not hang).
 */
import {rmSync} from 'node:fs'
import {afterAll, describe, expect, it} from 'vitest'
import {tempDir} from './harness.js'
import {kafkaFor, readValues, spawnTxnBroker, type TxnBrokerProcess} from './transactions-support.js'

describe('broker SIGKILL mid-transaction', () => {
  const dataDir = tempDir('kcli-txn-crash-')
  let broker: TxnBrokerProcess | undefined

  afterAll(async () => {
    await broker?.kill('SIGKILL')
    rmSync(dataDir, {recursive: true, force: true})
  })

  it('aborts the open transaction on timeout after restart; the LSO advances; read_committed does not hang', async () => {
    broker = await spawnTxnBroker(dataDir)
    let kafka = kafkaFor(broker.bootstrap)
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic: 'txn-crash', numPartitions: 1}]})
    await admin.disconnect()
    const producer = kafka.producer({transactionalId: 'tx-crash', idempotent: true, maxInFlightRequests: 1, transactionTimeout: 3000, retry: {retries: 1}})
    await producer.connect()
    const done = await producer.transaction()
    await done.send({topic: 'txn-crash', messages: [1, 2, 3, 4, 5].map((i) => ({value: `c-${i}`}))})
    await done.commit() // offsets 0-4, COMMIT marker at 5
    const open = await producer.transaction()
    await open.send({topic: 'txn-crash', messages: [1, 2, 3, 4, 5].map((i) => ({value: `o-${i}`}))}) // 6-10, left open
    await broker.kill('SIGKILL')
    await producer.disconnect().catch(() => undefined)

    const restartedAt = Date.now()
    broker = await spawnTxnBroker(dataDir)
    kafka = kafkaFor(broker.bootstrap)
    const admin2 = kafka.admin()
    await admin2.connect()
    const lsoNow = (await admin2.fetchTopicOffsets('txn-crash'))[0]!.offset
    // A read_committed consumer starts while the transaction is still open...
    const reading = readValues(broker.bootstrap, 'txn-crash', {readUncommitted: false, expected: 6, timeoutMs: 40_000})
    const plain = kafka.producer()
    await plain.connect()
    await plain.send({topic: 'txn-crash', messages: [{value: 'after'}]}) // offset 11
    await plain.disconnect()
    let lso = lsoNow
    while (Date.now() - restartedAt < 40_000 && lso !== '13') {
      await new Promise((r) => setTimeout(r, 250))
      lso = (await admin2.fetchTopicOffsets('txn-crash'))[0]!.offset
    }
    const abortedAfterMs = Date.now() - restartedAt
    await admin2.disconnect()
    // ...and gets the committed records and the one after the aborted transaction.
    expect(await reading).toEqual(['c-1', 'c-2', 'c-3', 'c-4', 'c-5', 'after'])
    expect(lsoNow).toBe('6')
    expect(lso).toBe('13') // ABORT marker at 12
    expect(abortedAfterMs).toBeLessThan(25_000)
    console.log(`open transaction aborted ${abortedAfterMs} ms after the restart`)
  }, 90_000)
})
