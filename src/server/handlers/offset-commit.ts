// OffsetCommit: v2-9
//
// Behaviour: stores committed offsets (with leader epoch, v6+, and metadata) in
// __consumer_offsets; they are visible to OffsetFetch once written. Checks as Kafka 4.0 does: a
// classic group member's id and generation (an empty group accepts commits without them, from
// the admin client or consumers that assign partitions themselves, creating a "simple" group
// when the commit stores an offset); a KIP-848 member's epoch. Unknown topics and partitions are
// answered first, as KafkaApis does: the group is checked only for the partitions that exist,
// and not at all when none does. A commit during CompletingRebalance is refused with
// REBALANCE_IN_PROGRESS. The retention time of v2-v4 becomes the offset's expire timestamp.
// Errors (per partition): UNKNOWN_TOPIC_OR_PARTITION (topic or partition), OFFSET_METADATA_TOO_LARGE
// (offset.metadata.max.bytes), ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID,
// REBALANCE_IN_PROGRESS, GROUP_ID_NOT_FOUND (v9+, a generation for a group that does not exist;
// older versions ILLEGAL_GENERATION), STALE_MEMBER_EPOCH, UNSUPPORTED_VERSION (a KIP-848 member
// below v9), INVALID_GROUP_ID, COORDINATOR_NOT_AVAILABLE.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {coordinatorOf} from '../coordinator/handler-support.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, ResourceType} from './authorize.js'

export const offsetCommit = defineHandler({
  apiKey: ApiKey.OffsetCommit,
  minVersion: 2,
  maxVersion: 9,
  async handle(request, ctx) {
    const groups = coordinatorOf(ctx)
    const refuse = (topics: typeof request.topics, errorCode: number) => topics.map((t) => ({name: t.name, partitions: t.partitions.map((p) => ({partitionIndex: p.partitionIndex, errorCode}))}))
    // Authorization (issue 15): READ on the group, then READ on each topic.
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) return {throttleTimeMs: 0, topics: refuse(request.topics, ErrorCode.GROUP_AUTHORIZATION_FAILED)}
    const deniedTopics = request.topics.filter((t) => !authorize(ctx, AclOperation.READ, ResourceType.TOPIC, t.name))
    const deniedAnswers = refuse(deniedTopics, ErrorCode.TOPIC_AUTHORIZATION_FAILED)
    const allowedTopics = request.topics.filter((t) => !deniedTopics.includes(t))
    if (deniedTopics.length > 0 && allowedTopics.length === 0) return {throttleTimeMs: 0, topics: deniedAnswers}
    if (!groups) {
      return {throttleTimeMs: 0, topics: request.topics.map((t) => ({name: t.name, partitions: t.partitions.map((p) => ({partitionIndex: p.partitionIndex, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE}))}))}
    }
    const v = ctx.apiVersion
    const result = await groups.commitOffsets({
      groupId: request.groupId,
      generationIdOrMemberEpoch: request.generationIdOrMemberEpoch,
      memberId: request.memberId,
      groupInstanceId: v >= 7 ? request.groupInstanceId : null,
      retentionTimeMs: v <= 4 ? Number(request.retentionTimeMs) : -1,
      apiVersion: v,
      topics: allowedTopics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({partitionIndex: p.partitionIndex, committedOffset: p.committedOffset, committedLeaderEpoch: v >= 6 ? p.committedLeaderEpoch : -1, committedMetadata: p.committedMetadata})),
      })),
    })
    return {throttleTimeMs: 0, topics: [...deniedAnswers, ...result.topics]}
  },
})
