// The admin client: topics, partitions, configs, cluster, offsets and consumer groups, over the
// public Kafka protocol only (so it works against Apache Kafka 4.x as against kcli's broker).
//
// Per-item Kafka errors (a topic that already exists, a group that is not empty) are data in the
// results; a request-level error or an exhausted retry throws (KafkaError / ConnectionError).
// Requests that must reach a particular broker (ListOffsets to partition leaders, group requests
// to the group coordinator, broker configs to that broker) are routed here, and retried after
// NOT_LEADER_OR_FOLLOWER / NOT_COORDINATOR with fresh metadata.

import {ApiKey} from '../protocol/generated/api-keys.js'
import {ConsumerProtocolAssignment} from '../protocol/generated/consumer-protocol-assignment.js'
import {ConsumerProtocolSubscription} from '../protocol/generated/consumer-protocol-subscription.js'
import type {DescribeConfigsResourceResult} from '../protocol/generated/describe-configs-response.js'
import type {KafkaClient} from './client.js'
import type {Connection} from './connection.js'
import {ErrorCode, errorName, isRetriableCode, isStaleMetadataCode, KafkaError, throwIfError} from './errors.js'
import type {BrokerInfo, ClusterMetadata, TopicInfo} from './metadata.js'

/** ListOffsets special timestamps. */
export const LATEST_TIMESTAMP = -1n
export const EARLIEST_TIMESTAMP = -2n
export const MAX_TIMESTAMP = -3n

/** DescribeConfigs / AlterConfigs resource types. */
export const ConfigResourceType = {topic: 2, broker: 4, brokerLogger: 8, group: 32} as const
export type ConfigResourceKind = keyof typeof ConfigResourceType

export const CONFIG_SOURCES = [
  'UNKNOWN',
  'DYNAMIC_TOPIC_CONFIG',
  'DYNAMIC_BROKER_CONFIG',
  'DYNAMIC_DEFAULT_BROKER_CONFIG',
  'STATIC_BROKER_CONFIG',
  'DEFAULT_CONFIG',
  'DYNAMIC_BROKER_LOGGER_CONFIG',
  'CLIENT_METRICS_CONFIG',
  'GROUP_CONFIG',
] as const

export function configSourceName(source: number): string {
  return CONFIG_SOURCES[source] ?? (source === -1 ? 'UNKNOWN' : `SOURCE_${source}`)
}

export interface ItemResult {
  errorCode: number
  /** Kafka's error name ('NONE' for success). */
  error: string
  errorMessage: string | null
}

function itemResult(errorCode: number, errorMessage: string | null = null): ItemResult {
  return {errorCode, error: errorCode === 0 ? 'NONE' : errorName(errorCode), errorMessage: errorCode === 0 ? null : errorMessage}
}

export interface NewTopic {
  name: string
  /** -1: the broker's num.partitions. */
  numPartitions?: number
  /** -1: the broker's default.replication.factor. */
  replicationFactor?: number
  configs?: Record<string, string>
}

export interface CreateTopicResult extends ItemResult {
  name: string
  topicId: string | null
  numPartitions: number
  replicationFactor: number
}

export interface TopicPartitionOffsetQuery {
  topic: string
  partition: number
  /** LATEST_TIMESTAMP, EARLIEST_TIMESTAMP, MAX_TIMESTAMP or a time in ms. */
  timestamp: bigint
}

export interface ListedOffset extends ItemResult {
  topic: string
  partition: number
  /** -1 when there is no such offset (a time after the last record). */
  offset: bigint
  timestamp: bigint
  leaderEpoch: number
}

export interface ConfigEntry {
  name: string
  value: string | null
  source: string
  readOnly: boolean
  isSensitive: boolean
  isDefault: boolean
  synonyms?: {name: string; value: string | null; source: string}[]
  documentation?: string | null
}

export interface ConfigResourceResult extends ItemResult {
  type: ConfigResourceKind
  name: string
  configs: ConfigEntry[]
}

export interface ConfigResource {
  type: ConfigResourceKind
  name: string
  /** Only these keys (default: all). */
  keys?: string[]
}

export interface ConfigAlteration {
  type: ConfigResourceKind
  name: string
  set?: Record<string, string>
  delete?: string[]
}

export interface ClusterDescription {
  clusterId: string | null
  controllerId: number
  brokers: (BrokerInfo & {isFenced?: boolean})[]
}

