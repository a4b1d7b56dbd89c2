// OffsetDelete: v0
//
// Behaviour: deletes a group's committed offsets of some partitions (tombstones in
// __consumer_offsets). Refused per partition for topics the group's members subscribe to (read
// from each member's subscription as version 0, as Kafka does). Every partition asked for is
// answered, as Kafka 4.0 does: one without an offset NONE (nothing written).
// Errors: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP (a classic group with members that does not use the
// consumer protocol, so its subscriptions are unknown), GROUP_SUBSCRIBED_TO_TOPIC and
// UNKNOWN_TOPIC_OR_PARTITION (per partition), INVALID_GROUP_ID, COORDINATOR_NOT_AVAILABLE,
// GROUP_AUTHORIZATION_FAILED (DELETE on the group), TOPIC_AUTHORIZATION_FAILED (READ on the topic,
// per partition).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {coordinatorOf} from '../coordinator/handler-support.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, ResourceType} from './authorize.js'

export const offsetDelete = defineHandler({
  apiKey: ApiKey.OffsetDelete,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, ctx) {
    const groups = coordinatorOf(ctx)
    // Authorization (issue 15), as KafkaApis: DELETE on the group, then READ on each topic (a refused
    // topic's partitions answer TOPIC_AUTHORIZATION_FAILED and are not deleted; a group-level error
    // replaces them, as OffsetDeleteResponse.Builder.merge does).
    if (!authorize(ctx, AclOperation.DELETE, ResourceType.GROUP, request.groupId)) return {errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, throttleTimeMs: 0, topics: []}
    if (!groups) return {errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, throttleTimeMs: 0, topics: []}
    const readable = request.topics.filter((t) => authorize(ctx, AclOperation.READ, ResourceType.TOPIC, t.name))
    const refused = request.topics.filter((t) => !readable.includes(t)).map((t) => ({name: t.name, partitions: t.partitions.map((p) => ({partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED}))}))
    const result = await groups.deleteOffsets({groupId: request.groupId, topics: readable.map((t) => ({name: t.name, partitions: t.partitions.map((p) => p.partitionIndex)}))})
    if (result.errorCode !== ErrorCode.NONE) return {errorCode: result.errorCode, throttleTimeMs: 0, topics: result.topics}
    return {errorCode: ErrorCode.NONE, throttleTimeMs: 0, topics: [...refused, ...result.topics]}
  },
})
