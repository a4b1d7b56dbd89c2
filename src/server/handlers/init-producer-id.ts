// InitProducerId: v0-5
//
// Behaviour: without a transactional id, a new producer id (unique across restarts: ids come in
// blocks reserved in the metadata store) with epoch 0 — also when the client passes its current
// id and epoch (v3+, KIP-360), as Kafka does for idempotent producers.
// With a transactional id, the transaction coordinator's answer: a new producer id (epoch 0) the
// first time, else the epoch bumped, which fences the previous producer of that id (an open
// transaction of it is aborted first); past epoch 32766 a new producer id. The transaction
// timeout must be in (0, transaction.max.timeout.ms].
// Errors: INVALID_REQUEST (empty transactional id), INVALID_TRANSACTION_TIMEOUT,
// PRODUCER_FENCED (v3+ with an id/epoch that is not the current one; INVALID_PRODUCER_EPOCH
// before v4, as Kafka), INVALID_PRODUCER_ID_MAPPING, CONCURRENT_TRANSACTIONS,
// COORDINATOR_NOT_AVAILABLE (no transaction coordinator; a failed __transaction_state write).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {defineHandler} from './handler.js'
import {transactionErrorCode} from './transactions-support.js'

export const initProducerId = defineHandler({
  apiKey: ApiKey.InitProducerId,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    if (request.transactionalId !== null) {
      const coordinator = ctx.broker.transactions
      if (!coordinator) return {throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, producerId: -1n, producerEpoch: -1}
      try {
        const expected = ctx.apiVersion >= 3 ? {producerId: Number(request.producerId), producerEpoch: request.producerEpoch} : {producerId: -1, producerEpoch: -1}
        const result = await coordinator.initProducerId(request.transactionalId, request.transactionTimeoutMs, expected)
        return {throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: BigInt(result.producerId), producerEpoch: result.producerEpoch}
      } catch (error) {
        return {throttleTimeMs: 0, errorCode: transactionErrorCode(error, ctx.apiVersion < 4), producerId: -1n, producerEpoch: -1}
      }
    }
    const producerId = await ctx.broker.producerIds.generate()
    return {throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: BigInt(producerId), producerEpoch: 0}
  },
})
