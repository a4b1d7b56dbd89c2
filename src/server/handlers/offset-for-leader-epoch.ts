// OffsetForLeaderEpoch: v2-4
//
// Behaviour: for each partition, the largest leader epoch <= the one asked for and the offset
// where the next epoch starts (the log end offset for the current epoch), from the
// leader-epoch-checkpoint; consumers use it to detect log truncation after a leader change.
// Errors: UNKNOWN_TOPIC_OR_PARTITION, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH (current epoch
// checks, v2+), TOPIC_AUTHORIZATION_FAILED (neither CLUSTER_ACTION on the cluster nor DESCRIBE on
// the topic).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, authorizeCluster, ResourceType} from './authorize.js'

export const offsetForLeaderEpoch = defineHandler({
  apiKey: ApiKey.OffsetForLeaderEpoch,
  minVersion: 2,
  maxVersion: 4,
  handle(request, ctx) {
    // Authorization (issue 15), as KafkaApis: CLUSTER_ACTION on the cluster (followers), else
    // DESCRIBE on each topic (consumers, KIP-320); refused topics after the others.
    const clusterAction = authorizeCluster(ctx, AclOperation.CLUSTER_ACTION)
    const allowed = clusterAction ? request.topics : request.topics.filter((t) => authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.topic))
    const refused = request.topics.filter((t) => !allowed.includes(t)).map((t) => ({topic: t.topic, partitions: t.partitions.map((p) => ({errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, partition: p.partition, leaderEpoch: -1, endOffset: -1n}))}))
    const topics = allowed.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => {
        const {partition, errorCode: notHere} = ctx.broker.replicas.lookup(ctx.broker.metadata.topic(t.topic), p.partition)
        const answer = (errorCode: number, leaderEpoch = -1, endOffset = -1) => ({errorCode, partition: p.partition, leaderEpoch, endOffset: BigInt(endOffset)})
        if (!partition) return answer(notHere)
        const epochError = partition.leaderEpochError(p.currentLeaderEpoch)
        if (epochError !== ErrorCode.NONE) return answer(epochError)
        const found = partition.log.leaderEpochCache.endOffsetFor(p.leaderEpoch, partition.log.logEndOffset)
        return answer(ErrorCode.NONE, found.epoch, found.endOffset)
      }),
    }))
    return {throttleTimeMs: 0, topics: [...topics, ...refused]}
  },
})
