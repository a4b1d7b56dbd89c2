// DescribeProducers: v0
//
// Behaviour: the active idempotent/transactional producers of each partition, from the log's
// producer state: id, epoch, last sequence, last timestamp, coordinator epoch, open transaction.
// Errors: INVALID_TOPIC_EXCEPTION (an illegal name), TOPIC_AUTHORIZATION_FAILED (READ on the topic,
// issue 15), UNKNOWN_TOPIC_OR_PARTITION, with Kafka's messages; NOT_LEADER_OR_FOLLOWER.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode, errorByCode} from '../../lib/protocol/generated/errors.js'
import {TopicError, validateTopicName} from '../controller/topic-manager.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, ResourceType} from './authorize.js'

export const describeProducers = defineHandler({
  apiKey: ApiKey.DescribeProducers,
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    // As KafkaApis, per topic: a legal name, then READ on the topic (issue 15), then the topic known;
    // the error, with its message, on every partition asked for.
    const topicError = (name: string): {errorCode: number; errorMessage: string | null} | null => {
      try {
        validateTopicName(name)
      } catch (error) {
        if (error instanceof TopicError) return {errorCode: ErrorCode[error.code], errorMessage: error.kafkaMessage}
        throw error
      }
      const withDefault = (errorCode: number) => ({errorCode, errorMessage: errorByCode(errorCode)!.message})
      if (!authorize(ctx, AclOperation.READ, ResourceType.TOPIC, name)) return withDefault(ErrorCode.TOPIC_AUTHORIZATION_FAILED)
      if (!ctx.broker.metadata.topic(name)) return withDefault(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
      return null
    }
    const topics = request.topics.map((t) => {
      const failed = topicError(t.name)
      if (failed) return {name: t.name, partitions: t.partitionIndexes.map((index) => ({partitionIndex: index, ...failed, activeProducers: []}))}
      return {
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
      }
    })
    return {throttleTimeMs: 0, topics}
  },
})
