// DescribeProducers: v0
//
// Behaviour: the active idempotent/transactional producers of each partition, from the log's
// producer state: id, epoch, last sequence, last timestamp, coordinator epoch, open transaction.
// Errors: UNKNOWN_TOPIC_OR_PARTITION.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {defineHandler} from './handler.js'

export const describeProducers = defineHandler({
  apiKey: ApiKey.DescribeProducers,
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    const topics = request.topics.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((index) => {
        const {partition, errorCode: notHere} = ctx.broker.replicas.lookup(ctx.broker.metadata.topic(t.name), index)
        if (!partition) return {partitionIndex: index, errorCode: notHere, errorMessage: null, activeProducers: []}
        const activeProducers = [...partition.log.producerState.activeProducers().values()].map((e) => {
          const last = e.batches[e.batches.length - 1]
          return {
            producerId: BigInt(e.producerId),
            producerEpoch: e.producerEpoch,
            lastSequence: last?.lastSeq ?? -1,
            lastTimestamp: BigInt(e.lastTimestamp),
            coordinatorEpoch: e.coordinatorEpoch,
            currentTxnStartOffset: BigInt(e.currentTxnFirstOffset),
          }
        })
        return {partitionIndex: index, errorCode: ErrorCode.NONE, errorMessage: null, activeProducers}
      }),
    }))
    return {throttleTimeMs: 0, topics}
  },
})
