// ListOffsets: v1-10
//
// Behaviour: per partition, the offset for a timestamp: -2 earliest (log start offset), -1 latest
// (the high watermark; for read_committed, isolation level 1, the last stable offset), -3 the record with the largest timestamp (v7+), -4 earliest local (v8+, the log
// start offset: no tiered storage), or the first record whose timestamp is >= the one asked for
// (found by the time index, then one batch decoded). No such record: offset -1, timestamp -1.
// Errors: UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH,
// OFFSET_NOT_AVAILABLE (latest, on a new leader whose high watermark is below its epoch's start),
// INVALID_REQUEST (duplicate partitions), KAFKA_STORAGE_ERROR.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {LogError} from '../log/errors.js'
import {EARLIEST_TIMESTAMP} from '../log/partition-log.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, ResourceType} from './authorize.js'

const LATEST = -1
const EARLIEST_LOCAL = -4

export const listOffsets = defineHandler({
  apiKey: ApiKey.ListOffsets,
  minVersion: 1,
  maxVersion: 10,
  async handle(request, ctx) {
    const {replicas} = ctx.broker
    const topics = []
    for (const t of request.topics) {
      // Authorization (issue 15): DESCRIBE on the topic.
      if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name)) {
        topics.push({name: t.name, partitions: t.partitions.map((p) => ({partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, timestamp: -1n, offset: -1n, leaderEpoch: -1}))})
        continue
      }
      const partitions = []
      const seen = new Set<number>()
      for (const p of t.partitions) {
        const answer = {partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE as number, timestamp: -1n, offset: -1n, leaderEpoch: -1}
        partitions.push(answer)
        if (seen.has(p.partitionIndex)) {
          answer.errorCode = ErrorCode.INVALID_REQUEST
          continue
        }
        seen.add(p.partitionIndex)
        const {partition, errorCode: notHere} = replicas.lookup(ctx.broker.metadata.topic(t.name), p.partitionIndex)
        if (!partition) {
          answer.errorCode = notHere
          continue
        }
        const epochError = partition.leaderEpochError(p.currentLeaderEpoch)
        if (epochError !== ErrorCode.NONE) {
          answer.errorCode = epochError
          continue
        }
        const timestamp = Number(p.timestamp)
        try {
          if (timestamp === LATEST) {
            const highWatermark = partition.highWatermark
            // A new leader whose high watermark has not yet reached its epoch's start (its
            // followers have not fetched yet): Kafka's OFFSET_NOT_AVAILABLE, retriable.
            if (highWatermark < partition.leaderEpochStartOffset) {
              answer.errorCode = ErrorCode.OFFSET_NOT_AVAILABLE
              continue
            }
            answer.offset = BigInt(request.isolationLevel === 1 ? partition.log.lastStableOffset(highWatermark) : highWatermark)
            answer.leaderEpoch = partition.leaderEpoch
            continue
          }
          const found = await partition.log.offsetForTimestamp(timestamp === EARLIEST_LOCAL ? EARLIEST_TIMESTAMP : timestamp)
          if (found) {
            answer.offset = BigInt(found.offset)
            answer.timestamp = BigInt(found.timestamp)
            answer.leaderEpoch = found.leaderEpoch
          }
        } catch (error) {
          if (!(error instanceof LogError)) throw error
          answer.errorCode = ErrorCode[error.code]
        }
      }
      topics.push({name: t.name, partitions})
    }
    return {throttleTimeMs: 0, topics}
  },
})
