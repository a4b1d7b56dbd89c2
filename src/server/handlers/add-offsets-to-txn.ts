// AddOffsetsToTxn: v0-4
//
// Behaviour: adds the group's partition of __consumer_offsets (Kafka's partitionFor the group id)
// to the producer's transaction, so that EndTxn writes a marker there and the offsets of
// TxnOffsetCommit become visible only when the transaction commits. Creates __consumer_offsets
// if needed.
// Errors: as AddPartitionsToTxn for the whole transaction (INVALID_PRODUCER_ID_MAPPING,
// PRODUCER_FENCED / INVALID_PRODUCER_EPOCH before v2, CONCURRENT_TRANSACTIONS, INVALID_TXN_STATE),
// COORDINATOR_NOT_AVAILABLE (no transaction or group coordinator).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {OFFSETS_TOPIC} from '../coordinator/coordinator-log.js'
import {partitionForGroup} from '../coordinator/records.js'
import {defineHandler} from './handler.js'
import {transactionErrorCode} from './transactions-support.js'
import {AclOperation, authorize, ResourceType} from './authorize.js'

export const addOffsetsToTxn = defineHandler({
  apiKey: ApiKey.AddOffsetsToTxn,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, ctx) {
    const {transactions, groups, metadata} = ctx.broker
    if (!authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)) return {throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED}
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) return {throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED}
    if (!transactions || !groups) return {throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE}
    try {
      await groups.ensureOffsetsTopic()
    } catch {
      return {throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE}
    }
    const count = metadata.topic(OFFSETS_TOPIC)?.partitions.length
    if (count === undefined) return {throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE}
    try {
      await transactions.addPartitions(request.transactionalId, Number(request.producerId), request.producerEpoch, [{topic: OFFSETS_TOPIC, partition: partitionForGroup(request.groupId, count)}])
      return {throttleTimeMs: 0, errorCode: ErrorCode.NONE}
    } catch (error) {
      return {throttleTimeMs: 0, errorCode: transactionErrorCode(error, ctx.apiVersion < 2)}
    }
  },
})
