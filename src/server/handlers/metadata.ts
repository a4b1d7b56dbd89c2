// Metadata: v0-13
//
// Behaviour: all topics when `topics` is null (v1+; v0 sends [] for all), topics by name or (v10+)
// by topic id; unknown names are auto-created with num.partitions and default.replication.factor
// when auto.create.topics.enable is on and the request allows it (v4+; always allowed before) —
// created synchronously, so the response already carries the new topic; internal topics (and
// KRaft's __cluster_metadata) are never auto-created. Brokers are advertised on the listener the
// request came in on: a broker registered without that listener is left out (and its replicas are
// offline, as in Kafka).
// A topic named twice is described once (Kafka takes the names as a set).
// Authorization (issue 15), as KafkaApis.handleTopicMetadataRequest: all topics means those the
// principal may DESCRIBE; a named topic without DESCRIBE is TOPIC_AUTHORIZATION_FAILED (by id: with
// its id and a null name) without saying whether it exists; auto-creation needs CREATE on the
// cluster or the topic (else TOPIC_AUTHORIZATION_FAILED). Authorized operations, when asked (v8+),
// are the principal's (everything a resource supports without an authorizer): for each topic
// described (unknown ones included), not for refused ones or unknown ids (left at the schema's
// -2147483648); the cluster's only in v8-10, and 0 without DESCRIBE on the cluster.
// Every broker answers from the metadata store, as Kafka's KRaftMetadataCache does: the brokers
// are the registered (live) ones, the controller id the store's; per partition the replicas, the
// ISR, the offline replicas (those whose broker is not registered, in replica order) and the
// leader with its epoch. A partition without a leader, whose leader is not registered, or whose
// leader restarted since it was elected (the broker epoch the store recorded at its election is
// not its registration's), is answered with leader -1 (its epoch kept) and LEADER_NOT_AVAILABLE
// (LISTENER_NOT_FOUND, v6+, when the leader is registered without the request's listener). v0
// (Kafka's errorUnavailableEndpoints) lists only live brokers in replicas and ISR, and a partition
// with a leader that lost some gets REPLICA_NOT_AVAILABLE.
// Errors: INVALID_TOPIC_EXCEPTION (bad name), UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID;
// per partition LEADER_NOT_AVAILABLE, LISTENER_NOT_FOUND (v6+), REPLICA_NOT_AVAILABLE (v0).
// Not implemented: authorization.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {ZERO_UUID} from '../../lib/protocol/uuid.js'
import {AUTHORIZED_OPERATIONS_NOT_REQUESTED, CLUSTER_OPERATIONS, TOPIC_OPERATIONS} from '../authorized-operations.js'
import {AclOperation, authorize, authorizeCluster, authorizedOperations, ResourceType} from './authorize.js'
import {CLUSTER_NAME} from '../../lib/acl.js'
import type {BrokerRegistration, PartitionAssignment, TopicMetadata} from '../controller/metadata-store.js'
import {CLUSTER_METADATA_TOPIC, INTERNAL_TOPICS, TopicError, isValidTopicName} from '../controller/topic-manager.js'
import {defineHandler, type RequestContext} from './handler.js'

/**
 * The cluster as a request on one listener sees it (Kafka's KRaftMetadataCache): the registered
 * brokers that have that listener, at its address (this broker: the address it advertises there;
 * a registration without a listener list: its one address), and their registrations by id.
 */
export interface ClusterView {
  /** Brokers reachable on the request's listener, by id (the Metadata, DescribeCluster and FindCoordinator answers). */
  brokers: Array<{nodeId: number; host: string; port: number; rack: string | null}>
  /** Ids of `brokers`: a replica on any other broker is offline. */
  live: ReadonlySet<number>
  /** Every registration, with or without the listener. */
  registered: ReadonlyMap<number, BrokerRegistration>
}

export function clusterView(ctx: RequestContext): ClusterView {
  const listenerName = ctx.connection.listenerName
  const self = ctx.broker.advertisedListener(listenerName)
  const brokers: ClusterView['brokers'] = []
  const registered = new Map<number, BrokerRegistration>()
  for (const b of ctx.broker.metadata.brokers()) {
    registered.set(b.nodeId, b)
    const rack = b.rack ?? null
    if (b.nodeId === ctx.broker.nodeId) {
      brokers.push({nodeId: b.nodeId, host: self.host, port: self.port, rack})
      continue
    }
    const endpoint = b.listeners ? b.listeners.find((l) => l.name === listenerName) : b
    if (endpoint) brokers.push({nodeId: b.nodeId, host: endpoint.host, port: endpoint.port, rack})
  }
  return {brokers, live: new Set(brokers.map((b) => b.nodeId)), registered}
}

/** The registered brokers as reachable on the request's listener (Kafka's getAliveBrokerNodes). */
export function brokersFor(ctx: RequestContext): ClusterView['brokers'] {
  return clusterView(ctx).brokers
}

/**
 * Whether a partition's leader leads as far as the views tell: registered with the request's
 * listener and, when the store records the broker epoch it was elected in, still in that
 * registration (a leader that restarted leads again only once the controller elects it again).
 */
function leaderAvailable(p: PartitionAssignment, view: ClusterView): boolean {
  if (!view.live.has(p.leader)) return false
  const epoch = view.registered.get(p.leader)?.epoch
  return p.leaderBrokerEpoch === undefined || epoch === undefined || p.leaderBrokerEpoch === epoch
}

