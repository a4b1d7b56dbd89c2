/**
 * What the transaction handlers share: Kafka error codes from the coordinator's errors, with the
 * version conversions Kafka makes for older clients (PRODUCER_FENCED, KIP-588, is
 * INVALID_PRODUCER_EPOCH to clients that predate it).
 */
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {TransactionError} from '../coordinator/transaction-coordinator.js'
import type {RequestContext} from './handler.js'

export function transactionErrorCode(error: unknown, producerFencedIsInvalidEpoch: boolean): number {
  if (!(error instanceof TransactionError)) throw error
  if (error.code === 'PRODUCER_FENCED' && producerFencedIsInvalidEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH
  return ErrorCode[error.code]
}

/** Transactional flag in a batch's attributes (byte 22 of the batch, int16 at 21). */
const TRANSACTIONAL_FLAG = 0x10

/**
 * KIP-890 part 1 for Produce: a transactional batch is accepted only if its partition is in the
 * producer's open transaction. Returns NONE for other batches, or when the broker has no
 * transaction coordinator. When the transactional id is coordinated by another broker, the
 * batch is accepted unverified (Kafka's leader asks that coordinator with AddPartitionsToTxn
 * verifyOnly; this check is synchronous, so kcli does not); while this broker loads the id's
 * partition, NOT_ENOUGH_REPLICAS (retriable, what Kafka's produce path answers for a coordinator
 * that cannot verify yet).
 */
export function verifyTransactionalBatch(ctx: RequestContext, transactionalId: string | null, records: Buffer, topic: string, partition: number): number {
  const coordinator = ctx.broker.transactions
  if (!coordinator || records.length < 61 || (records.readInt16BE(21) & TRANSACTIONAL_FLAG) === 0) return ErrorCode.NONE
  const producerId = Number(records.readBigInt64BE(43))
  const producerEpoch = records.readInt16BE(51)
  if (producerId < 0) return ErrorCode.NONE
  const result = coordinator.verifyPartition(transactionalId, producerId, producerEpoch, topic, partition)
  if (result === 'NONE' || result === 'NOT_COORDINATOR') return ErrorCode.NONE
  return produceVerificationError(result)
}

/**
 * How Kafka's ReplicaManager answers a produce whose verification failed: the coordinator could not
 * tell (yet) -> NOT_ENOUGH_REPLICAS, which every producer retries; fenced -> INVALID_PRODUCER_EPOCH;
 * otherwise INVALID_TXN_STATE (the partition is not in the transaction).
 */
function produceVerificationError(result: string): number {
  switch (result) {
    case 'NONE':
      return ErrorCode.NONE
    case 'CONCURRENT_TRANSACTIONS':
    case 'NETWORK_EXCEPTION':
    case 'COORDINATOR_LOAD_IN_PROGRESS':
    case 'COORDINATOR_NOT_AVAILABLE':
    case 'NOT_COORDINATOR':
      return ErrorCode.NOT_ENOUGH_REPLICAS
    case 'INVALID_PRODUCER_EPOCH':
    case 'PRODUCER_FENCED':
      return ErrorCode.INVALID_PRODUCER_EPOCH
    default:
      return ErrorCode.INVALID_TXN_STATE
  }
}

/**
 * verifyTransactionalBatch for a cluster (to be awaited by handlers/produce.ts in its place): when
 * another broker coordinates the transactional id, the first batch of the producer's transaction
 * on this partition is verified there with AddPartitionsToTxn v4 verifyOnly, as Kafka's partition
 * leader does; later batches of the same transaction (an open transaction of the producer in this
 * partition's log) need no round trip.
 */
export async function verifyTransactionalBatchInCluster(ctx: RequestContext, transactionalId: string | null, records: Buffer, topic: string, partition: number): Promise<number> {
  const coordinator = ctx.broker.transactions
  if (!coordinator || records.length < 61 || (records.readInt16BE(21) & TRANSACTIONAL_FLAG) === 0) return ErrorCode.NONE
  const producerId = Number(records.readBigInt64BE(43))
  const producerEpoch = records.readInt16BE(51)
  if (producerId < 0) return ErrorCode.NONE
  const local = coordinator.verifyPartition(transactionalId, producerId, producerEpoch, topic, partition)
  if (local !== 'NOT_COORDINATOR' || transactionalId === null) return produceVerificationError(local)
  if (ctx.broker.replicas.get(topic, partition)?.log.producerState.openTransactions().has(producerId)) return ErrorCode.NONE
  return produceVerificationError(await coordinator.verifyAtCoordinator(transactionalId, producerId, producerEpoch, topic, partition))
}
