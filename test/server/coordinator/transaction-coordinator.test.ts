import {afterEach, describe, expect, it} from 'vitest'
import {TransactionError, type TransactionCoordinator} from '../../../src/server/coordinator/transaction-coordinator.js'
import {TransactionState, decodeTransactionLogKey, decodeTransactionLogValue, encodeTransactionLogKey, encodeTransactionLogValue, transactionStatePartition} from '../../../src/server/coordinator/transaction-log.js'
import type {ReplicaManager} from '../../../src/server/replica-manager.js'
import type {TestBroker} from '../../e2e/harness.js'
import {startTxnBroker} from '../../e2e/transactions-support.js'

const brokers: TestBroker[] = []
afterEach(async () => {
  for (const b of brokers.splice(0)) await b.stop()
})

function coordinatorOf(tb: TestBroker): TransactionCoordinator {
  return (tb.broker as unknown as {transactions: TransactionCoordinator}).transactions
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'NONE'
  } catch (error) {
    if (error instanceof TransactionError) return error.code
    throw error
  }
}

describe('transaction log format', () => {
  it('round-trips TransactionLogKey v0 / TransactionLogValue v0 and partitions like Kafka', () => {
    const key = encodeTransactionLogKey('tx-1')
    expect(key.toString('hex')).toBe('0000' + '0004' + Buffer.from('tx-1').toString('hex'))
    expect(decodeTransactionLogKey(key)).toBe('tx-1')
    const value = {producerId: 4000, producerEpoch: 3, transactionTimeoutMs: 60000, state: TransactionState.Ongoing, partitions: [{topic: 't', partitionIds: [0, 2]}], lastUpdateTimestampMs: 17, startTimestampMs: 11}
    expect(decodeTransactionLogValue(encodeTransactionLogValue(value))).toEqual(value)
    // Java: "tx-1".hashCode() = ((116 * 31 + 120) * 31 + 45) * 31 + 49 = 3572520; % 50 = 20.
    expect(transactionStatePartition('tx-1', 50)).toBe(20)
  })

  it('reads TransactionLogValue v1 (flexible) with its tagged fields, ClientTransactionVersion an int16 as the schema says (it was read as an int8)', () => {
    const b = (hex: string) => Buffer.from(hex.replace(/\s/g, ''), 'hex')
    const value = Buffer.concat([
      b('0001'), // version 1
      b('0000000000000fa0'), // producerId 4000
      b('0003'), // producerEpoch
      b('0000ea60'), // timeout 60000
      b('01'), // Ongoing
      b('02' + '02' + '74' + '03' + '00000000' + '00000002' + '00'), // [{topic 't', partitionIds [0, 2]}]
      b('0000000000000011'), // last update 17
      b('000000000000000b'), // start 11
      b('03' + '00' + '08' + '0000000000000f9f' + '01' + '08' + 'ffffffffffffffff' + '02' + '02' + '0002'), // tags 0, 1, 2
    ])
    expect(decodeTransactionLogValue(value)).toEqual({
      producerId: 4000,
      producerEpoch: 3,
      transactionTimeoutMs: 60000,
      state: TransactionState.Ongoing,
      partitions: [{topic: 't', partitionIds: [0, 2]}],
      lastUpdateTimestampMs: 17,
      startTimestampMs: 11,
      previousProducerId: 3999,
      nextProducerId: -1,
      clientTransactionVersion: 2,
    })
  })
})

