// DeleteRecords: v0-2
//
// Behaviour: moves each partition's log start offset up to the given offset (-1: the high
// watermark); whole segments below it are deleted by retention later. Answers the new low
// watermark (log start offset).
// Errors: UNKNOWN_TOPIC_OR_PARTITION, OFFSET_OUT_OF_RANGE (beyond the high watermark),
// KAFKA_STORAGE_ERROR.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {LogError} from '../log/errors.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, ResourceType} from './authorize.js'

export const deleteRecords = defineHandler({
  apiKey: ApiKey.DeleteRecords,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    const topics = []
    for (const t of request.topics) {
      // Authorization (issue 15): DELETE on the topic.
      if (!authorize(ctx, AclOperation.DELETE, ResourceType.TOPIC, t.name)) {
        topics.push({name: t.name, partitions: t.partitions.map((p) => ({partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED}))})
        continue
      }
      const partitions = []
      for (const p of t.partitions) {
        const {partition, errorCode: notHere} = ctx.broker.replicas.lookup(ctx.broker.metadata.topic(t.name), p.partitionIndex)
        if (!partition) {
          partitions.push({partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: notHere})
          continue
        }
        const highWatermark = partition.highWatermark
        const offset = p.offset === -1n ? highWatermark : Number(p.offset)
        if (offset < 0 || offset > highWatermark) {
          partitions.push({partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE})
          continue
        }
        try {
          const lowWatermark = await partition.log.deleteRecordsBefore(offset, highWatermark)
          partitions.push({partitionIndex: p.partitionIndex, lowWatermark: BigInt(lowWatermark), errorCode: ErrorCode.NONE})
        } catch (error) {
          if (!(error instanceof LogError)) throw error
          partitions.push({partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: ErrorCode[error.code]})
        }
      }
      topics.push({name: t.name, partitions})
    }
    return {throttleTimeMs: 0, topics}
  },
})
