/**
 * Where the group coordinator keeps its records: the partitions of __consumer_offsets. The
 * coordinator sees only this interface, so its tests run on MemoryCoordinatorLog (with injected
 * append failures) and the broker on ReplicaCoordinatorLog.
 *
 * ReplicaCoordinatorLog creates __consumer_offsets when first needed (as Kafka does on the first
 * FindCoordinator for a group), with offsets.topic.num.partitions partitions,
 * cleanup.policy=compact, offsets.topic.segment.bytes and the replication factor of
 * internalTopicReplicationFactor: offsets.topic.replication.factor in a cluster, where, as in
 * Kafka, the topic is not created (INVALID_REPLICATION_FACTOR, FindCoordinator answers
 * COORDINATOR_NOT_AVAILABLE) until that many brokers are registered; capped at the registered
 * brokers with the embedded local store (one broker, kcli's default). It appends one uncompressed
 * batch per coordinator write (records of one write are atomic: one batch) as the partition's
 * leader with acks=all (Kafka's coordinators write with acks=-1) within offsets.commit.timeout.ms;
 * the replica manager's LogErrors (NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS...) reach the
 * coordinator, which maps them. Appends to one partition are serialized by the partition log, so
 * writes complete in the order they were made.
 */
import {buildRecordBatch, decodeRecordBatch} from '../../lib/records/record.js'
import {iterateBatches} from '../../lib/records/batch.js'
import type {MetadataStore} from '../controller/metadata-store.js'
import {TopicError, type TopicManager} from '../controller/topic-manager.js'
import type {ReplicaManager} from '../replica-manager.js'
import {LogError} from '../log/errors.js'
import type {GroupCoordinatorConfig} from './group-config.js'

export const OFFSETS_TOPIC = '__consumer_offsets'

/**
 * The replication factor of an internal topic (__consumer_offsets, __transaction_state) when it is
 * created. In a cluster (etcd store) the configured one, as Kafka: with fewer registered brokers
 * the creation fails with INVALID_REPLICATION_FACTOR and coordinators stay unavailable until
 * enough brokers are up. With the local store (a single broker, kcli's embedded default) it is
 * capped at the registered brokers, so one broker works with the default of 3.
 */
export function internalTopicReplicationFactor(configured: number, registeredBrokers: number, clustered: boolean): number {
  return clustered ? configured : Math.max(1, Math.min(configured, registeredBrokers))
}

export interface CoordinatorRecord {
  key: Buffer
  /** null: a tombstone. */
  value: Buffer | null
}

export interface LoadedRecord extends CoordinatorRecord {
  partition: number
  offset: number
  timestamp: number
}

export interface CoordinatorLog {
  /** Partitions of __consumer_offsets (the configured count until the topic exists). */
  partitionCount(): number
  /** Creates the topic if missing. */
  ensureTopic(): Promise<void>
  /** Appends the records of one write as one batch to one partition. */
  append(partition: number, records: readonly CoordinatorRecord[], timestamp: number): Promise<void>
  /** Every record of one partition (or of every partition), in log order per partition (loading). */
  load(partition?: number): AsyncIterable<LoadedRecord>
}

export class ReplicaCoordinatorLog implements CoordinatorLog {
  private creating?: Promise<void>
  private ready = false

  constructor(
    private readonly deps: {
      metadata: MetadataStore
      topics: TopicManager
      replicas: ReplicaManager
      config: GroupCoordinatorConfig
      /** A cluster's store: the configured replication factor, not capped. */
      clustered?: boolean
      /** offsets.commit.timeout.ms: how long an acks=all write may wait for the ISR. */
      timeoutMs?: number
    },
  ) {}

  partitionCount(): number {
    return this.deps.metadata.topic(OFFSETS_TOPIC)?.partitions.length ?? this.deps.config.offsetsTopicPartitions
  }

  ensureTopic(): Promise<void> {
    if (this.ready) return Promise.resolve()
    // One creation at a time; callers during it wait for every partition to be open (the topic
    // is in the metadata before its partition logs exist).
    this.creating ??= (async () => {
      const {config, metadata, topics, replicas} = this.deps
      if (!metadata.topic(OFFSETS_TOPIC)) {
        const replicationFactor = internalTopicReplicationFactor(config.offsetsTopicReplicationFactor, metadata.brokers().length, this.deps.clustered ?? false)
        try {
          await topics.create({
            name: OFFSETS_TOPIC,
            numPartitions: config.offsetsTopicPartitions,
            replicationFactor,
            assignments: [],
            configs: {'cleanup.policy': 'compact', 'compression.type': 'producer', 'segment.bytes': String(config.offsetsTopicSegmentBytes)},
          })
        } catch (error) {
          if (!(error instanceof TopicError && error.code === 'TOPIC_ALREADY_EXISTS')) throw error
        }
      }
      const topic = metadata.topic(OFFSETS_TOPIC)
      if (topic) await replicas.ensurePartitions(topic)
      // Ready once the partitions assigned to this broker are open (in a cluster, the others are hosted elsewhere).
      this.ready = topic !== undefined && topic.partitions.every((p) => !p.replicas.includes(replicas.nodeId) || replicas.get(OFFSETS_TOPIC, p.partition) !== undefined)
    })().finally(() => {
      this.creating = undefined
    })
    return this.creating
  }

