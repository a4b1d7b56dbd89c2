// OffsetDelete: v0
//
// Behaviour: deletes a group's committed offsets of some partitions (tombstones in
// __consumer_offsets). Refused per partition for topics the group's members subscribe to (read
// from each member's subscription as version 0, as Kafka does). Every partition asked for is
// answered, as Kafka 4.0 does: one without an offset NONE (nothing written).
// Errors: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP (a classic group with members that does not use the
// consumer protocol, so its subscriptions are unknown), GROUP_SUBSCRIBED_TO_TOPIC and
// UNKNOWN_TOPIC_OR_PARTITION (per partition), INVALID_GROUP_ID, COORDINATOR_NOT_AVAILABLE.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {coordinatorOf} from '../coordinator/handler-support.js'
import {defineHandler} from './handler.js'

export const offsetDelete = defineHandler({
  apiKey: ApiKey.OffsetDelete,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, ctx) {
    const groups = coordinatorOf(ctx)
    if (!groups) return {errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, throttleTimeMs: 0, topics: []}
    const result = await groups.deleteOffsets({groupId: request.groupId, topics: request.topics.map((t) => ({name: t.name, partitions: t.partitions.map((p) => p.partitionIndex)}))})
    return {errorCode: result.errorCode, throttleTimeMs: 0, topics: result.topics}
  },
})