export interface ListedGroup {
  groupId: string
  protocolType: string
  state: string | null
  type: string | null
  coordinatorId: number
}

export interface GroupMember {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  /** Partitions assigned to the member (decoded from its consumer-protocol assignment). */
  assignment: {topic: string; partitions: number[]}[]
  /** The raw assignment (its user data carries a Streams member's tasks). */
  memberAssignment?: Buffer
}

export interface GroupDescription extends ItemResult {
  groupId: string
  state: string
  protocolType: string
  protocol: string
  members: GroupMember[]
  coordinatorId: number
}

export interface CommittedOffset extends ItemResult {
  topic: string
  partition: number
  /** -1 when the group has no committed offset for the partition. */
  offset: bigint
  leaderEpoch: number
  metadata: string | null
}

export interface PartitionResult extends ItemResult {
  topic: string
  partition: number
}

const ASSIGNMENT_MAX_VERSION = 3

export class Admin {
  private readonly coordinators = new Map<string, number>()

  constructor(readonly client: KafkaClient) {}

  // ---- topics and cluster ----

  /** Metadata for every topic (internal ones included; callers filter). */
  async listTopics(): Promise<ClusterMetadata> {
    return this.client.refreshMetadata(null)
  }

  /** Metadata for the named topics; a missing topic has errorCode UNKNOWN_TOPIC_OR_PARTITION. */
  async describeTopics(names: readonly string[]): Promise<ClusterMetadata> {
    return this.client.refreshMetadata(names)
  }

