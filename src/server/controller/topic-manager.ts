/**
 * Topic lifecycle with Kafka's rules and error codes: name validation, partition and replica
 * assignment, config validation, and the order of effects (metadata first, then the partition
 * logs; on delete, logs last). The one place topics are created, grown and deleted, used by
 * CreateTopics, CreatePartitions, DeleteTopics and auto-creation in Metadata.
 */
import type {ResolvedBrokerConfig} from '../../lib/config/broker-configs.js'
import {ConfigError} from '../../lib/config/config-def.js'
import {TOPIC_CONFIGS} from '../../lib/config/topic-configs.js'
import type {ErrorName} from '../../lib/protocol/generated/errors.js'
import type {ReplicaManager} from '../replica-manager.js'
import {MetadataError, type MetadataStore, type PartitionAssignment, type TopicMetadata} from './metadata-store.js'

/** A failure with the Kafka error it maps to. */
export class TopicError extends Error {
  constructor(readonly code: ErrorName, message: string) {
    super(message)
  }
}

const LEGAL_CHARS = /^[a-zA-Z0-9._-]+$/
const MAX_NAME_LENGTH = 249
export const INTERNAL_TOPICS = new Set(['__consumer_offsets', '__transaction_state'])

/** Kafka's Topic.validate. */
export function validateTopicName(name: string): void {
  if (name === '') throw new TopicError('INVALID_TOPIC_EXCEPTION', 'Topic name is illegal, it can\'t be empty')
  if (name === '.' || name === '..') throw new TopicError('INVALID_TOPIC_EXCEPTION', 'Topic name cannot be "." or ".."')
  if (name.length > MAX_NAME_LENGTH) throw new TopicError('INVALID_TOPIC_EXCEPTION', `Topic name is illegal, it can't be longer than ${MAX_NAME_LENGTH} characters, topic name: ${name}`)
  if (!LEGAL_CHARS.test(name)) throw new TopicError('INVALID_TOPIC_EXCEPTION', `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`)
}

export interface CreateTopicSpec {
  name: string
  /** -1: num.partitions. */
  numPartitions: number
  /** -1: default.replication.factor. */
  replicationFactor: number
  /** Explicit assignment: partition index -> broker ids. */
  assignments: Array<{partitionIndex: number; brokerIds: number[]}>
  configs: Record<string, string | null>
}