/**
 * A partition as the views report it (Metadata, DescribeTopicPartitions): the leader, or -1 when
 * it has none or it is not available; offline replicas are those whose broker is not registered
 * (or lacks the request's listener), in replica order.
 */
export function partitionView(p: PartitionAssignment, view: ClusterView) {
  return {
    partitionIndex: p.partition,
    leaderId: leaderAvailable(p, view) ? p.leader : -1,
    leaderEpoch: p.leaderEpoch,
    replicaNodes: p.replicas,
    isrNodes: p.isr,
    offlineReplicas: p.replicas.filter((id) => !view.live.has(id)),
  }
}

/**
 * Kafka's KRaftMetadataCache.getPartitionMetadata. errorUnavailableEndpoints (Metadata v0): only
 * live replicas and ISR members listed, REPLICA_NOT_AVAILABLE when some are not;
 * errorUnavailableListeners (v6+): LISTENER_NOT_FOUND for a leader registered without the
 * request's listener.
 */
export function metadataPartitions(topic: TopicMetadata, view: ClusterView, version: number) {
  const errorUnavailableEndpoints = version === 0
  const errorUnavailableListeners = version >= 6
  const onlyLive = (ids: number[]) => (errorUnavailableEndpoints ? ids.filter((id) => view.live.has(id)) : ids)
  return topic.partitions.map((p) => {
    const partition = partitionView(p, view)
    const replicaNodes = onlyLive(partition.replicaNodes)
    const isrNodes = onlyLive(partition.isrNodes)
    let errorCode: number = ErrorCode.NONE
    if (partition.leaderId < 0) {
      const withoutListener = view.registered.has(p.leader) && !view.live.has(p.leader)
      errorCode = withoutListener && errorUnavailableListeners ? ErrorCode.LISTENER_NOT_FOUND : ErrorCode.LEADER_NOT_AVAILABLE
    } else if (replicaNodes.length < partition.replicaNodes.length || isrNodes.length < partition.isrNodes.length) {
      errorCode = ErrorCode.REPLICA_NOT_AVAILABLE
    }
    return {...partition, errorCode, replicaNodes, isrNodes}
  })
}

export const metadata = defineHandler({
  apiKey: ApiKey.Metadata,
  minVersion: 0,
  maxVersion: 13,
  async handle(request, ctx) {
    const {metadata: store, topics: topicManager, config} = ctx.broker
    const allowAutoCreate = (ctx.apiVersion < 4 || request.allowAutoTopicCreation) && config.bool('auto.create.topics.enable')
    const all = request.topics === null || (ctx.apiVersion === 0 && request.topics.length === 0)
    const view = clusterView(ctx)
    const topicEntry = (t: TopicMetadata) => ({errorCode: ErrorCode.NONE, name: t.name, topicId: t.topicId, isInternal: t.internal, partitions: metadataPartitions(t, view, ctx.apiVersion)})
    const topics: Array<{errorCode: number; name: string | null; topicId: string; isInternal?: boolean; partitions?: ReturnType<typeof metadataPartitions>; refused?: boolean}> = []
    if (all) {
      // Only the topics the principal may describe (issue 15).
      for (const t of store.topics()) if (authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name)) topics.push(topicEntry(t))
    } else {
      const named = new Set<string>()
      for (const requested of request.topics!) {
        if (requested.name !== null) {
          if (named.has(requested.name)) continue
          named.add(requested.name)
        }
        if (requested.name === null) {
          const t = store.topicById(requested.topicId)
          if (t && !authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name)) topics.push({errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name: null, topicId: requested.topicId, refused: true})
          else topics.push(t ? topicEntry(t) : {errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: null, topicId: requested.topicId, refused: true})
          continue
        }
        const name = requested.name
        // Authorization (issue 15): DESCRIBE to see a topic; auto-creation needs CREATE on the cluster or the topic.
        const denied = {errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name, topicId: ZERO_UUID, isInternal: false, partitions: [], refused: true}
        if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name)) {
          topics.push(denied)
          continue
        }
        let t = store.topic(name)
        if (!t && allowAutoCreate && !authorizeCluster(ctx, AclOperation.CREATE) && !authorize(ctx, AclOperation.CREATE, ResourceType.TOPIC, name)) {
          topics.push({...denied, isInternal: INTERNAL_TOPICS.has(name)})
          continue
        }
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
    const v = ctx.apiVersion
    const topicOps = (t: {name: string | null; refused?: boolean}) =>
      v < 8 || !request.includeTopicAuthorizedOperations || t.refused || t.name === null ? AUTHORIZED_OPERATIONS_NOT_REQUESTED : authorizedOperations(ctx, ResourceType.TOPIC, t.name, TOPIC_OPERATIONS)
    const clusterOps =
      v < 8 || v > 10 || !request.includeClusterAuthorizedOperations ? AUTHORIZED_OPERATIONS_NOT_REQUESTED : !authorizeCluster(ctx, AclOperation.DESCRIBE) ? 0 : authorizedOperations(ctx, ResourceType.CLUSTER, CLUSTER_NAME, CLUSTER_OPERATIONS)
    return {
      throttleTimeMs: 0,
      brokers: view.brokers,
      clusterId: store.clusterId,
      controllerId: store.controllerId(),
      topics: topics.map(({refused, ...t}) => ({...t, topicAuthorizedOperations: topicOps({name: t.name, refused})})),
      clusterAuthorizedOperations: clusterOps,
    }
  },
})
