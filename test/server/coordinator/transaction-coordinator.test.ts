import {afterEach, describe, expect, it} from 'vitest'
import {TransactionError, type TransactionCoordinator} from '../../../src/server/coordinator/transaction-coordinator.js'
import {TransactionState, decodeTransactionLogKey, decodeTransactionLogValue, encodeTransactionLogKey, encodeTransactionLogValue, transactionStatePartition} from '../../../src/server/coordinator/transaction-log.js'
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