export class TopicManager {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly replicas: ReplicaManager,
    private readonly config: ResolvedBrokerConfig,
  ) {}

  /** Validates a creation and returns the topic it would make; `create` applies it. */
  plan(spec: CreateTopicSpec): Omit<TopicMetadata, 'topicId'> {
    validateTopicName(spec.name)
    if (this.metadata.topic(spec.name)) throw new TopicError('TOPIC_ALREADY_EXISTS', `Topic '${spec.name}' already exists.`)
    const collision = this.metadata.topics().find((t) => t.name !== spec.name && t.name.replace(/\./g, '_') === spec.name.replace(/\./g, '_'))
    if (collision) throw new TopicError('INVALID_TOPIC_EXCEPTION', `Topic '${spec.name}' collides with existing topic: ${collision.name}`)
    const brokers = this.metadata.brokers().map((b) => b.nodeId)
    let partitions: PartitionAssignment[]
    if (spec.assignments.length > 0) {
      if (spec.numPartitions !== -1 || spec.replicationFactor !== -1) {
        throw new TopicError('INVALID_REQUEST', 'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.')
      }
      const sorted = [...spec.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex)
      sorted.forEach((a, i) => {
        if (a.partitionIndex !== i) throw new TopicError('INVALID_REPLICA_ASSIGNMENT', 'Partitions should be a consecutive 0-based integer sequence')
      })
      partitions = sorted.map((a) => this.assignment(a.partitionIndex, a.brokerIds, brokers))
    } else {
      const numPartitions = spec.numPartitions === -1 ? this.config.int('num.partitions') : spec.numPartitions
      const replicationFactor = spec.replicationFactor === -1 ? this.config.int('default.replication.factor') : spec.replicationFactor
      if (numPartitions <= 0) throw new TopicError('INVALID_PARTITIONS', 'Number of partitions was set to an invalid non-positive value.')
      if (replicationFactor <= 0) throw new TopicError('INVALID_REPLICATION_FACTOR', 'Replication factor must be larger than 0, or -1 to use the default value.')
      if (replicationFactor > brokers.length) {
        throw new TopicError('INVALID_REPLICATION_FACTOR', `Unable to replicate the partition ${replicationFactor} time(s): The target replication factor of ${replicationFactor} cannot be reached because only ${brokers.length} broker(s) are registered.`)
      }
      partitions = Array.from({length: numPartitions}, (_, p) => {
        const replicas = Array.from({length: replicationFactor}, (_, r) => brokers[(p + r) % brokers.length]!)
        return {partition: p, replicas, leader: replicas[0]!, leaderEpoch: 0, isr: [...replicas]}
      })
    }
    const configs: Record<string, string> = {}
    for (const [key, value] of Object.entries(spec.configs)) {
      if (value === null) throw new TopicError('INVALID_CONFIG', `Null value not supported for topic configs: ${key}`)
      configs[key] = value
    }
    this.validateConfigs(configs)
    return {name: spec.name, partitions, configs, internal: INTERNAL_TOPICS.has(spec.name)}
  }

  private assignment(partition: number, brokerIds: number[], brokers: number[]): PartitionAssignment {
    if (brokerIds.length === 0) throw new TopicError('INVALID_REPLICA_ASSIGNMENT', `Empty replica assignment for partition ${partition}`)
    if (new Set(brokerIds).size !== brokerIds.length) throw new TopicError('INVALID_REPLICA_ASSIGNMENT', `Duplicate brokers not allowed in replica assignment: ${brokerIds.join(', ')} for partition id ${partition}.`)
    for (const id of brokerIds) {
      if (!brokers.includes(id)) throw new TopicError('INVALID_REPLICA_ASSIGNMENT', `Unknown broker ${id} in the replica assignment of partition ${partition}`)
    }
    return {partition, replicas: [...brokerIds], leader: brokerIds[0]!, leaderEpoch: 0, isr: [...brokerIds]}
  }

  validateConfigs(configs: Readonly<Record<string, string | null>>): void {
    try {
      TOPIC_CONFIGS.validate(configs)
    } catch (error) {
      if (error instanceof ConfigError) throw new TopicError('INVALID_CONFIG', error.message)
      throw error
    }
  }

  async create(spec: CreateTopicSpec): Promise<TopicMetadata> {
    const planned = this.plan(spec)
    let topic: TopicMetadata
    try {
      topic = await this.metadata.createTopic(planned)
    } catch (error) {
      if (error instanceof MetadataError) throw new TopicError(error.code, error.message)
      throw error
    }
    await this.replicas.ensurePartitions(topic)
    return topic
  }

  async delete(name: string): Promise<TopicMetadata> {
    const topic = this.metadata.topic(name)
    if (!topic) throw new TopicError('UNKNOWN_TOPIC_OR_PARTITION', 'This server does not host this topic-partition.')
    if (!this.config.bool('delete.topic.enable')) throw new TopicError('TOPIC_DELETION_DISABLED', 'Topic deletion is disabled.')
    await this.metadata.deleteTopic(name)
    await this.replicas.deletePartitions(topic)
    return topic
  }

  /** Grows a topic to `count` partitions; validate only when `validateOnly`. */
  async addPartitions(name: string, count: number, assignments: number[][] | null, validateOnly: boolean): Promise<TopicMetadata> {
    const topic = this.metadata.topic(name)
    if (!topic) throw new TopicError('UNKNOWN_TOPIC_OR_PARTITION', 'This server does not host this topic-partition.')
    const current = topic.partitions.length
    if (count < current) throw new TopicError('INVALID_PARTITIONS', `Topic currently has ${current} partitions, which is higher than the requested ${count}.`)
    if (count === current) throw new TopicError('INVALID_PARTITIONS', `Topic already has ${current} partitions.`)
    const brokers = this.metadata.brokers().map((b) => b.nodeId)
    const replicationFactor = topic.partitions[0]?.replicas.length ?? 1
    if (assignments && assignments.length !== count - current) {
      throw new TopicError('INVALID_REPLICA_ASSIGNMENT', `Increasing the number of partitions by ${count - current} but ${assignments.length} assignments provided.`)
    }
    const added = Array.from({length: count - current}, (_, i) => {
      const p = current + i
      const replicas = assignments ? assignments[i]! : Array.from({length: replicationFactor}, (_, r) => brokers[(p + r) % brokers.length]!)
      return this.assignment(p, replicas, brokers)
    })
    if (validateOnly) return {...topic, partitions: [...topic.partitions, ...added]}
    const grown = await this.metadata.addPartitions(name, added)
    await this.replicas.ensurePartitions(grown)
    return grown
  }

  /** Explicit topic configs merged over the broker's topic defaults. */
  effectiveConfigs(topic: TopicMetadata): Record<string, string> {
    return {...this.config.topicDefaults(), ...topic.configs}
  }
}
