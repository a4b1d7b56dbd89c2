// DescribeTransactions: v0
//
// Behaviour: the state of each transactional id asked for (Kafka's state names: Empty, Ongoing,
// PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, ...), its timeout, start time
// (-1 when no transaction is open), producer id and epoch, and its partitions.
// Errors per id: TRANSACTIONAL_ID_NOT_FOUND, NOT_COORDINATOR (its __transaction_state partition is
// led by another broker), COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE (no coordinator),
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED (DESCRIBE on the id). Partitions of topics the principal
// may not DESCRIBE are left out, as Kafka does.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {TRANSACTION_STATE_NAMES} from '../coordinator/transaction-log.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, ResourceType} from './authorize.js'

export const describeTransactions = defineHandler({
  apiKey: ApiKey.DescribeTransactions,
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    const coordinator = ctx.broker.transactions
    const transactionStates = request.transactionalIds.map((transactionalId) => {
      const empty = {transactionalId, transactionState: '', transactionTimeoutMs: 0, transactionStartTimeMs: -1n, producerId: -1n, producerEpoch: -1, topics: []}
      if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, transactionalId)) return {...empty, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED}
      if (!coordinator) return {...empty, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE}
      const notHere = coordinator.coordinatorError(transactionalId)
      if (notHere !== 'NONE') return {...empty, errorCode: ErrorCode[notHere]}
      const meta = coordinator.transaction(transactionalId)
      if (!meta) return {...empty, errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND}
      return {
        errorCode: ErrorCode.NONE,
        transactionalId,
        transactionState: TRANSACTION_STATE_NAMES[meta.state] ?? 'Unknown',
        transactionTimeoutMs: meta.txnTimeoutMs,
        transactionStartTimeMs: BigInt(meta.txnStartTimestamp),
        producerId: BigInt(meta.producerId),
        producerEpoch: meta.producerEpoch,
        // Only the topics the principal may DESCRIBE (KafkaApis).
        topics: [...meta.partitions].filter(([topic]) => authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, topic)).map(([topic, ids]) => ({topic, partitions: [...ids].sort((a, b) => a - b)})),
      }
    })
    return {throttleTimeMs: 0, transactionStates}
  },
})