  async createTopics(topics: readonly NewTopic[], options: {timeoutMs?: number; validateOnly?: boolean} = {}): Promise<CreateTopicResult[]> {
    const response = await this.client.withRetries(async () => {
      const connection = await this.client.controllerConnection()
      const result = await connection.send(ApiKey.CreateTopics, {
        timeoutMs: options.timeoutMs ?? 30_000,
        topics: topics.map((t) => ({
          assignments: [],
          configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({name, value})),
          name: t.name,
          numPartitions: t.numPartitions ?? -1,
          replicationFactor: t.replicationFactor ?? -1,
        })),
        validateOnly: options.validateOnly ?? false,
      })
      this.throwIfNotController(result.topics.map((t) => t.errorCode))
      return result
    }, () => this.client.refreshMetadata([]).then(() => undefined))
    return response.topics.map((t) => ({
      name: t.name,
      topicId: t.topicId && t.topicId !== 'AAAAAAAAAAAAAAAAAAAAAA' ? t.topicId : null,
      numPartitions: t.numPartitions,
      replicationFactor: t.replicationFactor,
      ...itemResult(t.errorCode, t.errorMessage),
    }))
  }

  async deleteTopics(names: readonly string[], options: {timeoutMs?: number} = {}): Promise<(ItemResult & {name: string})[]> {
    const response = await this.client.withRetries(async () => {
      const connection = await this.client.controllerConnection()
      const result = await connection.send(ApiKey.DeleteTopics, {
        timeoutMs: options.timeoutMs ?? 30_000,
        topicNames: names,
        topics: names.map((name) => ({name})),
      })
      this.throwIfNotController(result.responses.map((t) => t.errorCode))
      return result
    }, () => this.client.refreshMetadata([]).then(() => undefined))
    for (const name of names) this.client.metadata.markStale(name)
    return response.responses.map((t) => ({name: t.name ?? '', ...itemResult(t.errorCode, t.errorMessage)}))
  }

  async createPartitions(
    topics: readonly {name: string; count: number}[],
    options: {timeoutMs?: number; validateOnly?: boolean} = {},
  ): Promise<(ItemResult & {name: string})[]> {
    const response = await this.client.withRetries(async () => {
      const connection = await this.client.controllerConnection()
      const result = await connection.send(ApiKey.CreatePartitions, {
        timeoutMs: options.timeoutMs ?? 30_000,
        topics: topics.map((t) => ({assignments: null, count: t.count, name: t.name})),
        validateOnly: options.validateOnly ?? false,
      })
      this.throwIfNotController(result.results.map((t) => t.errorCode))
      return result
    }, () => this.client.refreshMetadata([]).then(() => undefined))
    for (const t of topics) this.client.metadata.markStale(t.name)
    return response.results.map((t) => ({name: t.name, ...itemResult(t.errorCode, t.errorMessage)}))
  }

  /** Cluster id, controller and brokers: DescribeCluster when the broker has it, else Metadata. */
  async describeCluster(): Promise<ClusterDescription> {
    return this.client.withRetries(async () => {
      const connection = await this.client.anyConnection()
      if (connection.supports(ApiKey.DescribeCluster)) {
        const response = await connection.send(ApiKey.DescribeCluster, {endpointType: 1, includeClusterAuthorizedOperations: false})
        throwIfError(response.errorCode, response.errorMessage)
        return {
          clusterId: response.clusterId,
          controllerId: response.controllerId,
          brokers: response.brokers
            .map((b) => ({host: b.host, isFenced: b.isFenced, nodeId: b.brokerId, port: b.port, rack: b.rack}))
            .sort((a, b) => a.nodeId - b.nodeId),
        }
      }
      const metadata = await this.client.refreshMetadata([])
      return {brokers: metadata.brokers, clusterId: metadata.clusterId, controllerId: metadata.controllerId}
    })
  }

  // ---- configs ----

  async describeConfigs(
    resources: readonly ConfigResource[],
    options: {includeSynonyms?: boolean; includeDocumentation?: boolean} = {},
  ): Promise<ConfigResourceResult[]> {
    // Broker resources with an id go to that broker; the rest to any broker.
    const groups = new Map<number, ConfigResource[]>()
    for (const resource of resources) {
      const target = resource.type === 'broker' || resource.type === 'brokerLogger' ? brokerIdOf(resource.name) : -1
      groups.set(target, [...(groups.get(target) ?? []), resource])
    }
    const results = new Map<ConfigResource, ConfigResourceResult>()
    await Promise.all(
      [...groups].map(async ([target, group]) => {
        const response = await this.client.withRetries(async () => {
          const connection = target >= 0 ? await this.client.connectionTo(target) : await this.client.anyConnection()
          return connection.send(ApiKey.DescribeConfigs, {
            includeDocumentation: options.includeDocumentation ?? false,
            includeSynonyms: options.includeSynonyms ?? false,
            resources: group.map((r) => ({configurationKeys: r.keys ?? null, resourceName: r.name, resourceType: ConfigResourceType[r.type]})),
          })
        })
        group.forEach((resource, i) => {
          const r = response.results.find((x) => x.resourceName === resource.name && x.resourceType === ConfigResourceType[resource.type]) ?? response.results[i]
          if (!r) return
          results.set(resource, {
            type: resource.type,
            name: resource.name,
            ...itemResult(r.errorCode, r.errorMessage),
            configs: r.configs.map((c) => toConfigEntry(c, options)).sort((a, b) => a.name.localeCompare(b.name)),
          })
        })
      }),
    )
    return resources.map((r) => results.get(r) ?? {type: r.type, name: r.name, configs: [], ...itemResult(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'no result')})
  }

  /**
   * Sets and deletes configs: IncrementalAlterConfigs when the broker has it; otherwise
   * AlterConfigs with the resource's current dynamic configs plus the changes (AlterConfigs
   * replaces the whole set).
   */
  async alterConfigs(alterations: readonly ConfigAlteration[], options: {validateOnly?: boolean} = {}): Promise<(ItemResult & {type: ConfigResourceKind; name: string})[]> {
    const results: (ItemResult & {type: ConfigResourceKind; name: string})[] = []
    for (const alteration of alterations) {
      const target = alteration.type === 'broker' || alteration.type === 'brokerLogger' ? brokerIdOf(alteration.name) : -1
      const result = await this.client.withRetries(async () => {
        const connection = target >= 0 ? await this.client.connectionTo(target) : await this.client.controllerConnection()
        if (connection.supports(ApiKey.IncrementalAlterConfigs)) {
          const response = await connection.send(ApiKey.IncrementalAlterConfigs, {
            resources: [
              {
                configs: [
                  ...Object.entries(alteration.set ?? {}).map(([name, value]) => ({configOperation: 0, name, value})),
                  ...(alteration.delete ?? []).map((name) => ({configOperation: 1, name, value: null})),
                ],
                resourceName: alteration.name,
                resourceType: ConfigResourceType[alteration.type],
              },
            ],
            validateOnly: options.validateOnly ?? false,
          })
          const r = response.responses[0]!
          return itemResult(r.errorCode, r.errorMessage)
        }
        return this.alterConfigsLegacy(connection, alteration, options.validateOnly ?? false)
      })
      results.push({type: alteration.type, name: alteration.name, ...result})
    }
    return results
  }

  private async alterConfigsLegacy(connection: Connection, alteration: ConfigAlteration, validateOnly: boolean): Promise<ItemResult> {
    const [current] = await this.describeConfigs([{type: alteration.type, name: alteration.name}])
    if (current!.errorCode !== 0) return current!
    const dynamicSource = alteration.type === 'topic' ? 'DYNAMIC_TOPIC_CONFIG' : alteration.name === '' ? 'DYNAMIC_DEFAULT_BROKER_CONFIG' : 'DYNAMIC_BROKER_CONFIG'
    const configs = new Map(current!.configs.filter((c) => c.source === dynamicSource && !c.isSensitive).map((c) => [c.name, c.value]))
    for (const [name, value] of Object.entries(alteration.set ?? {})) configs.set(name, value)
    for (const name of alteration.delete ?? []) configs.delete(name)
    const response = await connection.send(ApiKey.AlterConfigs, {
      resources: [{configs: [...configs].map(([name, value]) => ({name, value})), resourceName: alteration.name, resourceType: ConfigResourceType[alteration.type]}],
      validateOnly,
    })
    const r = response.responses[0]!
    return itemResult(r.errorCode, r.errorMessage)
  }

  // ---- offsets ----

  /** ListOffsets for each partition, sent to the partition leaders; stale leaders are retried. */
  async listOffsets(queries: readonly TopicPartitionOffsetQuery[], options: {isolationLevel?: number} = {}): Promise<ListedOffset[]> {
    const results = new Map<string, ListedOffset>()
    let pending = [...queries]
    await this.client.withRetries(async () => {
      const byLeader = new Map<number, TopicPartitionOffsetQuery[]>()
      const retry: TopicPartitionOffsetQuery[] = []
      for (const query of pending) {
        let leader: number
        try {
          leader = await this.client.leaderFor(query.topic, query.partition)
        } catch (error) {
          if (error instanceof KafkaError && !error.retriable) {
            results.set(key(query.topic, query.partition), {
              topic: query.topic,
              partition: query.partition,
              offset: -1n,
              timestamp: -1n,
              leaderEpoch: -1,
              ...itemResult(error.errorCode, error.message),
            })
            continue
          }
          throw error
        }
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), query])
      }
      await Promise.all(
        [...byLeader].map(async ([leader, group]) => {
          const connection = await this.client.connectionTo(leader)
          const needsV7 = group.some((q) => q.timestamp === MAX_TIMESTAMP)
          const topics = new Map<string, TopicPartitionOffsetQuery[]>()
          for (const q of group) topics.set(q.topic, [...(topics.get(q.topic) ?? []), q])
          const response = await connection.send(
            ApiKey.ListOffsets,
            {
              isolationLevel: options.isolationLevel ?? 0,
              replicaId: -1,
              timeoutMs: this.client.options.requestTimeoutMs,
              topics: [...topics].map(([name, qs]) => ({
                name,
                partitions: qs.map((q) => ({currentLeaderEpoch: -1, partitionIndex: q.partition, timestamp: q.timestamp})),
              })),
            },
            needsV7 ? {minVersion: 7} : {},
          )
          for (const topic of response.topics) {
            for (const p of topic.partitions) {
              const query = group.find((q) => q.topic === topic.name && q.partition === p.partitionIndex)
              if (!query) continue
              if (isStaleMetadataCode(p.errorCode) && p.errorCode !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
                this.client.metadata.markStale(topic.name)
                retry.push(query)
                continue
              }
              results.set(key(topic.name, p.partitionIndex), {
                topic: topic.name,
                partition: p.partitionIndex,
                offset: p.offset,
                timestamp: p.timestamp,
                leaderEpoch: p.leaderEpoch,
                ...itemResult(p.errorCode),
              })
            }
          }
        }),
      )
      pending = retry
      if (retry.length > 0) throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'NOT_LEADER_OR_FOLLOWER', 'partition leaders moved', {retriable: true})
    })
    return queries.map(
      (q) =>
        results.get(key(q.topic, q.partition)) ?? {
          topic: q.topic,
          partition: q.partition,
          offset: -1n,
          timestamp: -1n,
          leaderEpoch: -1,
          ...itemResult(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'no answer'),
        },
    )
  }

  /** Earliest and latest offsets of every partition of the topics, in one pair of rounds. */
  async partitionOffsets(topics: readonly TopicInfo[]): Promise<Map<string, {earliest: bigint; latest: bigint}>> {
    const partitions = topics.flatMap((t) => t.partitions.map((p) => ({topic: t.name, partition: p.partition})))
    const [earliest, latest] = await Promise.all([
      this.listOffsets(partitions.map((p) => ({...p, timestamp: EARLIEST_TIMESTAMP}))),
      this.listOffsets(partitions.map((p) => ({...p, timestamp: LATEST_TIMESTAMP}))),
    ])
    const out = new Map<string, {earliest: bigint; latest: bigint}>()
    partitions.forEach((p, i) => out.set(key(p.topic, p.partition), {earliest: earliest[i]!.offset, latest: latest[i]!.offset}))
    return out
  }

  // ---- consumer groups ----

  /** The group coordinator's node id (cached; `refresh` looks it up again). */
  async findCoordinator(groupId: string, refresh = false): Promise<number> {
    const cached = this.coordinators.get(groupId)
    if (cached !== undefined && !refresh) return cached
    const nodeId = await this.client.withRetries(async () => {
      const connection = await this.client.anyConnection()
      const response = await connection.send(ApiKey.FindCoordinator, {coordinatorKeys: [groupId], key: groupId, keyType: 0})
      const entry = response.coordinators[0]
      const errorCode = entry ? entry.errorCode : response.errorCode
      const errorMessage = entry ? entry.errorMessage : response.errorMessage
      throwIfError(errorCode, errorMessage)
      const node = entry ? {host: entry.host, nodeId: entry.nodeId, port: entry.port} : {host: response.host, nodeId: response.nodeId, port: response.port}
      if (!this.client.metadata.brokers.has(node.nodeId)) this.client.metadata.brokers.set(node.nodeId, {...node, rack: null})
      return node.nodeId
    })
    this.coordinators.set(groupId, nodeId)
    return nodeId
  }

  /** Sends a request to the group's coordinator, finding it again after NOT_COORDINATOR and the like. */
  async toCoordinator<R>(groupId: string, fn: (connection: Connection) => Promise<R>, errorOf: (response: R) => number): Promise<R> {
    return this.client.withRetries(
      async () => {
        const connection = await this.client.connectionTo(await this.findCoordinator(groupId), 'group')
        const response = await fn(connection)
        const code = errorOf(response)
        if (code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.COORDINATOR_NOT_AVAILABLE || code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) {
          throw KafkaError.fromCode(code, `group ${groupId}`)
        }
        return response
      },
      async () => {
        this.coordinators.delete(groupId)
      },
    )
  }

  /** Every group on every broker (ListGroups goes to each broker: each lists the groups it coordinates). */
  async listGroups(): Promise<ListedGroup[]> {
    const metadata = await this.client.refreshMetadata([])
    const lists = await Promise.all(
      metadata.brokers.map(async (broker) => {
        const response = await this.client.withRetries(async () => {
          const connection = await this.client.connectionTo(broker.nodeId)
          const result = await connection.sendWithVersion(ApiKey.ListGroups, {statesFilter: [], typesFilter: []})
          if (isRetriableCode(result.response.errorCode)) throwIfError(result.response.errorCode)
          return result
        })
        throwIfError(response.response.errorCode, `ListGroups on broker ${broker.nodeId}`)
        return response.response.groups.map((g) => ({
          groupId: g.groupId,
          protocolType: g.protocolType,
          state: response.version >= 4 ? g.groupState : null,
          type: response.version >= 5 ? g.groupType : null,
          coordinatorId: broker.nodeId,
        }))
      }),
    )
    return lists.flat().sort((a, b) => a.groupId.localeCompare(b.groupId))
  }

  async describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    return Promise.all(
      groupIds.map(async (groupId) => {
        const response = await this.toCoordinator(
          groupId,
          (connection) => connection.send(ApiKey.DescribeGroups, {groups: [groupId], includeAuthorizedOperations: false}),
          (r) => r.groups[0]?.errorCode ?? 0,
        )
        const g = response.groups[0]!
        return {
          groupId,
          state: g.groupState,
          protocolType: g.protocolType,
          protocol: g.protocolData,
          coordinatorId: this.coordinators.get(groupId) ?? -1,
          ...itemResult(g.errorCode, g.errorMessage),
          members: g.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            assignment: g.protocolType === 'consumer' ? decodeAssignmentSafe(m.memberAssignment) : [],
            memberAssignment: m.memberAssignment,
          })),
        }
      }),
    )
  }

  /** Committed offsets of a group (all partitions it has offsets for, or just `partitions`). */
  async fetchOffsets(groupId: string, partitions?: readonly {topic: string; partitions: number[]}[]): Promise<CommittedOffset[]> {
    const response = await this.toCoordinator(
      groupId,
      (connection) =>
        connection.sendWithVersion(ApiKey.OffsetFetch, {
          groupId,
          groups: [{groupId, memberEpoch: -1, memberId: null, topics: partitions ? partitions.map((t) => ({name: t.topic, partitionIndexes: t.partitions})) : null}],
          requireStable: false,
          topics: partitions ? partitions.map((t) => ({name: t.topic, partitionIndexes: t.partitions})) : null,
        }, {minVersion: 2}),
      ({response: r, version}) => (version >= 8 ? (r.groups[0]?.errorCode ?? 0) : r.errorCode),
    )
    const {response: r, version} = response
    const topLevel = version >= 8 ? (r.groups[0]?.errorCode ?? 0) : r.errorCode
    if (topLevel === ErrorCode.GROUP_ID_NOT_FOUND) return []
    throwIfError(topLevel, `group ${groupId}`)
    const topics = version >= 8 ? (r.groups[0]?.topics ?? []) : r.topics
    return topics.flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.name,
        partition: p.partitionIndex,
        offset: p.committedOffset,
        leaderEpoch: p.committedLeaderEpoch,
        metadata: p.metadata,
        ...itemResult(p.errorCode),
      })),
    )
  }

  /**
   * Commits offsets for a group. Without a member (generation -1, member ''), the coordinator
   * accepts it only when the group has no active members (the way Kafka's tools reset offsets).
   */
  async commitOffsets(
    groupId: string,
    offsets: readonly {topic: string; partition: number; offset: bigint; leaderEpoch?: number; metadata?: string | null}[],
    member: {generationId: number; memberId: string; groupInstanceId?: string | null} = {generationId: -1, memberId: ''},
  ): Promise<PartitionResult[]> {
    const topics = new Map<string, typeof offsets[number][]>()
    for (const o of offsets) topics.set(o.topic, [...(topics.get(o.topic) ?? []), o])
    const response = await this.toCoordinator(
      groupId,
      (connection) =>
        connection.send(ApiKey.OffsetCommit, {
          generationIdOrMemberEpoch: member.generationId,
          groupId,
          groupInstanceId: member.groupInstanceId ?? null,
          memberId: member.memberId,
          retentionTimeMs: -1n,
          topics: [...topics].map(([name, list]) => ({
            name,
            partitions: list.map((o) => ({committedLeaderEpoch: o.leaderEpoch ?? -1, committedMetadata: o.metadata ?? '', committedOffset: o.offset, partitionIndex: o.partition})),
          })),
        }),
      (r) => r.topics[0]?.partitions[0]?.errorCode ?? 0,
    )
    return response.topics.flatMap((t) => t.partitions.map((p) => ({topic: t.name, partition: p.partitionIndex, ...itemResult(p.errorCode)})))
  }

  async deleteGroups(groupIds: readonly string[]): Promise<(ItemResult & {groupId: string})[]> {
    return Promise.all(
      groupIds.map(async (groupId) => {
        const response = await this.toCoordinator(
          groupId,
          (connection) => connection.send(ApiKey.DeleteGroups, {groupsNames: [groupId]}),
          (r) => r.results[0]?.errorCode ?? 0,
        )
        const r = response.results[0]
        return {groupId, ...itemResult(r?.errorCode ?? 0)}
      }),
    )
  }

  async deleteOffsets(groupId: string, partitions: readonly {topic: string; partitions: number[]}[]): Promise<{errorCode: number; error: string; partitions: PartitionResult[]}> {
    const response = await this.toCoordinator(
      groupId,
      (connection) =>
        connection.send(ApiKey.OffsetDelete, {
          groupId,
          topics: partitions.map((t) => ({name: t.topic, partitions: t.partitions.map((partitionIndex) => ({partitionIndex}))})),
        }),
      (r) => r.errorCode,
    )
    return {
      errorCode: response.errorCode,
      error: response.errorCode === 0 ? 'NONE' : errorName(response.errorCode),
      partitions: response.topics.flatMap((t) => t.partitions.map((p) => ({topic: t.name, partition: p.partitionIndex, ...itemResult(p.errorCode)}))),
    }
  }

  private throwIfNotController(codes: number[]): void {
    if (codes.includes(ErrorCode.NOT_CONTROLLER)) throw KafkaError.fromCode(ErrorCode.NOT_CONTROLLER)
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

function brokerIdOf(name: string): number {
  return /^\d+$/.test(name) ? Number(name) : -1
}

function toConfigEntry(c: DescribeConfigsResourceResult, options: {includeSynonyms?: boolean; includeDocumentation?: boolean}): ConfigEntry {
  const source = configSourceName(c.configSource)
  const entry: ConfigEntry = {
    name: c.name,
    value: c.value,
    source,
    readOnly: c.readOnly,
    isSensitive: c.isSensitive,
    isDefault: source === 'DEFAULT_CONFIG' || source === 'STATIC_BROKER_CONFIG' || source === 'DYNAMIC_DEFAULT_BROKER_CONFIG',
  }
  if (options.includeSynonyms) entry.synonyms = c.synonyms.map((s) => ({name: s.name, value: s.value, source: configSourceName(s.source)}))
  if (options.includeDocumentation) entry.documentation = c.documentation
  return entry
}

// ---- consumer protocol (the bytes inside JoinGroup/SyncGroup/DescribeGroups) ----

/** A consumer-protocol assignment: int16 version then the body. */
export function encodeAssignment(partitions: readonly {topic: string; partitions: number[]}[], version = 0, userData: Buffer | null = null): Buffer {
  const body = ConsumerProtocolAssignment.encode({assignedPartitions: partitions.map((p) => ({partitions: p.partitions, topic: p.topic})), userData}, version)
  const out = Buffer.allocUnsafe(2 + body.length)
  out.writeInt16BE(version, 0)
  body.copy(out, 2)
  return out
}

export function decodeAssignment(bytes: Buffer): {topic: string; partitions: number[]}[] {
  return decodeAssignmentWithUserData(bytes).partitions
}

/** An assignment's partitions and its user data (the Streams assignor's tasks). */
export function decodeAssignmentWithUserData(bytes: Buffer): {partitions: {topic: string; partitions: number[]}[]; userData: Buffer | null} {
  if (bytes.length < 2) return {partitions: [], userData: null}
  const version = Math.min(bytes.readInt16BE(0), ASSIGNMENT_MAX_VERSION)
  const assignment = ConsumerProtocolAssignment.decode(bytes, Math.max(0, version), 2)
  return {partitions: assignment.assignedPartitions.map((p) => ({partitions: p.partitions, topic: p.topic})), userData: assignment.userData}
}

function decodeAssignmentSafe(bytes: Buffer): {topic: string; partitions: number[]}[] {
  try {
    return decodeAssignment(bytes)
  } catch {
    return []
  }
}

export interface Subscription {
  topics: string[]
  userData: Buffer | null
  ownedPartitions: {topic: string; partitions: number[]}[]
}

export function encodeSubscription(topics: readonly string[], version = 0, userData: Buffer | null = null): Buffer {
  const body = ConsumerProtocolSubscription.encode({ownedPartitions: [], topics, userData}, version)
  const out = Buffer.allocUnsafe(2 + body.length)
  out.writeInt16BE(version, 0)
  body.copy(out, 2)
  return out
}

export function decodeSubscription(bytes: Buffer): Subscription {
  const version = Math.min(bytes.readInt16BE(0), ASSIGNMENT_MAX_VERSION)
  const s = ConsumerProtocolSubscription.decode(bytes, Math.max(0, version), 2)
  return {topics: s.topics, userData: s.userData, ownedPartitions: s.ownedPartitions.map((p) => ({partitions: p.partitions, topic: p.topic}))}
}
