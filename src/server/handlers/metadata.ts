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
// Every broker answers from the metadata store, as Kafka's KRaftMetadataCache does: the brokers
// are the registered (live) ones, the controller id the store's; per partition the replicas, the
// ISR, the offline replicas (those whose broker is not registered, in replica order) and the
// leader with its epoch. A partition without a leader, or whose leader is not registered, is
// answered with leader -1 (its epoch kept) and LEADER_NOT_AVAILABLE. v0 (Kafka's
// errorUnavailableEndpoints) lists only registered brokers in replicas and ISR, and a partition
// with a live leader that lost some gets REPLICA_NOT_AVAILABLE.
// Errors: INVALID_TOPIC_EXCEPTION (bad name), UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID;
// per partition LEADER_NOT_AVAILABLE, REPLICA_NOT_AVAILABLE (v0).
// Not implemented: authorization.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {ZERO_UUID} from '../../lib/protocol/uuid.js'
import {AUTHORIZED_OPERATIONS_NOT_REQUESTED, CLUSTER_AUTHORIZED_OPERATIONS, TOPIC_AUTHORIZED_OPERATIONS} from '../authorized-operations.js'
import type {MetadataStore, PartitionAssignment, TopicMetadata} from '../controller/metadata-store.js'
import {CLUSTER_METADATA_TOPIC, INTERNAL_TOPICS, TopicError, isValidTopicName} from '../controller/topic-manager.js'
import {defineHandler, type RequestContext} from './handler.js'

/** The ids of the registered (live) brokers. */
export function liveBrokerIds(store: MetadataStore): ReadonlySet<number> {
  return new Set(store.brokers().map((b) => b.nodeId))
}

/**
 * A partition as the views report it (Metadata, DescribeTopicPartitions): the leader when its
 * broker is registered, else -1; offline replicas are the replicas whose broker is not registered.
 */
export function partitionView(p: PartitionAssignment, live: ReadonlySet<number>) {
  return {
    partitionIndex: p.partition,
    leaderId: live.has(p.leader) ? p.leader : -1,
    leaderEpoch: p.leaderEpoch,
    replicaNodes: p.replicas,
    isrNodes: p.isr,
    offlineReplicas: p.replicas.filter((id) => !live.has(id)),
  }
}

/** Kafka's KRaftMetadataCache.getPartitionMetadata (errorUnavailableEndpoints: Metadata v0). */
export function metadataPartitions(topic: TopicMetadata, live: ReadonlySet<number>, errorUnavailableEndpoints = false) {
  return topic.partitions.map((p) => {
    const view = partitionView(p, live)
    if (view.leaderId < 0) {
      const replicaNodes = errorUnavailableEndpoints ? view.replicaNodes.filter((id) => live.has(id)) : view.replicaNodes
      const isrNodes = errorUnavailableEndpoints ? view.isrNodes.filter((id) => live.has(id)) : view.isrNodes
      return {...view, errorCode: ErrorCode.LEADER_NOT_AVAILABLE, replicaNodes, isrNodes}
    }
    if (!errorUnavailableEndpoints) return {...view, errorCode: ErrorCode.NONE}
    const replicaNodes = view.replicaNodes.filter((id) => live.has(id))
    const isrNodes = view.isrNodes.filter((id) => live.has(id))
    const lost = replicaNodes.length < view.replicaNodes.length || isrNodes.length < view.isrNodes.length
    return {...view, errorCode: lost ? ErrorCode.REPLICA_NOT_AVAILABLE : ErrorCode.NONE, replicaNodes, isrNodes}
  })
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
    const live = liveBrokerIds(store)
    const topicEntry = (t: TopicMetadata) => ({errorCode: ErrorCode.NONE, name: t.name, topicId: t.topicId, isInternal: t.internal, partitions: metadataPartitions(t, live, ctx.apiVersion === 0)})
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
