// TxnOffsetCommit: v0-5
//
// Behaviour: at the group's coordinator, commits a group's offsets inside the producer's
// transaction: they are written (acks=all) to the group's partition of __consumer_offsets as a
// transactional batch before the answer and become visible (OffsetFetch, restarts) only when the
// transaction commits (its marker reaches that partition); an abort drops them. When this broker
// also coordinates the transaction, the group's partition must be in it (AddOffsetsToTxn first);
// when another broker does, the transaction is not checked (as Kafka before KIP-890 part 2).
// Errors (every partition): NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS (the group's coordinator
// is elsewhere or loading), INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED (INVALID_PRODUCER_EPOCH
// before v3), INVALID_TXN_STATE, COORDINATOR_NOT_AVAILABLE; per partition
// UNKNOWN_TOPIC_OR_PARTITION, OFFSET_METADATA_TOO_LARGE (metadata over 4096 bytes).
// Not implemented: the group generation/member checks of v3+ (KIP-447 consumer group metadata
// fencing: ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {defineHandler} from './handler.js'
import {transactionErrorCode} from './transactions-support.js'
import {AclOperation, authorize, ResourceType} from './authorize.js'

const OFFSET_METADATA_MAX_BYTES = 4096

export const txnOffsetCommit = defineHandler({
  apiKey: ApiKey.TxnOffsetCommit,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    const {transactions, metadata} = ctx.broker
    const codes = new Map<string, number>()
    const key = (topic: string, partition: number) => `${topic}\u0000${partition}`
    const offsets = []
    // Authorization (issue 15): WRITE on the transactional id and READ on the group refuse every
    // partition; READ on each topic refuses its partitions.
    const refusedAll = !authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId) ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED : !authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId) ? ErrorCode.GROUP_AUTHORIZATION_FAILED : ErrorCode.NONE
    if (refusedAll !== ErrorCode.NONE) return {throttleTimeMs: 0, topics: request.topics.map((t) => ({name: t.name, partitions: t.partitions.map((p) => ({partitionIndex: p.partitionIndex, errorCode: refusedAll}))}))}
    for (const t of request.topics) {
      if (!authorize(ctx, AclOperation.READ, ResourceType.TOPIC, t.name)) {
        for (const p of t.partitions) codes.set(key(t.name, p.partitionIndex), ErrorCode.TOPIC_AUTHORIZATION_FAILED)
        continue
      }
      const known = metadata.topic(t.name)
      for (const p of t.partitions) {
        if (!known || p.partitionIndex >= known.partitions.length) codes.set(key(t.name, p.partitionIndex), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
        else if (Buffer.byteLength(p.committedMetadata ?? '', 'utf8') > OFFSET_METADATA_MAX_BYTES) codes.set(key(t.name, p.partitionIndex), ErrorCode.OFFSET_METADATA_TOO_LARGE)
        else offsets.push({topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, leaderEpoch: ctx.apiVersion >= 2 ? p.committedLeaderEpoch : -1, metadata: p.committedMetadata ?? ''})
      }
    }
    let errorCode: number = ErrorCode.NONE
    if (!transactions) errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE
    else {
      try {
        await transactions.txnOffsetCommit(request.transactionalId, Number(request.producerId), request.producerEpoch, request.groupId, offsets)
      } catch (error) {
        errorCode = transactionErrorCode(error, ctx.apiVersion < 3)
      }
    }
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({partitionIndex: p.partitionIndex, errorCode: codes.get(key(t.name, p.partitionIndex)) ?? errorCode})),
      })),
    }
  },
})