describe('TransactionCoordinator', () => {
  it('validates the timeout, bumps epochs, fences, checks states, and recovers from __transaction_state', async () => {
    const dataDir = (await startTxnBroker({'transaction.max.timeout.ms': '60000'}).then((b) => (brokers.push(b), b))).dataDir
    let tb = brokers[0]!
    let tc = coordinatorOf(tb)
    expect(await code(tc.initProducerId('tx', 60001, {producerId: -1, producerEpoch: -1}))).toBe('INVALID_TRANSACTION_TIMEOUT')
    expect(await code(tc.initProducerId('tx', 0, {producerId: -1, producerEpoch: -1}))).toBe('INVALID_TRANSACTION_TIMEOUT')
    const first = await tc.initProducerId('tx', 60000, {producerId: -1, producerEpoch: -1})
    expect(first.producerEpoch).toBe(0)
    // A new transactional id takes any expected producer id (Kafka: metadata just created has
    // epoch -1); @platformatic/kafka passes the id it had as an idempotent producer.
    const fresh = await tc.initProducerId('tx-fresh', 60000, {producerId: 424242, producerEpoch: 0})
    expect(fresh.producerEpoch).toBe(0)
    expect(fresh.producerId).not.toBe(424242)
    const second = await tc.initProducerId('tx', 60000, {producerId: -1, producerEpoch: -1})
    expect(second).toEqual({producerId: first.producerId, producerEpoch: 1})
    expect(await code(tc.addPartitions('tx', first.producerId, 0, [{topic: '__transaction_state', partition: 0}]))).toBe('PRODUCER_FENCED')
    expect(await code(tc.addPartitions('tx', first.producerId + 1, 1, []))).toBe('INVALID_PRODUCER_ID_MAPPING')
    expect(await code(tc.endTxn('tx', first.producerId, 1, true))).toBe('INVALID_TXN_STATE') // Empty
    await tc.addPartitions('tx', first.producerId, 1, [{topic: '__transaction_state', partition: 1}])
    expect(tc.verifyPartition('tx', first.producerId, 1, '__transaction_state', 1)).toBe('NONE')
    expect(tc.verifyPartition('tx', first.producerId, 1, '__transaction_state', 2)).toBe('INVALID_TXN_STATE')
    expect(tc.transaction('tx')!.state).toBe(TransactionState.Ongoing)

    // Restart: the Ongoing transaction and its partitions come back from __transaction_state.
    await tb.stop({keepData: true})
    brokers.pop()
    tb = await startTxnBroker({'transaction.max.timeout.ms': '60000'}, dataDir)
    brokers.push(tb)
    tc = coordinatorOf(tb)
    const meta = tc.transaction('tx')!
    expect(meta).toMatchObject({producerId: first.producerId, producerEpoch: 1, state: TransactionState.Ongoing, txnTimeoutMs: 60000})
    expect([...meta.partitions.get('__transaction_state')!]).toEqual([1])
    await tc.endTxn('tx', first.producerId, 1, false)
    expect(tc.transaction('tx')!.state).toBe(TransactionState.CompleteAbort)
    expect(await code(tc.endTxn('tx', first.producerId, 1, false))).toBe('NONE') // a retry
    expect(await code(tc.endTxn('tx', first.producerId, 1, true))).toBe('INVALID_TXN_STATE')
    // A new producer while a transaction is open: it is aborted with a bumped epoch first.
    await tc.addPartitions('tx', first.producerId, 1, [{topic: '__transaction_state', partition: 1}])
    const third = await tc.initProducerId('tx', 60000, {producerId: -1, producerEpoch: -1})
    expect(third.producerEpoch).toBe(3)
    expect(tc.transaction('tx')!.state).toBe(TransactionState.Empty)
    // KIP-360: a client passing a stale id/epoch is fenced.
    expect(await code(tc.initProducerId('tx', 60000, {producerId: first.producerId, producerEpoch: 1}))).toBe('PRODUCER_FENCED')
  }, 30_000)
})

