// DescribeTopicPartitions: v0
//
// Behaviour: Kafka 4.0's DescribeTopicPartitionsRequestHandler (KIP-966), which kafka-topics
// --describe uses. Topics are the requested ones, or every topic when none are named, taken in
// name order from the cursor's topic on; partitions from the cursor's partition on (0 for the
// topics after it). At most min(responsePartitionLimit, max.request.partition.size.limit (2000)),
// and at least 1, partitions are returned; when more are left, nextCursor names the first topic
// and partition not returned. Partitions as Metadata (v1+) reports them (replicas, ISR, offline
// replicas: those whose broker is not registered; leader -1 when it has none or its broker is not
// registered) but always with error NONE, as Kafka's
// KRaftMetadataCache.getPartitionMetadataForDescribeTopicResponse answers.
// A named topic that does not exist gets UNKNOWN_TOPIC_OR_PARTITION
// (INVALID_TOPIC_EXCEPTION for an illegal name) and takes no room. Eligible leader replicas are
// empty lists (kcli has no ELR). Topic authorized operations are the principal's (everything a
// topic supports without an authorizer).
// Errors of the whole request (every named topic gets INVALID_REQUEST): a cursor topic that is
// not among the named topics, a negative cursor partition.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {ZERO_UUID} from '../../lib/protocol/uuid.js'
import {TOPIC_OPERATIONS} from '../authorized-operations.js'
import {INTERNAL_TOPICS, isValidTopicName} from '../controller/topic-manager.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, authorizedOperations, ResourceType} from './authorize.js'
import {clusterView, partitionView} from './metadata.js'

/** Kafka's max.request.partition.size.limit default. */
const MAX_REQUEST_PARTITION_SIZE_LIMIT = 2000

export const describeTopicPartitions = defineHandler({
  apiKey: ApiKey.DescribeTopicPartitions,
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    const {metadata, config} = ctx.broker
    const cursor = request.cursor
    const cursorTopic = cursor?.topicName ?? ''
    const fetchAll = request.topics.length === 0
    const names = new Set<string>()
    if (fetchAll) {
      // Authorization (issue 15): all topics means those the principal may describe.
      for (const t of metadata.topics()) if (t.name >= cursorTopic && authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name)) names.add(t.name)
    } else {
      for (const t of request.topics) if (t.name >= cursorTopic) names.add(t.name)
    }
    const invalid = () => ({
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({errorCode: ErrorCode.INVALID_REQUEST, name: t.name, topicId: ZERO_UUID, isInternal: false, partitions: []})),
      nextCursor: null,
    })
    if (!fetchAll && cursor && !names.has(cursor.topicName)) return invalid()
    if (cursor && cursor.partitionIndex < 0) return invalid()

    const configured = Number(config.get('max.request.partition.size.limit') ?? MAX_REQUEST_PARTITION_SIZE_LIMIT)
    const serverLimit = Number.isInteger(configured) && configured > 0 ? configured : MAX_REQUEST_PARTITION_SIZE_LIMIT
    let remaining = Math.max(Math.min(serverLimit, request.responsePartitionLimit), 1)
    const view = clusterView(ctx)
    const topics = []
    let nextCursor: {topicName: string; partitionIndex: number} | null = null
    // Authorization (issue 15), as DescribeTopicPartitionsRequestHandler: the names in order, those
    // the principal may not DESCRIBE left out (named ones answered TOPIC_AUTHORIZATION_FAILED after
    // the others, without an id or authorized operations).
    const refused = []
    for (const name of [...names].sort()) {
      if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name)) {
        if (!fetchAll) refused.push({errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name, topicId: ZERO_UUID, isInternal: false, partitions: []})
        continue
      }
      if (remaining === 0) {
        nextCursor = {topicName: name, partitionIndex: 0}
        break
      }
      const topic = metadata.topic(name)
      if (!topic) {
        if (!fetchAll) {
          const errorCode = isValidTopicName(name) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.INVALID_TOPIC_EXCEPTION
          topics.push({errorCode, name, topicId: ZERO_UUID, isInternal: INTERNAL_TOPICS.has(name), partitions: [], topicAuthorizedOperations: authorizedOperations(ctx, ResourceType.TOPIC, name, TOPIC_OPERATIONS)})
        }
        continue
      }
      const start = name === cursorTopic && cursor ? cursor.partitionIndex : 0
      const end = Math.min(topic.partitions.length, start + remaining)
      const partitions = []
      for (let i = start; i < end; i++) {
        partitions.push({errorCode: ErrorCode.NONE, ...partitionView(topic.partitions[i]!, view), eligibleLeaderReplicas: [], lastKnownElr: []})
      }
      topics.push({errorCode: ErrorCode.NONE, name, topicId: topic.topicId, isInternal: INTERNAL_TOPICS.has(name), partitions, topicAuthorizedOperations: authorizedOperations(ctx, ResourceType.TOPIC, name, TOPIC_OPERATIONS)})
      if (end < topic.partitions.length) {
        nextCursor = {topicName: name, partitionIndex: end}
        break
      }
      remaining -= partitions.length
    }
    return {throttleTimeMs: 0, topics: [...topics, ...refused], nextCursor}
  },
})
