// InitProducerId: v0-5
//
// Behaviour: the producer id and epoch the client passes (v3+, KIP-360) are checked first, as
// Kafka's KafkaApis does: -1/-1 means none, and only one of them -1 is INVALID_REQUEST.
// Without a transactional id, a new producer id (unique across restarts: ids come in blocks
// reserved in the metadata store) with epoch 0, whatever id and epoch the client passed, as
// Kafka does for idempotent producers.
// With a transactional id, the transaction coordinator's answer (Kafka's rules, see
// TransactionCoordinator.initProducerId): a new producer id with epoch 0 the first time the id
// is seen (any passed id/epoch is accepted then), else the epoch bumped, which fences the previous
// producer of that id (an open transaction of it is aborted first); past epoch 32766 a new
// producer id. A passed id/epoch that is not the current one (nor a retry of the last bump) is
// PRODUCER_FENCED. The transaction timeout must be in (0, transaction.max.timeout.ms].
// Errors: INVALID_REQUEST (empty transactional id; an id without an epoch or the reverse),
// INVALID_TRANSACTION_TIMEOUT, PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before v4, as Kafka),
// COORDINATOR_NOT_AVAILABLE (no transaction coordinator; a failed __transaction_state write).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {defineHandler} from './handler.js'
import {transactionErrorCode} from './transactions-support.js'
import {AclOperation, authorize, authorizeByResourceType, authorizeCluster, ResourceType} from './authorize.js'

export const initProducerId = defineHandler({
  apiKey: ApiKey.InitProducerId,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    // Absent before v3: the decoder gives -1/-1.
    const expected = {producerId: Number(request.producerId), producerEpoch: request.producerEpoch}
    if ((expected.producerId === -1) !== (expected.producerEpoch === -1)) {
      return {throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, producerId: -1n, producerEpoch: -1}
    }
    // Authorization (issue 15): WRITE on the transactional id; without one IDEMPOTENT_WRITE on the
    // cluster or WRITE on some topic (KafkaApis.handleInitProducerIdRequest).
    if (request.transactionalId !== null && !authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)) {
      return {throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1}
    }
    if (request.transactionalId === null && !authorizeCluster(ctx, AclOperation.IDEMPOTENT_WRITE) && !authorizeByResourceType(ctx, AclOperation.WRITE, ResourceType.TOPIC)) {
      return {throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1}
    }
    if (request.transactionalId !== null) {
      const coordinator = ctx.broker.transactions
      if (!coordinator) return {throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, producerId: -1n, producerEpoch: -1}
      try {
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
