/**
 * Issue 7 acceptance with kafkajs 2.2.4: a transactional producer commits and aborts; a
 * read_committed consumer sees exactly the committed records, in order; read_uncommitted sees
 * all of them (control records never reach the application). Zombie fencing: a second producer
 * with the same transactional.id fences the first. An open transaction holds the LSO back
 * (ListOffsets read_committed) until the coordinator aborts it on timeout.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {TestBroker} from './harness.js'
import {kafkaFor, readValues, startTxnBroker} from './transactions-support.js'

describe('kafkajs transactions', () => {
  let tb: TestBroker

  beforeAll(async () => {
    tb = await startTxnBroker()
    const admin = kafkaFor(tb.bootstrap).admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic: 'txn-a', numPartitions: 2}, {topic: 'txn-zombie', numPartitions: 1}, {topic: 'txn-timeout', numPartitions: 1}]})
    await admin.disconnect()
  }, 30_000)

  afterAll(async () => {
    await tb?.stop()
  })

  it('read_committed sees exactly the committed records in order; read_uncommitted sees all', async () => {
    const producer = kafkaFor(tb.bootstrap).producer({transactionalId: 'tx-a', idempotent: true, maxInFlightRequests: 1})
    await producer.connect()
    const committed: string[] = []
    const all: string[] = []
    for (let t = 0; t < 6; t++) {
      const txn = await producer.transaction()
      const values = Array.from({length: 10}, (_, i) => `t${t}-${i}`)
      // Partition 0 only, so order across transactions is one sequence.
      await txn.send({topic: 'txn-a', messages: values.map((value) => ({partition: 0, value}))})
      await txn.send({topic: 'txn-a', messages: [{partition: 1, value: `t${t}-p1`}]})
      all.push(...values)
      if (t % 3 === 1) await txn.abort()
      else {
        await txn.commit()
        committed.push(...values)
      }
    }
    await producer.disconnect()
    const committedP1 = [0, 2, 3, 5].map((t) => `t${t}-p1`)
    const readCommitted = await readValues(tb.bootstrap, 'txn-a', {readUncommitted: false, expected: committed.length + committedP1.length})
    expect(readCommitted).toEqual([...committed, ...committedP1])
    const readAll = await readValues(tb.bootstrap, 'txn-a', {readUncommitted: true, expected: all.length + 6})
    expect(readAll).toEqual([...all, ...Array.from({length: 6}, (_, t) => `t${t}-p1`)])
  }, 60_000)

  it('fences a zombie: a second producer with the same transactional.id', async () => {
    const kafka = kafkaFor(tb.bootstrap)
    const zombie = kafka.producer({transactionalId: 'tx-z', idempotent: true, maxInFlightRequests: 1, retry: {retries: 1}})
    await zombie.connect()
    const zombieTxn = await zombie.transaction()
    await zombieTxn.send({topic: 'txn-zombie', messages: [{value: 'zombie-1'}]})

    const fresh = kafka.producer({transactionalId: 'tx-z', idempotent: true, maxInFlightRequests: 1})
    await fresh.connect() // InitProducerId: epoch bump, the zombie's open transaction is aborted
    const txn = await fresh.transaction()
    await txn.send({topic: 'txn-zombie', messages: [{value: 'fresh-1'}]})
    await txn.commit()

    const send = zombieTxn.send({topic: 'txn-zombie', messages: [{value: 'zombie-2'}]}).then(
      () => 'sent',
      (e: Error & {type?: string}) => e.type ?? e.name,
    )
    const sent = await send
    const commit = await zombieTxn.commit().then(
      () => 'committed',
      (e: Error & {type?: string}) => e.type ?? e.name,
    )
    expect(sent === 'sent' ? commit : sent).toMatch(/INVALID_PRODUCER_EPOCH|PRODUCER_FENCED|INVALID_TXN_STATE|KafkaJSNonRetriableError/)
    expect(commit).not.toBe('committed')
    await zombie.disconnect().catch(() => undefined)
    await fresh.disconnect()
    expect(await readValues(tb.bootstrap, 'txn-zombie', {readUncommitted: false, expected: 1})).toEqual(['fresh-1'])
  }, 60_000)

  it('an open transaction holds the LSO; the coordinator aborts it after transaction.timeout.ms', async () => {
    const kafka = kafkaFor(tb.bootstrap)
    const plain = kafka.producer()
    await plain.connect()
    await plain.send({topic: 'txn-timeout', messages: [{value: 'before'}]})
    const producer = kafka.producer({transactionalId: 'tx-t', idempotent: true, maxInFlightRequests: 1, transactionTimeout: 1500})
    await producer.connect()
    const txn = await producer.transaction()
    await txn.send({topic: 'txn-timeout', messages: [{value: 'open-1'}, {value: 'open-2'}]})
    await plain.send({topic: 'txn-timeout', messages: [{value: 'after'}]})
    const admin = kafka.admin()
    await admin.connect()
    // kafkajs' fetchTopicOffsets asks read_committed by default (isolation level 1).
    expect((await admin.fetchTopicOffsets('txn-timeout'))[0]!.offset).toBe('1')
    // transaction.abort.timed.out.transaction.cleanup.interval.ms is 10 s (Kafka's default).
    const deadline = Date.now() + 20_000
    let lso = '1'
    while (Date.now() < deadline && lso === '1') {
      await new Promise((r) => setTimeout(r, 250))
      lso = (await admin.fetchTopicOffsets('txn-timeout'))[0]!.offset
    }
    expect(lso).toBe('5') // before, open-1, open-2, after, ABORT marker
    await admin.disconnect()
    expect(await readValues(tb.bootstrap, 'txn-timeout', {readUncommitted: false, expected: 2})).toEqual(['before', 'after'])
    await expect(txn.commit()).rejects.toThrow()
    await producer.disconnect().catch(() => undefined)
    await plain.disconnect()
  }, 60_000)
})