// Issue 12: a brand-new transactional id with producer id 0 / epoch 0 (what @platformatic/kafka
// sends) was answered INVALID_PRODUCER_ID_MAPPING; Kafka accepts it. These pin Kafka's
// handleInitProducerId rules for a passed id/epoch (KIP-360) in every state.
describe('TransactionCoordinator.initProducerId with a producer id and epoch (KIP-360)', () => {
  const none = {producerId: -1, producerEpoch: -1}
  const partition = [{topic: '__transaction_state', partition: 0}]
  async function coordinator(): Promise<TransactionCoordinator> {
    const tb = await startTxnBroker({'transaction.max.timeout.ms': '60000'})
    brokers.push(tb)
    return coordinatorOf(tb)
  }

  it('a new transactional id takes any id and epoch: it gets a new producer id with epoch 0', async () => {
    const tc = await coordinator()
    const a = await tc.initProducerId('new-a', 60000, {producerId: 0, producerEpoch: 0})
    expect(a.producerEpoch).toBe(0)
    const b = await tc.initProducerId('new-b', 60000, {producerId: 123456, producerEpoch: 7})
    expect(b.producerEpoch).toBe(0)
    expect(b.producerId).not.toBe(a.producerId)
    expect(tc.transaction('new-b')).toMatchObject({producerId: b.producerId, producerEpoch: 0, lastProducerEpoch: -1, state: TransactionState.Empty})
  })

  it('Empty, CompleteCommit, CompleteAbort: the current epoch bumps, the one before is a retry, anything else is fenced', async () => {
    const tc = await coordinator()
    const {producerId} = await tc.initProducerId('tx', 60000, none)
    // Empty at epoch 0: the client's current id/epoch bumps it and remembers 0 as the last epoch.
    expect(await tc.initProducerId('tx', 60000, {producerId, producerEpoch: 0})).toEqual({producerId, producerEpoch: 1})
    expect(tc.transaction('tx')).toMatchObject({producerEpoch: 1, lastProducerEpoch: 0})
    // The same request again (its answer lost): the same answer, no second bump.
    expect(await tc.initProducerId('tx', 60000, {producerId, producerEpoch: 0})).toEqual({producerId, producerEpoch: 1})
    expect(await code(tc.initProducerId('tx', 60000, {producerId, producerEpoch: 5}))).toBe('PRODUCER_FENCED')
    expect(await code(tc.initProducerId('tx', 60000, {producerId: producerId + 1, producerEpoch: 1}))).toBe('PRODUCER_FENCED')
    for (const commit of [true, false]) {
      const epoch = tc.transaction('tx')!.producerEpoch
      await tc.addPartitions('tx', producerId, epoch, partition)
      await tc.endTxn('tx', producerId, epoch, commit)
      expect(tc.transaction('tx')!.state).toBe(commit ? TransactionState.CompleteCommit : TransactionState.CompleteAbort)
      expect(await tc.initProducerId('tx', 60000, {producerId, producerEpoch: epoch})).toEqual({producerId, producerEpoch: epoch + 1})
      expect(tc.transaction('tx')).toMatchObject({state: TransactionState.Empty, lastProducerEpoch: epoch})
    }
    // Another producer initialised without an id (a new instance): the old epoch is no retry any more.
    const old = tc.transaction('tx')!.producerEpoch
    expect(await tc.initProducerId('tx', 60000, none)).toEqual({producerId, producerEpoch: old + 1})
    expect(await code(tc.initProducerId('tx', 60000, {producerId, producerEpoch: old}))).toBe('PRODUCER_FENCED')
  })

  it('Ongoing: the transaction is aborted with a fenced epoch; the caller with the old epoch is fenced, a new producer gets the next epoch', async () => {
    const tc = await coordinator()
    const {producerId} = await tc.initProducerId('tx', 60000, none)
    await tc.addPartitions('tx', producerId, 0, partition)
    expect(await code(tc.initProducerId('tx', 60000, {producerId, producerEpoch: 0}))).toBe('PRODUCER_FENCED')
    expect(tc.transaction('tx')).toMatchObject({state: TransactionState.CompleteAbort, producerEpoch: 1, lastProducerEpoch: -1})
    await tc.initProducerId('tx', 60000, {producerId, producerEpoch: 1})
    await tc.addPartitions('tx', producerId, 2, partition)
    expect(await tc.initProducerId('tx', 60000, none)).toEqual({producerId, producerEpoch: 4})
  })

  it('a transaction aborted for its timeout fences its producer: its epoch does not pass for a retry', async () => {
    const tc = await coordinator()
    const {producerId} = await tc.initProducerId('tx', 60000, none)
    await tc.addPartitions('tx', producerId, 0, partition)
    tc.transaction('tx')!.txnStartTimestamp = 0
    expect(await tc.abortTimedOutTransactions()).toBe(1)
    expect(tc.transaction('tx')).toMatchObject({state: TransactionState.CompleteAbort, producerEpoch: 1, lastProducerEpoch: -1})
    expect(await code(tc.initProducerId('tx', 60000, {producerId, producerEpoch: 0}))).toBe('PRODUCER_FENCED')
  })

  it('an exhausted epoch gets a new producer id; the old id with the exhausted epoch is a retry of that change', async () => {
    const tc = await coordinator()
    const first = await tc.initProducerId('tx', 60000, none)
    tc.transaction('tx')!.producerEpoch = 32766
    const rotated = await tc.initProducerId('tx', 60000, {producerId: first.producerId, producerEpoch: 32766})
    expect(rotated.producerId).not.toBe(first.producerId)
    expect(rotated.producerEpoch).toBe(0)
    expect(tc.transaction('tx')).toMatchObject({lastProducerId: first.producerId, lastProducerEpoch: 32766})
    expect(await tc.initProducerId('tx', 60000, {producerId: first.producerId, producerEpoch: 32766})).toEqual(rotated)
    // The old id with an epoch that is not exhausted is a zombie.
    expect(await code(tc.initProducerId('tx', 60000, {producerId: first.producerId, producerEpoch: 3}))).toBe('PRODUCER_FENCED')
    // Without an id: a new producer id too, and no last epoch.
    tc.transaction('tx')!.producerEpoch = 32767
    const again = await tc.initProducerId('tx', 60000, none)
    expect(again.producerEpoch).toBe(0)
    expect(again.producerId).not.toBe(rotated.producerId)
    expect(tc.transaction('tx')).toMatchObject({lastProducerId: rotated.producerId, lastProducerEpoch: -1})
  })
})

describe('TransactionCoordinator state is visible only once __transaction_state holds it (issue 12)', () => {
  it('produce verification never sees a partition of AddPartitionsToTxn before its record is in the log', async () => {
    const tb = await startTxnBroker()
    brokers.push(tb)
    const tc = coordinatorOf(tb)
    const {producerId} = await tc.initProducerId('tx-visible', 60000, {producerId: -1, producerEpoch: -1})
    const {replicas} = tb.broker as unknown as {replicas: ReplicaManager}
    const stateLog = replicas.get('__transaction_state', transactionStatePartition('tx-visible', tc.statePartitions))!.log
    const before = stateLog.logEndOffset
    const adding = tc.addPartitions('tx-visible', producerId, 0, [{topic: '__transaction_state', partition: 0}])
    let done = false
    void adding.then(() => (done = true))
    const violations: number[] = []
    // A reader running while the writer works: bounded by the write (at most a few thousand turns).
    for (let i = 0; i < 100_000 && !done; i++) {
      if (tc.verifyPartition('tx-visible', producerId, 0, '__transaction_state', 0) === 'NONE' && stateLog.logEndOffset === before) violations.push(i)
      await new Promise((resolve) => setImmediate(resolve))
    }
    await adding
    expect(violations).toEqual([])
    expect(tc.verifyPartition('tx-visible', producerId, 0, '__transaction_state', 0)).toBe('NONE')
  })
})
