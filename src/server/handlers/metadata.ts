// Metadata: v0-13
//
// Behaviour: all topics when `topics` is null (v1+; v0 sends [] for all), topics by name or (v10+)
// by topic id; unknown names are auto-created with num.partitions and default.replication.factor
// when auto.create.topics.enable is on and the request allows it (v4+; always allowed before) —
// created synchronously, so the response already carries the new topic; internal topics (and
// KRaft's __cluster_metadata) are never auto-created. Brokers are advertised on the listener the
// request came in on.
// A topic named twice is described once (Kafka takes the names as a set). Authorized operations,
// when asked (v8+), are everything a topic or the cluster supports: kcli has no authorizer.
// Errors: INVALID_TOPIC_EXCEPTION (bad name), UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID.
// Not implemented: authorization.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {ZERO_UUID} from '../../lib/protocol/uuid.js'
import {AUTHORIZED_OPERATIONS_NOT_REQUESTED, CLUSTER_AUTHORIZED_OPERATIONS, TOPIC_AUTHORIZED_OPERATIONS} from '../authorized-operations.js'
import type {TopicMetadata} from '../controller/metadata-store.js'
import {CLUSTER_METADATA_TOPIC, INTERNAL_TOPICS, TopicError, isValidTopicName} from '../controller/topic-manager.js'
import {defineHandler, type RequestContext} from './handler.js'

export function describeTopicPartitions(topic: TopicMetadata) {
  return topic.partitions.map((p) => ({
    errorCode: ErrorCode.NONE,
    partitionIndex: p.partition,
    leaderId: p.leader,
    leaderEpoch: p.leaderEpoch,
    replicaNodes: p.replicas,
    isrNodes: p.isr,
    offlineReplicas: [],
  }))
}

export function brokersFor(ctx: RequestContext) {
  const self = ctx.broker.advertisedListener(ctx.connection.listenerName)
  return ctx.broker.metadata.brokers().map((b) => (b.nodeId === ctx.broker.nodeId ? {nodeId: b.nodeId, host: self.host, port: self.port, rack: b.rack} : {nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack}))
}

export const metadata = defineHandler({
  apiKey: ApiKey.Metadata,
  minVersion: 0,
  maxVersion: 13,
  async handle(request, ctx) {
    const {metadata: store, topics: topicManager, config} = ctx.broker
    const allowAutoCreate = (ctx.apiVersion < 4 || request.allowAutoTopicCreation) && config.bool('auto.create.topics.enable')
    const all = request.topics === null || (ctx.apiVersion === 0 && request.topics.length === 0)
    const topics = []
    if (all) {
      for (const t of store.topics()) topics.push(topicEntry(t))
    } else {
      const named = new Set<string>()
      for (const requested of request.topics!) {
        if (requested.name !== null) {
          if (named.has(requested.name)) continue
          named.add(requested.name)
        }
        if (requested.name === null) {
          const t = store.topicById(requested.topicId)
          topics.push(t ? topicEntry(t) : {errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: null, topicId: requested.topicId})
          continue
        }
        const name = requested.name
        let t = store.topic(name)
        if (!t && allowAutoCreate && !INTERNAL_TOPICS.has(name) && name !== CLUSTER_METADATA_TOPIC) {
          try {
            t = await topicManager.create({name, numPartitions: -1, replicationFactor: -1, assignments: [], configs: {}})
          } catch (error) {
            if (!(error instanceof TopicError)) throw error
            t = store.topic(name) // created concurrently by another request
            if (!t) {
              topics.push({errorCode: ErrorCode[error.code], name, topicId: ZERO_UUID, isInternal: INTERNAL_TOPICS.has(name), partitions: []})
              continue
            }
          }
        }
        if (t) topics.push(topicEntry(t))
        else topics.push({errorCode: isValidTopicName(name) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.INVALID_TOPIC_EXCEPTION, name, topicId: ZERO_UUID, isInternal: INTERNAL_TOPICS.has(name), partitions: []})
      }
    }
    const topicAuthorizedOperations = request.includeTopicAuthorizedOperations ? TOPIC_AUTHORIZED_OPERATIONS : AUTHORIZED_OPERATIONS_NOT_REQUESTED
    return {
      throttleTimeMs: 0,
      brokers: brokersFor(ctx),
      clusterId: store.clusterId,
      controllerId: store.controllerId(),
      topics: topics.map((t) => ({...t, topicAuthorizedOperations})),
      clusterAuthorizedOperations: request.includeClusterAuthorizedOperations ? CLUSTER_AUTHORIZED_OPERATIONS : AUTHORIZED_OPERATIONS_NOT_REQUESTED,
    }
  },
})

function topicEntry(t: TopicMetadata) {
  return {errorCode: ErrorCode.NONE, name: t.name, topicId: t.topicId, isInternal: t.internal, partitions: describeTopicPartitions(t)}
}
