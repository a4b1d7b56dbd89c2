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
// Errors: UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH (v9), COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR;
// per partition UNSTABLE_OFFSET_COMMIT.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {coordinatorOf} from '../coordinator/handler-support.js'
import type {OffsetFetchResult} from '../coordinator/group-coordinator.js'
import {defineHandler} from './handler.js'

export const offsetFetch = defineHandler({
  apiKey: ApiKey.OffsetFetch,
  minVersion: 1,
  maxVersion: 9,
  async handle(request, ctx) {
    const groups = coordinatorOf(ctx)
    const v = ctx.apiVersion
    const fetchOne = async (groupId: string, memberId: string | null, memberEpoch: number, topics: Array<{name: string; partitionIndexes: number[]}> | null): Promise<OffsetFetchResult> => {
      if (!groups) return {errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, topics: []}
      const result = await groups.fetchOffsets({groupId, memberId, memberEpoch, topics})
      const transactions = ctx.broker.transactions
      if (!request.requireStable || !transactions) return result
      return {
        ...result,
        topics: result.topics.map((t) => ({
          ...t,
          partitions: t.partitions.map((p) =>
            transactions.hasPendingOffsets(groupId, t.name, p.partitionIndex)
              ? {...p, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT}
              : p,
          ),
        })),
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
