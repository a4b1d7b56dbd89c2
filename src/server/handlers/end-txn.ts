// EndTxn: v0-5
//
// Behaviour: commits or aborts the producer's transaction: PrepareCommit/PrepareAbort persisted
// in __transaction_state, COMMIT/ABORT markers appended to every partition of the transaction
// (all local: this broker leads every partition), then CompleteCommit/CompleteAbort persisted,
// before the answer. A retry of an end already done answers NONE.
// Errors: INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before v2),
// INVALID_TXN_STATE (nothing to end, or the opposite end of one already done),
// CONCURRENT_TRANSACTIONS, COORDINATOR_NOT_AVAILABLE.
// Not implemented: transactions v2 (v5's epoch bump per transaction; v5 answers the current id and epoch).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {defineHandler} from './handler.js'
import {transactionErrorCode} from './transactions-support.js'
import {AclOperation, authorize, ResourceType} from './authorize.js'

export const endTxn = defineHandler({
  apiKey: ApiKey.EndTxn,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    const coordinator = ctx.broker.transactions
    const answer = {throttleTimeMs: 0, producerId: request.producerId, producerEpoch: request.producerEpoch}
    // Authorization (issue 15): WRITE on the transactional id; Kafka's refusal leaves the producer id
    // and epoch (v5+) at their defaults.
    if (!authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)) return {throttleTimeMs: 0, producerId: -1n, producerEpoch: -1, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED}
    if (!coordinator) return {...answer, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE}
    try {
      await coordinator.endTxn(request.transactionalId, Number(request.producerId), request.producerEpoch, request.committed)
      return {...answer, errorCode: ErrorCode.NONE}
    } catch (error) {
      return {...answer, errorCode: transactionErrorCode(error, ctx.apiVersion < 2)}
    }
  },
})
