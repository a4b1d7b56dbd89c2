/**
 * The records of __transaction_state, as Kafka 4.0 writes them (TransactionLogKey and
 * TransactionLogValue in Kafka's transaction coordinator), so a data directory reads the same in
 * Kafka's tools.
 *
 *   TransactionLogKey v0     version int16 = 0, transactional_id string
 *   TransactionLogValue v0   version int16 = 0, producer_id int64, producer_epoch int16,
 *                            transaction_timeout_ms int32, transaction_status int8,
 *                            transaction_partitions [topic string, partition_ids [int32]] (nullable),
 *                            transaction_last_update_timestamp_ms int64,
 *                            transaction_start_timestamp_ms int64
 *   TransactionLogValue v1   the same fields, flexible (compact strings and arrays, tagged fields),
 *                            plus tagged previous_producer_id (tag 0), next_producer_id (tag 1),
 *                            client_transaction_version (tag 2) — KIP-890 transactions v2
 *
 * kcli writes v0 (what Kafka 4.0 writes for transaction version 1 clients, and kcli does not
 * support transactions v2) and reads both. A null value is a tombstone (the transactional id expired).
 */
import {Reader} from '../../lib/protocol/reader.js'
import {Writer} from '../../lib/protocol/writer.js'

export const TRANSACTION_STATE_TOPIC = '__transaction_state'

/** Kafka's TransactionState ids, as stored in transaction_status. */
export const enum TransactionState {
  Empty = 0,
  Ongoing = 1,
  PrepareCommit = 2,
  PrepareAbort = 3,
  CompleteCommit = 4,
  CompleteAbort = 5,
  Dead = 6,
  PrepareEpochFence = 7,
}

/** Kafka's names (DescribeTransactions and ListTransactions report them). */
export const TRANSACTION_STATE_NAMES: Record<number, string> = {
  0: 'Empty',
  1: 'Ongoing',
  2: 'PrepareCommit',
  3: 'PrepareAbort',
  4: 'CompleteCommit',
  5: 'CompleteAbort',
  6: 'Dead',
  7: 'PrepareEpochFence',
}

export interface TransactionLogValue {
  producerId: number
  producerEpoch: number
  transactionTimeoutMs: number
  state: TransactionState
  partitions: Array<{topic: string; partitionIds: number[]}>
  lastUpdateTimestampMs: number
  startTimestampMs: number
  /** v1 only (-1 otherwise). */
  previousProducerId?: number
  nextProducerId?: number
  clientTransactionVersion?: number
}

export function encodeTransactionLogKey(transactionalId: string): Buffer {
  const w = new Writer(32 + transactionalId.length)
  w.int16(0)
  w.string(transactionalId, false)
  return w.toBuffer()
}

export function decodeTransactionLogKey(key: Buffer): string {
  const r = new Reader(key)
  const version = r.int16('TransactionLogKey.version')
  if (version !== 0) r.fail(`unknown TransactionLogKey version ${version}`, 'TransactionLogKey.version', 0)
  return r.string('TransactionLogKey.transactionalId', false)
}

export function encodeTransactionLogValue(v: TransactionLogValue): Buffer {
  const w = new Writer(64)
  w.int16(0)
  w.int64(BigInt(v.producerId))
  w.int16(v.producerEpoch)
  w.int32(v.transactionTimeoutMs)
  w.int8(v.state)
  w.arrayLength(v.partitions, false)
  for (const p of v.partitions) {
    w.string(p.topic, false)
    w.arrayLength(p.partitionIds, false)
    for (const id of p.partitionIds) w.int32(id)
  }
  w.int64(BigInt(v.lastUpdateTimestampMs))
  w.int64(BigInt(v.startTimestampMs))
  return w.toBuffer()
}

export function decodeTransactionLogValue(value: Buffer): TransactionLogValue {
  const r = new Reader(value)
  const version = r.int16('TransactionLogValue.version')
  if (version < 0 || version > 1) r.fail(`unknown TransactionLogValue version ${version}`, 'TransactionLogValue.version', 0)
  const flexible = version >= 1
  const producerId = Number(r.int64('TransactionLogValue.producerId'))
  const producerEpoch = r.int16('TransactionLogValue.producerEpoch')
  const transactionTimeoutMs = r.int32('TransactionLogValue.transactionTimeoutMs')
  const state = r.int8('TransactionLogValue.transactionStatus') as TransactionState
  const partitions: TransactionLogValue['partitions'] = []
  const count = r.arrayLength('TransactionLogValue.transactionPartitions', flexible, true, 4)
  for (let i = 0; i < count; i++) {
    const topic = r.string('TransactionLogValue.transactionPartitions.topic', flexible)
    const n = r.arrayLength('TransactionLogValue.transactionPartitions.partitionIds', flexible, false, 4)
    const partitionIds: number[] = []
    for (let j = 0; j < n; j++) partitionIds.push(r.int32('TransactionLogValue.transactionPartitions.partitionIds'))
    if (flexible) r.taggedFields('TransactionLogValue.transactionPartitions', () => false)
    partitions.push({topic, partitionIds})
  }
  const lastUpdateTimestampMs = Number(r.int64('TransactionLogValue.transactionLastUpdateTimestampMs'))
  const startTimestampMs = Number(r.int64('TransactionLogValue.transactionStartTimestampMs'))
  const result: TransactionLogValue = {producerId, producerEpoch, transactionTimeoutMs, state, partitions, lastUpdateTimestampMs, startTimestampMs}
  if (flexible) {
    result.previousProducerId = -1
    result.nextProducerId = -1
    result.clientTransactionVersion = 0
    r.taggedFields('TransactionLogValue', (tag, tr) => {
      if (tag === 0) result.previousProducerId = Number(tr.int64('TransactionLogValue.previousProducerId'))
      else if (tag === 1) result.nextProducerId = Number(tr.int64('TransactionLogValue.nextProducerId'))
      else if (tag === 2) result.clientTransactionVersion = tr.int16('TransactionLogValue.clientTransactionVersion')
      else return false
      return true
    })
  }
  return result
}

/** Kafka's partitionFor: Utils.abs(transactionalId.hashCode) % partitions (Java String.hashCode). */
export function transactionStatePartition(transactionalId: string, partitions: number): number {
  let hash = 0
  for (let i = 0; i < transactionalId.length; i++) hash = (Math.imul(hash, 31) + transactionalId.charCodeAt(i)) | 0
  return (hash & 0x7fffffff) % partitions
}
