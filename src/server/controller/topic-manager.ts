/**
 * Topic lifecycle with Kafka's rules and error codes: name validation, partition and replica
 * assignment (replica-placer.ts, Kafka's StripedReplicaPlacer; explicit assignments validated as
 * Kafka's validateManualPartitionAssignment does), config validation, and the order of effects (metadata first, then the partition
 * logs; on delete, logs last). The one place topics are created, grown and deleted, used by
 * CreateTopics, CreatePartitions, DeleteTopics and auto-creation in Metadata.
 *
 * The checks and their messages are those of Kafka 4.0's KRaft controller
 * (ReplicationControlManager.createTopic / createPartitions, LogConfig.validate), in the same
 * order, so a client that shows the message shows what Apache Kafka would have said.
 *
 * Topic configs resolve as Kafka's LogConfig does: explicit topic configs over the broker's log.*
 * defaults, where a broker default comes from the dynamic per-broker config, then the dynamic
 * cluster default, then the static config (server.properties, flags, environment).
 */
import {resolveBrokerConfig, type ResolvedBrokerConfig} from '../../lib/config/broker-configs.js'
import {ConfigError} from '../../lib/config/config-def.js'
import {TOPIC_CONFIGS} from '../../lib/config/topic-configs.js'
import type {ErrorName} from '../../lib/protocol/generated/errors.js'
import {logConfigFromTopicConfigs} from '../log/log-config.js'
import type {ReplicaManager} from '../replica-manager.js'
import {MetadataError, type MetadataStore, type PartitionAssignment, type TopicMetadata} from './metadata-store.js'
import {checkReplicationFactor, defaultRandom, InvalidReplicationFactorError, placeReplicas, type RandomSource, type UsableBroker} from './replica-placer.js'

/** A failure with the Kafka error it maps to; `kafkaMessage` is what goes on the wire (null: none). */
export class TopicError extends Error {
  constructor(
    readonly code: ErrorName,
    readonly kafkaMessage: string | null,
  ) {
    super(kafkaMessage ?? code)
  }
}

const LEGAL_CHARS = /^[a-zA-Z0-9._-]+$/
const MAX_NAME_LENGTH = 249
export const INTERNAL_TOPICS = new Set(['__consumer_offsets', '__transaction_state'])
/** KRaft's metadata log; never a topic clients may create or see. */
export const CLUSTER_METADATA_TOPIC = '__cluster_metadata'
/**
 * Kafka's QuorumController.MAX_RECORDS_PER_USER_OP: one operation writes at most this many
 * metadata records (a topic record, its config records, one per partition). Bigger operations get
 * POLICY_VIOLATION; it also keeps a request from making the broker allocate millions of partitions.
 */
export const MAX_RECORDS_PER_USER_OP = 10_000
const EXCESSIVELY_LARGE = 'Unable to perform excessively large batch operation.'

/** Kafka's Topic.validate. */
export function validateTopicName(name: string): void {
  if (name === '') throw new TopicError('INVALID_TOPIC_EXCEPTION', 'Topic name is illegal, it can\'t be empty')
  if (name === '.' || name === '..') throw new TopicError('INVALID_TOPIC_EXCEPTION', 'Topic name cannot be "." or ".."')
  if (name.length > MAX_NAME_LENGTH) throw new TopicError('INVALID_TOPIC_EXCEPTION', `Topic name is illegal, it can't be longer than ${MAX_NAME_LENGTH} characters, topic name: ${name}`)
  if (!LEGAL_CHARS.test(name)) throw new TopicError('INVALID_TOPIC_EXCEPTION', `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`)
}

