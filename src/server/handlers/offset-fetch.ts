// OffsetFetch: v1-9
//
// Behaviour: the committed offsets of a group: the partitions asked for, or every committed
// partition when topics is null (v2+). v1-7 name one group; v8+ a batch of groups, each with its
// own error. A partition without a committed offset answers offset -1, leader epoch -1 and empty
// metadata; an unknown group answers the same for every partition (no error), as Kafka does.
// v9 carries the member id and epoch of a KIP-848 member, which are checked (an admin client
// sends epoch -1). Commits still being written for the group are waited for first, so a member
// that just got a partition reads what its previous owner committed. requireStable (v7+, KIP-447:
// read_committed consumers send it): a partition with offsets of a transaction still open
// (TxnOffsetCommit before its marker) answers UNSTABLE_OFFSET_COMMIT, and the client retries.
// Errors: UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH (v9), COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR,
// GROUP_AUTHORIZATION_FAILED (DESCRIBE on the group); per partition UNSTABLE_OFFSET_COMMIT,
// TOPIC_AUTHORIZATION_FAILED (DESCRIBE on the topic).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {coordinatorOf} from '../coordinator/handler-support.js'
import type {OffsetFetchResult} from '../coordinator/group-coordinator.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, ResourceType} from './authorize.js'

export const offsetFetch = defineHandler({
  apiKey: ApiKey.OffsetFetch,
  minVersion: 1,
  maxVersion: 9,
  async handle(request, ctx) {
    const groups = coordinatorOf(ctx)
    const v = ctx.apiVersion
    const fetchOne = async (groupId: string, memberId: string | null, memberEpoch: number, topics: Array<{name: string; partitionIndexes: number[]}> | null): Promise<OffsetFetchResult> => {
      if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId)) return {errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: []}
      if (!groups) return {errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, topics: []}
      // Authorization (issue 15), as KafkaApis: DESCRIBE on each topic. Asked for, the refused topics
      // are not read and their partitions say TOPIC_AUTHORIZATION_FAILED after the others (unless
      // the group fails); a fetch of all offsets leaves them out.
      const mayDescribe = (name: string) => authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name)
      const refused = topics === null ? [] : topics.filter((t) => !mayDescribe(t.name))
      const fetched = await groups.fetchOffsets({groupId, memberId, memberEpoch, topics: topics === null ? null : topics.filter((t) => !refused.includes(t))})
      if (fetched.errorCode !== ErrorCode.NONE) return fetched
      const readable = topics === null ? fetched.topics.filter((t) => mayDescribe(t.name)) : fetched.topics
      const transactions = ctx.broker.transactions
      const stable = !request.requireStable || !transactions
      const refusedAnswers = refused.map((t) => ({name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED}))}))
      if (stable) return {...fetched, topics: [...readable, ...refusedAnswers]}
      return {
        ...fetched,
        topics: [...readable.map((t) => ({
          ...t,
          partitions: t.partitions.map((p) =>
            transactions.hasPendingOffsets(groupId, t.name, p.partitionIndex)
              ? {...p, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT}
              : p,
          ),
        })), ...refusedAnswers],
      }
    }
    if (v >= 8) {
      const results = []
      for (const g of request.groups) {
        const r = await fetchOne(g.groupId, v >= 9 ? g.memberId : null, v >= 9 ? g.memberEpoch : -1, g.topics)
        results.push({groupId: g.groupId, errorCode: r.errorCode, topics: r.topics})
      }
      return {throttleTimeMs: 0, groups: results}
    }
    const topics = v >= 2 ? request.topics : (request.topics ?? [])
    const r = await fetchOne(request.groupId, null, -1, topics)
    if (r.errorCode !== ErrorCode.NONE && v < 2) {
      // v1 has no top-level error: every partition carries it.
      return {throttleTimeMs: 0, topics: (topics ?? []).map((t) => ({name: t.name, partitions: t.partitionIndexes.map((p) => ({partitionIndex: p, committedOffset: -1n, metadata: '', errorCode: r.errorCode}))}))}
    }
    return {throttleTimeMs: 0, errorCode: r.errorCode, topics: r.topics}
  },
})