  async append(partition: number, records: readonly CoordinatorRecord[], timestamp: number): Promise<void> {
    await this.ensureTopic()
    let p = this.deps.replicas.get(OFFSETS_TOPIC, partition)
    if (!p && !this.deps.metadata.topic(OFFSETS_TOPIC)) {
      // The topic was deleted (DeleteTopics does not protect internal topics): make it again.
      this.ready = false
      await this.ensureTopic()
      p = this.deps.replicas.get(OFFSETS_TOPIC, partition)
    }
    if (!p) throw new LogError('NOT_LEADER_OR_FOLLOWER', `${OFFSETS_TOPIC}-${partition} is not hosted here`)
    const batch = await buildRecordBatch({records: records.map((r) => ({key: r.key, value: r.value, timestamp}))})
    await this.deps.replicas.appendAsLeader(p, batch, {origin: 'coordinator', requiredAcks: -1, timeoutMs: this.deps.timeoutMs ?? 5000})
  }

  async *load(partition?: number): AsyncIterable<LoadedRecord> {
    const topic = this.deps.metadata.topic(OFFSETS_TOPIC)
    if (!topic) return
    for (const {partition: index} of topic.partitions) {
      if (partition !== undefined && index !== partition) continue
      const p = this.deps.replicas.get(OFFSETS_TOPIC, index)
      if (!p) continue
      let offset = p.log.logStartOffset
      const end = p.log.logEndOffset
      // Transactional offset commits (TxnOffsetCommit) count only once their transaction committed.
      const aborted = await p.log.collectAbortedTransactions(offset, end)
      const open = p.log.producerState.openTransactions()
      const uncommitted = (producerId: number, at: number) =>
        (open.get(producerId) ?? Infinity) <= at || aborted.some((a) => a.producerId === producerId && a.firstOffset <= at && at <= a.lastOffset)
      while (offset < end) {
        const read = await p.log.read(offset, 5 * 1024 * 1024, {minOneMessage: true, maxOffset: end})
        if (read.records.length === 0) break
        for (const {position, header} of iterateBatches(read.records)) {
          if (header.isTransactional && uncommitted(header.producerId, header.baseOffset)) continue
          const batch = await decodeRecordBatch(read.records, position)
          if (!batch.header.isControl) {
            for (const r of batch.records) {
              if (r.offset < offset || r.key === null) continue
              yield {partition: index, offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value}
            }
          }
        }
        offset = Math.max(read.nextOffset, offset + 1)
      }
    }
  }
}

/** In memory, for tests: records per partition, and append failures on demand. */
export class MemoryCoordinatorLog implements CoordinatorLog {
  readonly partitions: LoadedRecord[][]
  /** When set, the next appends fail with this error (until cleared). */
  failAppends: Error | undefined
  created = false
  appends = 0

  constructor(readonly count = 4) {
    this.partitions = Array.from({length: count}, () => [])
  }

  partitionCount(): number {
    return this.count
  }

  ensureTopic(): Promise<void> {
    this.created = true
    return Promise.resolve()
  }

  append(partition: number, records: readonly CoordinatorRecord[], timestamp: number): Promise<void> {
    this.created = true
    if (this.failAppends) return Promise.reject(this.failAppends)
    this.appends++
    const log = this.partitions[partition]!
    for (const r of records) log.push({partition, offset: log.length, timestamp, key: r.key, value: r.value})
    return Promise.resolve()
  }

  // eslint-disable-next-line @typescript-eslint/require-await
  async *load(partition?: number): AsyncIterable<LoadedRecord> {
    if (partition !== undefined) yield* this.partitions[partition] ?? []
    else for (const p of this.partitions) yield* p
  }

  /** Every record of every partition (inspection in tests). */
  all(): LoadedRecord[] {
    return this.partitions.flat()
  }
}

/**
 * The error a coordinator answers for a failed write to its internal topic (Kafka's
 * CoordinatorOperationExceptionHelper and TransactionStateManager.appendTransactionToLog map the
 * same way): this broker no longer leads the partition or cannot write it — find the coordinator
 * again (NOT_COORDINATOR); the partition is unavailable for now — retry (COORDINATOR_NOT_AVAILABLE:
 * UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS(_AFTER_APPEND), REQUEST_TIMED_OUT, anything not a
 * LogError); a write too large (UNKNOWN_SERVER_ERROR).
 */
export function coordinatorWriteErrorName(error: unknown): 'NOT_COORDINATOR' | 'COORDINATOR_NOT_AVAILABLE' | 'UNKNOWN_SERVER_ERROR' {
  if (!(error instanceof LogError)) return 'COORDINATOR_NOT_AVAILABLE'
  switch (error.code) {
    case 'NOT_LEADER_OR_FOLLOWER':
    case 'KAFKA_STORAGE_ERROR':
      return 'NOT_COORDINATOR'
    case 'MESSAGE_TOO_LARGE':
    case 'RECORD_LIST_TOO_LARGE':
      return 'UNKNOWN_SERVER_ERROR'
    default:
      return 'COORDINATOR_NOT_AVAILABLE'
  }
}