export function isValidTopicName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME_LENGTH && LEGAL_CHARS.test(name) && name !== '.' && name !== '..'
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
  private topicDefaultsCache?: Record<string, string>

  constructor(
    private readonly metadata: MetadataStore,
    private readonly replicas: ReplicaManager,
    private readonly config: ResolvedBrokerConfig,
    /** The placer's random starting offsets and shuffles (tests pass a seeded one). */
    private readonly random: RandomSource = defaultRandom,
  ) {}

  /** Validates a creation and returns the topic it would make; `create` applies it. */
  plan(spec: CreateTopicSpec): Omit<TopicMetadata, 'topicId'> {
    validateTopicName(spec.name)
    const collision = this.metadata.topics().find((t) => t.name !== spec.name && t.name.replace(/\./g, '_') === spec.name.replace(/\./g, '_'))
    if (this.metadata.topic(spec.name)) throw new TopicError('TOPIC_ALREADY_EXISTS', `Topic '${spec.name}' already exists.`)
    if (collision) throw new TopicError('INVALID_TOPIC_EXCEPTION', `Topic '${spec.name}' collides with existing topic: ${collision.name}`)
    const nullConfigs = Object.entries(spec.configs).filter(([, v]) => v === null).map(([k]) => k)
    if (nullConfigs.length > 0) throw new TopicError('INVALID_CONFIG', `Null value not supported for topic configs: ${nullConfigs.join(',')}`)
    const configs = spec.configs as Record<string, string>
    this.validateConfigs(configs)
    const brokers = this.metadata.brokers().map((b) => b.nodeId)
    let partitions: PartitionAssignment[]
    if (spec.assignments.length > 0) {
      if (spec.replicationFactor !== -1) throw new TopicError('INVALID_REQUEST', 'A manual partition assignment was specified, but replication factor was not set to -1.')
      if (spec.numPartitions !== -1) throw new TopicError('INVALID_REQUEST', 'A manual partition assignment was specified, but numPartitions was not set to -1.')
      if (spec.assignments.length + 1 + Object.keys(configs).length > MAX_RECORDS_PER_USER_OP) throw new TopicError('POLICY_VIOLATION', EXCESSIVELY_LARGE)
      const byIndex = new Map<number, PartitionAssignment>()
      const active = this.activeBrokers()
      let replicationFactor: number | undefined
      for (const a of spec.assignments) {
        if (byIndex.has(a.partitionIndex)) throw new TopicError('INVALID_REPLICA_ASSIGNMENT', `Found multiple manual partition assignments for partition ${a.partitionIndex}`)
        byIndex.set(a.partitionIndex, this.manualAssignment(a.partitionIndex, a.brokerIds, brokers, replicationFactor, active))
        replicationFactor = a.brokerIds.length
      }
      for (let i = 0; i < byIndex.size; i++) {
        if (!byIndex.has(i)) throw new TopicError('INVALID_REPLICA_ASSIGNMENT', 'partitions should be a consecutive 0-based integer sequence')
      }
      partitions = [...byIndex.values()].sort((a, b) => a.partition - b.partition)
    } else {
      if (spec.replicationFactor < -1 || spec.replicationFactor === 0) throw new TopicError('INVALID_REPLICATION_FACTOR', 'Replication factor must be larger than 0, or -1 to use the default value.')
      if (spec.numPartitions < -1 || spec.numPartitions === 0) throw new TopicError('INVALID_PARTITIONS', 'Number of partitions was set to an invalid non-positive value.')
      const numPartitions = spec.numPartitions === -1 ? this.config.int('num.partitions') : spec.numPartitions
      const replicationFactor = spec.replicationFactor === -1 ? this.config.int('default.replication.factor') : spec.replicationFactor
      const usable = this.usableBrokers()
      try {
        checkReplicationFactor(replicationFactor, usable.length, usable.filter((b) => !b.fenced).length)
      } catch (error) {
        // Kafka's createTopic prefixes the placer's message (createPartitions does not).
        if (error instanceof InvalidReplicationFactorError) throw new TopicError('INVALID_REPLICATION_FACTOR', `Unable to replicate the partition ${replicationFactor} time(s): ${error.message}`)
        throw error
      }
      if (numPartitions + 1 + Object.keys(configs).length > MAX_RECORDS_PER_USER_OP) throw new TopicError('POLICY_VIOLATION', EXCESSIVELY_LARGE)
      partitions = placeReplicas(usable, numPartitions, replicationFactor, this.random).map((replicas, p) => newPartition(p, replicas))
    }
    return {name: spec.name, partitions, configs: {...configs}, internal: INTERNAL_TOPICS.has(spec.name)}
  }

  /**
   * The brokers replicas may be placed on (Kafka's usableBrokers): every registered broker with its
   * broker.rack but those in controlled shutdown. A broker is registered only while it is alive
   * (its etcd lease), so none is fenced.
   */
  private usableBrokers(): UsableBroker[] {
    return this.metadata
      .brokers()
      .filter((b) => !b.shuttingDown)
      .map((b) => ({id: b.nodeId, rack: b.rack ?? null, fenced: false}))
  }

  /** Kafka's isActive: registered and not in controlled shutdown (kcli has no fenced brokers). */
  private activeBrokers(): Set<number> {
    return new Set(this.usableBrokers().map((b) => b.id))
  }

  /**
   * Kafka's validateManualPartitionAssignment (brokers checked in ascending id order), then the
   * partition as createTopic/createPartitions build it: the ISR is the replicas that are active,
   * the leader the first of them.
   */
  private manualAssignment(partition: number, brokerIds: number[], brokers: number[], replicationFactor: number | undefined, active: ReadonlySet<number>): PartitionAssignment {
    if (brokerIds.length === 0) throw new TopicError('INVALID_REPLICA_ASSIGNMENT', 'The manual partition assignment includes an empty replica list.')
    const sorted = [...brokerIds].sort((a, b) => a - b)
    sorted.forEach((id, i) => {
      if (!brokers.includes(id)) throw new TopicError('INVALID_REPLICA_ASSIGNMENT', `The manual partition assignment includes broker ${id}, but no such broker is registered.`)
      if (i > 0 && sorted[i - 1] === id) throw new TopicError('INVALID_REPLICA_ASSIGNMENT', `The manual partition assignment includes the broker ${id} more than once.`)
    })
    if (replicationFactor !== undefined && brokerIds.length !== replicationFactor) {
      throw new TopicError('INVALID_REPLICA_ASSIGNMENT', `The manual partition assignment includes a partition with ${brokerIds.length} replica(s), but this is not consistent with previous partitions, which have ${replicationFactor} replica(s).`)
    }
    const isr = brokerIds.filter((id) => active.has(id))
    if (isr.length === 0) {
      throw new TopicError('INVALID_REPLICA_ASSIGNMENT', `All brokers specified in the manual partition assignment for partition ${partition} are fenced or in controlled shutdown.`)
    }
    return {partition, replicas: [...brokerIds], leader: isr[0]!, leaderEpoch: 0, isr}
  }

  /**
   * Kafka's LogConfig.validate for a topic's complete explicit configs: names, then values, then
   * the checks across configs (against the broker defaults where the topic sets nothing), then
   * that the partition log can take the result. Throws TopicError INVALID_CONFIG with Kafka's
   * message.
   */
  validateConfigs(configs: Readonly<Record<string, string>>, defaults: Readonly<Record<string, string>> = this.topicDefaults()): void {
    for (const name of Object.keys(configs)) {
      if (!TOPIC_CONFIGS.has(name)) throw new TopicError('INVALID_CONFIG', `Unknown topic config name: ${name}`)
    }
    try {
      TOPIC_CONFIGS.validate(configs)
    } catch (error) {
      if (error instanceof ConfigError) throw new TopicError('INVALID_CONFIG', error.kafkaMessage)
      throw error
    }
    const combined = {...defaults, ...configs}
    const value = (name: string) => combined[name] ?? TOPIC_CONFIGS.get(name)!.default!
    const minLag = BigInt(value('min.compaction.lag.ms').trim())
    const maxLag = BigInt(value('max.compaction.lag.ms').trim())
    if (minLag > maxLag) throw new TopicError('INVALID_CONFIG', `conflict topic config setting min.compaction.lag.ms (${minLag}) > max.compaction.lag.ms (${maxLag})`)
    if (value('remote.storage.enable').trim().toLowerCase() === 'true') {
      throw new TopicError('INVALID_CONFIG', 'Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.')
    }
    checkLogConfig(combined)
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

  /**
   * Deletes a topic: its metadata (with its configs), then its partition logs. Internal topics are
   * not protected: Kafka 4.0's controller deletes them too (only the old ZooKeeper-era
   * kafka-topics.sh refused, on the client side).
   */
  async delete(name: string): Promise<TopicMetadata> {
    const topic = this.metadata.topic(name)
    if (!topic) throw new TopicError('UNKNOWN_TOPIC_OR_PARTITION', 'This server does not host this topic-partition.')
    if (!this.config.bool('delete.topic.enable')) throw new TopicError('TOPIC_DELETION_DISABLED', 'Topic deletion is disabled.')
    try {
      await this.metadata.deleteTopic(name)
    } catch (error) {
      if (error instanceof MetadataError) throw new TopicError(error.code, error.message)
      throw error
    }
    await this.replicas.deletePartitions(topic)
    return topic
  }

  /**
   * Grows a topic to `count` partitions (Kafka's createPartitions): new partitions keep the
   * replication factor of the existing ones; explicit assignments give one broker list per new
   * partition. With `validateOnly` nothing changes and the grown topic is returned as it would be.
   */
  async addPartitions(name: string, count: number, assignments: number[][] | null, validateOnly: boolean): Promise<TopicMetadata> {
    const topic = this.metadata.topic(name)
    if (!topic) throw new TopicError('UNKNOWN_TOPIC_OR_PARTITION', null)
    const current = topic.partitions.length
    if (count === current) throw new TopicError('INVALID_PARTITIONS', `Topic already has ${current} partition(s).`)
    if (count < current) throw new TopicError('INVALID_PARTITIONS', `The topic ${name} currently has ${current} partition(s); ${count} would not be an increase.`)
    const additional = count - current
    if (assignments && assignments.length !== additional) {
      throw new TopicError('INVALID_REPLICA_ASSIGNMENT', `Attempted to add ${additional} additional partition(s), but only ${assignments.length} assignment(s) were specified.`)
    }
    if (additional > MAX_RECORDS_PER_USER_OP) throw new TopicError('POLICY_VIOLATION', EXCESSIVELY_LARGE)
    const brokers = this.metadata.brokers().map((b) => b.nodeId)
    const replicationFactor = topic.partitions[0]?.replicas.length ?? 1
    let added: PartitionAssignment[]
    if (assignments) {
      const active = this.activeBrokers()
      added = assignments.map((brokerIds, i) => this.manualAssignment(current + i, brokerIds, brokers, replicationFactor, active))
    } else {
      try {
        added = placeReplicas(this.usableBrokers(), additional, replicationFactor, this.random).map((replicas, i) => newPartition(current + i, replicas))
      } catch (error) {
        // createPartitions passes the placer's message on as it is.
        if (error instanceof InvalidReplicationFactorError) throw new TopicError('INVALID_REPLICATION_FACTOR', error.message)
        throw error
      }
    }
    if (validateOnly) return {...topic, partitions: [...topic.partitions, ...added]}
    let grown: TopicMetadata
    try {
      grown = await this.metadata.addPartitions(name, added)
    } catch (error) {
      if (error instanceof MetadataError) throw new TopicError(error.code, error.code === 'UNKNOWN_TOPIC_OR_PARTITION' ? null : error.message)
      throw error
    }
    await this.replicas.ensurePartitions(grown)
    return grown
  }

  /** Explicit topic configs merged over the broker's topic defaults. */
  effectiveConfigs(topic: Pick<TopicMetadata, 'configs'>): Record<string, string> {
    return {...this.topicDefaults(), ...topic.configs}
  }

  /** One config of effectiveConfigs(topic), without building them all (the produce path asks for compression.type per partition). */
  effectiveConfig(topic: Pick<TopicMetadata, 'configs'>, name: string): string | undefined {
    return Object.hasOwn(topic.configs, name) ? topic.configs[name] : this.topicDefaults()[name]
  }

  /**
   * The topic config defaults the broker's log.* configs imply (retention.ms from
   * log.retention.hours, ...), with dynamic broker configs over static ones. Cached; call
   * `brokerConfigsChanged` after changing dynamic broker configs.
   */
  topicDefaults(): Readonly<Record<string, string>> {
    this.topicDefaultsCache ??= this.topicDefaultsFor(this.metadata.brokerConfigs(''), this.metadata.brokerConfigs(this.config.nodeId))
    return this.topicDefaultsCache
  }

  /** The topic defaults these dynamic broker configs (cluster default, this broker's) would give. */
  topicDefaultsFor(dynamicDefault: Readonly<Record<string, string>>, dynamicBroker: Readonly<Record<string, string>>): Record<string, string> {
    return topicDefaultsOf(this.config, dynamicDefault, dynamicBroker)
  }

  /** Forgets cached topic defaults; the next read sees the dynamic broker configs in the store. */
  brokerConfigsChanged(): void {
    this.topicDefaultsCache = undefined
  }
}

