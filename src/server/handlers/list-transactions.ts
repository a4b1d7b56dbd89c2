// ListTransactions: v0-1
//
// Behaviour: the transactional ids this coordinator knows, filtered by state names (unknown names
// are listed back in unknownStateFilters), by producer ids, and (v1, KIP-994) by duration: only
// transactions open longer than durationFilter ms.
// Errors: COORDINATOR_LOAD_IN_PROGRESS (a partition of __transaction_state led here is loading; the
// others are listed), COORDINATOR_NOT_AVAILABLE (no coordinator).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {TRANSACTION_STATE_NAMES, TransactionState} from '../coordinator/transaction-log.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, ResourceType} from './authorize.js'

export const listTransactions = defineHandler({
  apiKey: ApiKey.ListTransactions,
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    const coordinator = ctx.broker.transactions
    if (!coordinator) return {throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, unknownStateFilters: [], transactionStates: []}
    const known = new Set(Object.values(TRANSACTION_STATE_NAMES))
    const unknownStateFilters = request.stateFilters.filter((s) => !known.has(s))
    const states = new Set(request.stateFilters)
    const producerIds = new Set(request.producerIdFilters.map(Number))
    const duration = ctx.apiVersion >= 1 ? Number(request.durationFilter) : -1
    const now = Date.now()
    const transactionStates = coordinator
      .transactions()
      .filter((t) => states.size === 0 || states.has(TRANSACTION_STATE_NAMES[t.state] ?? ''))
      // Authorization (issue 15): only the transactional ids the principal may describe.
      .filter((t) => authorize(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, t.transactionalId))
      .filter((t) => producerIds.size === 0 || producerIds.has(t.producerId))
      .filter((t) => duration < 0 || (t.state === TransactionState.Ongoing && now - t.txnStartTimestamp > duration))
      .map((t) => ({transactionalId: t.transactionalId, producerId: BigInt(t.producerId), transactionState: TRANSACTION_STATE_NAMES[t.state] ?? 'Unknown'}))
    return {throttleTimeMs: 0, errorCode: coordinator.loading ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE, unknownStateFilters, transactionStates}
  },
})