/** A placed partition: led by its first replica, every replica in sync (the placer uses only active brokers). */
function newPartition(partition: number, replicas: readonly number[]): PartitionAssignment {
  return {partition, replicas: [...replicas], leader: replicas[0]!, leaderEpoch: 0, isr: [...replicas]}
}

function topicDefaultsOf(config: ResolvedBrokerConfig, dynamicDefault: Readonly<Record<string, string>>, dynamicBroker: Readonly<Record<string, string>>): Record<string, string> {
  const dynamic = {...dynamicDefault, ...dynamicBroker}
  return Object.keys(dynamic).length === 0 ? config.topicDefaults() : resolveBrokerConfig({...config.explicit, ...dynamic}).topicDefaults()
}

/**
 * A topic's effective configs as TopicManager.effectiveConfigs gives them, for use before the
 * TopicManager exists (while the partition logs load at start).
 */
export function effectiveTopicConfigs(metadata: MetadataStore, config: ResolvedBrokerConfig, topic: Pick<TopicMetadata, 'configs'>): Record<string, string> {
  return {...topicDefaultsOf(config, metadata.brokerConfigs(''), metadata.brokerConfigs(config.nodeId)), ...topic.configs}
}

/**
 * Refuses topic configs that Kafka accepts but kcli's partition log cannot take (an empty
 * cleanup.policy), so a config change never leaves a log that cannot be opened.
 */
export function checkLogConfig(effective: Readonly<Record<string, string>>): void {
  try {
    logConfigFromTopicConfigs(effective)
  } catch (error) {
    if (!(error instanceof RangeError)) throw error
    const at = error.message.indexOf('=')
    const [name, value] = at < 0 ? [error.message, ''] : [error.message.slice(0, at), error.message.slice(at + 1)]
    throw new TopicError('INVALID_CONFIG', `Invalid value ${value} for configuration ${name}: not supported by this broker`)
  }
}
