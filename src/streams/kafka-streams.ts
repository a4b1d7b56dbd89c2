/**
 * The runtime (Kafka Streams' KafkaStreams): the application's instances form one consumer group
 * (group id = application.id) subscribed to every source topic, internal ones included; partition
 * p of a sub-topology's inputs is task `<sub-topology>_<p>`, which owns the stores of the
 * sub-topology for that partition, restored from their changelogs before processing.
 *
 * at_least_once (default): commit = flush the producer, commit the consumed offsets, flush the
 * stores, write the task's `.checkpoint` (changelog offsets the store on disk holds). A restart
 * restores from the checkpoint on.
 *
 * exactly_once_v2: one transactional producer per instance (transactional.id
 * `<application.id>-<process id>-1`, the process id kept in the state directory so that a
 * restarted instance fences its predecessor and aborts its open transaction at once); output,
 * repartition and changelog records and the consumed offsets (sendOffsetsToTransaction with the
 * member's generation) go into one transaction per commit interval, and everything is consumed
 * read_committed. The stores are flushed to disk only after the transaction commits, and the
 * checkpoint is written only on a clean close and deleted when a task starts: after a crash there
 * is none, so the store is wiped and restored from the changelog, read_committed, as Kafka Streams
 * does under EOS.
 */
import {randomUUID} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseBootstrapServers} from '../lib/cli/bootstrap-server.js'
import {Admin, EARLIEST_TIMESTAMP, LATEST_TIMESTAMP} from '../lib/client/admin.js'
import {KafkaClient} from '../lib/client/client.js'
import {type ConsumedRecord, Consumer, type PartitionPosition} from '../lib/client/consumer.js'
import {ErrorCode} from '../lib/client/errors.js'
import {Producer} from '../lib/client/producer.js'
import {GlobalStores} from './global-stores.js'
import {PunctuationQueue} from './punctuation.js'
import type {Serde} from './serdes.js'
import {type AssignmentInfo, compareTaskIds, decodeAssignmentInfo, parseTaskId, StreamsAssignor, type SubscriptionInfo} from './assignor.js'
import {partitionForKey} from '../lib/client/murmur2.js'
import {InMemoryKeyValueStore, PersistentKeyValueStore, type TaskStateStore} from './store.js'
import {type Cancellable, changelogTopic, type KeyValueStore, type Processor, type ProcessorContext, type PunctuationType, type StreamRecord, type StreamsLogger, type Subtopology, type Topology, TopologyException} from './topology.js'

export type StreamsState = 'CREATED' | 'REBALANCING' | 'RUNNING' | 'PENDING_SHUTDOWN' | 'NOT_RUNNING' | 'PENDING_ERROR' | 'ERROR'

/** What a deserialization exception handler decides: skip the record or fail the application. */
export type DeserializationHandlerResponse = 'CONTINUE' | 'FAIL'
export type DeserializationExceptionHandler = (context: {taskId: string; topic: string; partition: number; offset: number}, record: ConsumedRecord, error: Error) => DeserializationHandlerResponse

/** Kafka's handlers by their class names (and short names). */
export const LogAndContinueExceptionHandler: DeserializationExceptionHandler = () => 'CONTINUE'
export const LogAndFailExceptionHandler: DeserializationExceptionHandler = () => 'FAIL'

export interface StreamsConfig {
  'application.id': string
  'bootstrap.servers': string
  /** Default at_least_once. */
  'processing.guarantee'?: 'at_least_once' | 'exactly_once_v2'
  /** Default 30000 (at_least_once) or 100 (exactly_once_v2), as Kafka Streams. */
  'commit.interval.ms'?: number
  /** Default `<tmpdir>/kafka-streams`. */
  'state.dir'?: string
  /**
   * The record cache in front of aggregation stores (bytes, all tasks of the instance; default
   * 10485760 as Kafka; 0 disables): updates of a key are forwarded and logged only on commit or eviction.
   * `cache.max.bytes.buffering` (deprecated in Kafka) is read too.
   */
  'statestore.cache.max.bytes'?: number
  'cache.max.bytes.buffering'?: number
  'default.key.serde'?: Serde<any>
  'default.value.serde'?: Serde<any>
  /** Default LogAndFail. Kafka 4.0 names it deserialization.exception.handler; both are read. */
  'default.deserialization.exception.handler'?: 'LogAndContinueExceptionHandler' | 'LogAndFailExceptionHandler' | DeserializationExceptionHandler
  'deserialization.exception.handler'?: 'LogAndContinueExceptionHandler' | 'LogAndFailExceptionHandler' | DeserializationExceptionHandler
  /** Internal topics' replication factor. Default -1 (the broker's default.replication.factor). */
  'replication.factor'?: number
  /** Main consumer settings. */
  'session.timeout.ms'?: number
  'heartbeat.interval.ms'?: number
  /** Static membership: a restarted instance takes its predecessor's place without waiting for its session to expire. */
  'group.instance.id'?: string
  'client.id'?: string
  /** exactly_once_v2: transaction.timeout.ms of the producer. Default 10000 (Kafka Streams' default under EOS). */
  'transaction.timeout.ms'?: number
  /** Standby tasks per task: copies of its stores kept up to date from the changelog on other instances. Default 0. */
  'num.standby.replicas'?: number
  /** `host:port` this instance's interactive queries are served on (queryMetadataForKey names it). */
  'application.server'?: string
  /** Where WARN/ERROR lines go. Default: stderr. */
  logger?: StreamsLogger
  /**
   * Left/outer stream-stream joins emit non-joined records at most once per this many ms of wall
   * clock (Kafka's internal setting of the same name; default 1000). 0: on every record.
   */
  '__emit.interval.ms.kstreams.outer.join.spurious.results.fix__'?: number
}

/** Kafka's StreamsException: what a failed application reports. */
export class StreamsException extends Error {
  override name = 'StreamsException'
}

export class MissingSourceTopicException extends StreamsException {
  override name = 'MissingSourceTopicException'
}

/** Kafka's InvalidStateStoreException: a store queried while the application cannot serve it. */
export class InvalidStateStoreException extends StreamsException {
  override name = 'InvalidStateStoreException'
}

export interface HostInfo {
  host: string
  port: number
}

/** Kafka's KeyQueryMetadata: which instance holds a key's task (and its standbys). */
export interface KeyQueryMetadata {
  activeHost: HostInfo
  standbyHosts: HostInfo[]
  partition: number
}

/** Kafka's KeyQueryMetadata.NOT_AVAILABLE: no instance advertises application.server, or the key's task is not assigned. */
export const KEY_QUERY_METADATA_NOT_AVAILABLE: KeyQueryMetadata = Object.freeze({activeHost: {host: 'unavailable', port: -1}, partition: -1, standbyHosts: []})

/** A read-only view of a key-value store over this instance's active tasks (Kafka's ReadOnlyKeyValueStore). */
export interface ReadOnlyKeyValueStore<K, V> {
  get(key: K): V | undefined
  all(): IterableIterator<{key: K; value: V}>
  approximateNumEntries(): number
}

function parseHostInfo(endpoint: string): HostInfo {
  const i = endpoint.lastIndexOf(':')
  return {host: endpoint.slice(0, i), port: Number(endpoint.slice(i + 1))}
}

/** Kafka's OffsetCheckpoint format: version 0, the count, then `topic partition offset` lines. */
function writeCheckpointFile(path: string, entries: readonly {topic: string; partition: number; offset: bigint}[]): void {
  writeFileSync(path + '.tmp', `0\n${entries.length}\n${entries.map((e) => `${e.topic} ${e.partition} ${e.offset}\n`).join('')}`)
  renameSync(path + '.tmp', path)
}

function readCheckpointFile(path: string): Map<string, bigint> {
  const map = new Map<string, bigint>()
  if (!existsSync(path)) return map
  const lines = readFileSync(path, 'utf8').split('\n')
  for (const line of lines.slice(2)) {
    const [topic, partition, offset] = line.split(' ')
    if (topic && partition !== undefined && offset !== undefined) map.set(topic, BigInt(offset))
  }
  return map
}

const REPARTITION_CONFIGS = {'cleanup.policy': 'delete', 'message.timestamp.type': 'CreateTime', 'retention.ms': '-1', 'segment.bytes': '52428800'}
const CHANGELOG_CONFIGS = {'cleanup.policy': 'compact', 'message.timestamp.type': 'CreateTime'}

/** Restores and standbys write to the store every this many records. */
const RESTORE_FLUSH_RECORDS = 10_000
/** Restore and standby consumers fetch up to this much per partition (the main consumer: 1 MiB). */
const RESTORE_FETCH_BYTES = 8 * 1024 * 1024

const stderrLogger: StreamsLogger = {
  error: (m) => process.stderr.write(`ERROR ${m}\n`),
  info: () => undefined,
  warn: (m) => process.stderr.write(`WARN ${m}\n`),
}

interface TaskStore {
  store: TaskStateStore
  changelog: string | null
  /** The changelog offset after the last record the store holds (checkpoint). */
  changelogOffset: bigint
}

class Task implements Omit<ProcessorContext, 'forward'> {
  readonly processors = new Map<string, Processor>()
  readonly children = new Map<string, string[]>()
  readonly stores = new Map<string, TaskStore>()
  topic = ''
  partition = -1
  offset = -1
  /** The largest record timestamp processed (Kafka's task stream time). */
  streamTime = -1
  readonly streamTimePunctuation = new PunctuationQueue()
  readonly wallClockPunctuation = new PunctuationQueue()
  constructor(
    readonly id: string,
    readonly sub: Subtopology,
    readonly taskPartition: number,
    readonly dir: string,
    readonly app: KafkaStreams,
  ) {}

  get applicationId() {
    return this.app.applicationId
  }

  get taskId() {
    return this.id
  }

  get log() {
    return this.app.log
  }

  defaultSerde(kind: 'key' | 'value', forWhat: string): Serde<unknown> {
    const serde = this.app.config[kind === 'key' ? 'default.key.serde' : 'default.value.serde']
    if (!serde) {
      throw new StreamsException(`Failed to initialize ${kind} serdes for ${forWhat}: Please specify a ${kind} serde or set one through default.${kind}.serde`)
    }
    return serde
  }

  partitionsFor(topic: string): number {
    const info = this.app.client.metadata.topic(topic)
    if (!info) throw new StreamsException(`no metadata for topic ${topic}`)
    return info.partitions.length
  }

  dropped(reason: string): void {
    this.app.droppedRecords++
    this.app.log.warn(reason)
  }

  send(topic: string, key: Buffer | null, value: Buffer | null, timestamp: number, headers: StreamRecord['headers'], partition?: number): void {
    this.app.producer!.push({headers, key, partition, timestamp, topic, value})
  }

  schedule(intervalMs: number, type: PunctuationType, punctuator: (timestamp: number) => void): Cancellable {
    // As Kafka: stream time aligned to 0 (the first record fires it), wall clock one interval from now.
    if (type === 'STREAM_TIME') return this.streamTimePunctuation.schedule(0, intervalMs, punctuator)
    return this.wallClockPunctuation.schedule(Date.now() + intervalMs, intervalMs, punctuator)
  }

  currentStreamTimeMs(): number {
    return this.streamTime
  }

  get recordCache() {
    return this.app.recordCache
  }

  /** Flushes the record caches of the task's processors (forwarding what they held). */
  flushCaches(): void {
    for (const p of this.processors.values()) p.flushCache?.()
  }

  currentSystemTimeMs(): number {
    return Date.now()
  }

  appConfig(name: string): unknown {
    return (this.app.config as unknown as Record<string, unknown>)[name]
  }

  getStateStore(name: string): KeyValueStore {
    const ts = this.stores.get(name)
    const global = ts ? undefined : this.app.globals?.store(name)
    if (global) return global
    if (!ts) throw new StreamsException(`Processor has no access to StateStore ${name} as the store is not connected to the processor`)
    const task = this
    return {
      get: (key) => ts.store.get(key),
      name,
      range: (from, to) => ts.store.range(from, to),
      put(key, value, timestamp) {
        ts.store.put(key, value, timestamp)
        if (ts.changelog) {
          task.app.producer!.push({key, partition: task.taskPartition, timestamp, topic: ts.changelog, value}, (error, metadata) => {
            if (error) task.app.sendError ??= error
            else if (metadata && metadata.offset + 1n > ts.changelogOffset) ts.changelogOffset = metadata.offset + 1n
          })
        }
      },
    }
  }

  /** Instantiates the sub-topology's processors for this task. */
  init(): void {
    const topology = this.app.topology
    for (const name of this.sub.nodes) {
      const def = topology.nodes.get(name)!
      this.processors.set(name, def.make())
      for (const p of def.predecessors) {
        const list = this.children.get(p) ?? []
        list.push(name)
        this.children.set(p, list)
      }
    }
    for (const [name, processor] of this.processors) {
      const children = this.children.get(name) ?? []
      const task = this
      const context: ProcessorContext = Object.create(this, {
        forward: {
          value(record: StreamRecord, childName?: string) {
            if (childName !== undefined) task.processors.get(childName)!.process(record)
            else for (const c of children) task.processors.get(c)!.process(record)
          },
        },
      })
      processor.init?.(context)
    }
  }

  /** One consumed record: deserialized with the source's serdes, then through the graph. */
  process(topic: string, sourceName: string, partition: number, record: ConsumedRecord): void {
    this.topic = topic
    this.partition = partition
    this.offset = record.offset
    const def = this.app.topology.nodes.get(sourceName)!
    let key: unknown
    let value: unknown
    try {
      const ks = def.keySerde ?? this.defaultSerde('key', `source ${sourceName}`)
      const vs = def.valueSerde ?? this.defaultSerde('value', `source ${sourceName}`)
      key = ks.deserialize(topic, record.key)
      value = vs.deserialize(topic, record.value)
    } catch (error) {
      if (error instanceof StreamsException) throw error
      const where = {offset: record.offset, partition, taskId: this.id, topic}
      const response = this.app.deserializationHandler(where, record, error as Error)
      if (response === 'CONTINUE') {
        this.app.log.warn(`Exception caught during Deserialization, taskId: ${this.id}, topic: ${topic}, partition: ${partition}, offset: ${record.offset}: ${(error as Error).message}`)
        this.dropped(`Skipping record due to deserialization error. topic=[${topic}] partition=[${partition}] offset=[${record.offset}]`)
        return
      }
      this.app.log.error(`Exception caught during Deserialization, taskId: ${this.id}, topic: ${topic}, partition: ${partition}, offset: ${record.offset}: ${(error as Error).message}`)
      throw new StreamsException(
        'Deserialization exception handler is set to fail upon a deserialization error. If you would rather have the streaming pipeline continue after a deserialization error, please set the deserialization.exception.handler appropriately.',
        {cause: error},
      )
    }
    this.processors.get(sourceName)!.process({headers: record.headers.map((h) => ({key: h.key, value: h.value})), key, timestamp: record.timestamp, value})
    if (record.timestamp > this.streamTime) this.streamTime = record.timestamp
    if (this.streamTimePunctuation.size > 0) this.streamTimePunctuation.mayPunctuate(this.streamTime)
  }

  checkpointPath(): string {
    return join(this.dir, '.checkpoint')
  }

  writeCheckpoint(): void {
    writeCheckpointFile(this.checkpointPath(), [...this.stores.values()].filter((s) => s.changelog && s.store.persistent).map((s) => ({offset: s.changelogOffset, partition: this.taskPartition, topic: s.changelog!})))
  }

  readCheckpoint(): Map<string, bigint> {
    return readCheckpointFile(this.checkpointPath())
  }

  async close(): Promise<void> {
    for (const p of this.processors.values()) p.close?.()
    for (const s of this.stores.values()) await s.store.close()
  }
}

/**
 * A standby task: copies of a task's logged stores on an instance that does not run it, kept up to
 * date from the changelogs (read_committed under exactly_once_v2) and checkpointed every commit
 * interval, so that when the task moves here only the changelog's tail is restored.
 */
class StandbyTask {
  readonly stores = new Map<string, TaskStore>()
  constructor(
    readonly id: string,
    readonly taskPartition: number,
    readonly dir: string,
  ) {}

  checkpointPath(): string {
    return join(this.dir, '.checkpoint')
  }

  checkpoint(): void {
    for (const s of this.stores.values()) s.store.flush()
    writeCheckpointFile(this.checkpointPath(), [...this.stores.values()].filter((s) => s.store.persistent).map((s) => ({offset: s.changelogOffset, partition: this.taskPartition, topic: s.changelog!})))
  }

  async close(): Promise<void> {
    this.checkpoint()
    for (const s of this.stores.values()) await s.store.close()
  }
}

export class KafkaStreams {
  readonly config: StreamsConfig
  readonly applicationId: string
  readonly log: StreamsLogger
  readonly client: KafkaClient
  producer: Producer | undefined
  /** The GlobalKTables' stores (global-stores.ts), read before processing starts. */
  globals: GlobalStores | undefined
  private consumer: Consumer | undefined
  private readonly admin: Admin
  private readonly eos: boolean
  private readonly stateDir: string
  private readonly commitIntervalMs: number
  private subtopologies: Subtopology[] = []
  /** Decorated source topic → [sub-topology, source node]. */
  private readonly sources = new Map<string, {sub: Subtopology; node: string}>()
  private readonly tasks = new Map<string, Task>()
  private readonly standbys = new Map<string, StandbyTask>()
  private standbyConsumer: Consumer | undefined
  private standbyLoop: Promise<void> | undefined
  /** From the last assignment: endpoint (application.server) → the tasks it runs and keeps standbys of. */
  private hosts: AssignmentInfo['hosts'] = {}
  private processIdValue = ''
  /** The offsets last committed (or found committed at assignment), by topic-partition. */
  private readonly committed = new Map<string, bigint>()
  private stateValue: StreamsState = 'CREATED'
  private stateListener: ((newState: StreamsState, oldState: StreamsState) => void) | undefined
  private uncaughtHandler: ((error: Error) => void) | undefined
  private loop: Promise<void> | undefined
  private lastCommit = Date.now()
  private uncommitted = false
  /** The graceful close, once started. */
  private closing: Promise<boolean> | undefined
  /** The error that put the application in ERROR. */
  error: Error | undefined
  sendError: Error | undefined
  droppedRecords = 0
  processedRecords = 0
  /** Changelog records applied by restores, and how long the last assignment's restores took. */
  restoredRecords = 0
  readonly recordCache: {readonly maxBytes: number; used: number}
  lastRestoreMs = 0
  standbyRecords = 0
  commits = 0
  readonly deserializationHandler: DeserializationExceptionHandler

  constructor(
    readonly topology: Topology,
    config: StreamsConfig,
  ) {
    if (!config['application.id']) throw new StreamsException('Missing required configuration "application.id" which has no default value.')
    if (!config['bootstrap.servers']) throw new StreamsException('Missing required configuration "bootstrap.servers" which has no default value.')
    this.config = config
    this.applicationId = config['application.id']
    this.log = config.logger ?? stderrLogger
    const guarantee = config['processing.guarantee'] ?? 'at_least_once'
    if (guarantee !== 'at_least_once' && guarantee !== 'exactly_once_v2') throw new StreamsException(`Invalid value ${String(guarantee)} for configuration processing.guarantee: String must be one of: at_least_once, exactly_once_v2`)
    this.eos = guarantee === 'exactly_once_v2'
    this.commitIntervalMs = config['commit.interval.ms'] ?? (this.eos ? 100 : 30_000)
    this.recordCache = {maxBytes: config['statestore.cache.max.bytes'] ?? config['cache.max.bytes.buffering'] ?? 10_485_760, used: 0}
    this.stateDir = join(config['state.dir'] ?? join(tmpdir(), 'kafka-streams'), this.applicationId)
    const handler = config['deserialization.exception.handler'] ?? config['default.deserialization.exception.handler'] ?? 'LogAndFailExceptionHandler'
    this.deserializationHandler = typeof handler === 'function' ? handler : /LogAndContinue/.test(handler) ? LogAndContinueExceptionHandler : LogAndFailExceptionHandler
    this.client = new KafkaClient({bootstrapServers: parseBootstrapServers(config['bootstrap.servers']), clientId: config['client.id'] ?? `${this.applicationId}-streams`})
    this.admin = new Admin(this.client)
  }

  get state(): StreamsState {
    return this.stateValue
  }

  setStateListener(listener: (newState: StreamsState, oldState: StreamsState) => void): void {
    this.stateListener = listener
  }

  /** Called with the error that stopped processing (the application is then in ERROR). */
  setUncaughtExceptionHandler(handler: (error: Error) => void): void {
    this.uncaughtHandler = handler
  }

  private setState(next: StreamsState): void {
    const old = this.stateValue
    if (old === next) return
    this.stateValue = next
    this.stateListener?.(next, old)
  }

  private decorate(topic: string): string {
    return this.topology.isInternal(topic) ? `${this.applicationId}-${topic}` : topic
  }

  metrics(): {'dropped-records-total': number; 'process-total': number; 'commit-total': number; 'restore-total': number; 'standby-update-total': number} {
    return {'commit-total': this.commits, 'dropped-records-total': this.droppedRecords, 'process-total': this.processedRecords, 'restore-total': this.restoredRecords, 'standby-update-total': this.standbyRecords}
  }

  /**
   * Checks the source topics, creates the internal topics, joins the group and starts processing.
   * Rejects (and the state goes to ERROR) when a source topic is missing or the topology's
   * inputs are not co-partitioned.
   */
  async start(): Promise<void> {
    if (this.stateValue !== 'CREATED') throw new StreamsException(`KafkaStreams is not in state CREATED (it is ${this.stateValue})`)
    this.setState('REBALANCING')
    try {
      await this.prepare()
    } catch (error) {
      this.setState('PENDING_ERROR')
      await this.globals?.close().catch(() => undefined)
      await this.client.close().catch(() => undefined)
      this.error = error as Error
      this.setState('ERROR')
      throw error
    }
    this.loop = this.run()
  }

  private async prepare(): Promise<void> {
    this.subtopologies = this.topology.subtopologies()
    const userTopics = [...new Set(this.subtopologies.flatMap((s) => s.sourceTopics).filter((t) => !this.topology.isInternal(t)))]
    const metadata = await this.admin.describeTopics(userTopics)
    const partitionCount = new Map<string, number>()
    for (const t of metadata.topics) if (t.errorCode === 0) partitionCount.set(t.name, t.partitions.length)
    const missing = this.subtopologies.map((s) => ({id: s.id, topics: s.sourceTopics.filter((t) => !this.topology.isInternal(t) && !partitionCount.has(t))})).filter((m) => m.topics.length > 0)
    if (missing.length > 0) {
      throw new MissingSourceTopicException(missing.map((m) => `Missing source topics [${m.topics.join(', ')}] for subtopology ${m.id}`).join('; '))
    }
    // Partitions: a repartition topic gets the partition count asked for, or the largest of the
    // inputs of the sub-topology writing it (upstream sub-topologies come first).
    const tasksOf = new Map<number, number>()
    /** Repartition topics sized by the co-partitioning of the sub-topology reading them. */
    const copartitioned = new Map<string, number>()
    for (const sub of this.subtopologies) {
      if (sub.global) continue
      const counts = new Map<string, number>()
      for (const t of sub.sourceTopics) {
        if (this.topology.isInternal(t)) {
          const asked = this.topology.repartitionTopics.get(t)!.partitions
          const writer = this.subtopologies.find((s) => s.sinkTopics.includes(t))
          // A topic written downstream (a foreign-key join's response topic) takes the co-partitioned user topics' count below.
          const firstUser = sub.stores.length > 0 ? sub.sourceTopics.find((u) => !this.topology.isInternal(u)) : undefined
          const n = asked ?? (writer ? tasksOf.get(writer.id) : undefined) ?? (firstUser ? partitionCount.get(firstUser) : undefined)
          if (n === undefined) throw new TopologyException(`Number of partitions is not set for topic: ${this.decorate(t)}`)
          counts.set(this.decorate(t), n)
        } else counts.set(t, partitionCount.get(t)!)
      }
      const user = sub.sourceTopics.filter((t) => !this.topology.isInternal(t)).map((t): [string, number] => [t, counts.get(t)!])
      if (sub.stores.length > 0 && new Set(user.map(([, n]) => n)).size > 1) {
        const sorted = user.sort(([a], [b]) => (a < b ? -1 : 1)).map(([t, n]) => `${t}=${n}`)
        throw new TopologyException(`Topics not co-partitioned: [{${sorted.join(', ')}}]`)
      }
      // A repartition topic read beside user topics by a stateful (joining) sub-topology is
      // sized as they are (Kafka's CopartitionedTopicsEnforcer), unless a count was asked for.
      if (sub.stores.length > 0 && user.length > 0) {
        for (const t of sub.sourceTopics) {
          if (!this.topology.isInternal(t) || this.topology.repartitionTopics.get(t)!.partitions !== undefined) continue
          counts.set(this.decorate(t), user[0]![1])
          copartitioned.set(t, user[0]![1])
        }
        const all = [...counts].sort(([a], [b]) => (a < b ? -1 : 1))
        if (new Set(all.map(([, n]) => n)).size > 1) throw new TopologyException(`Topics not co-partitioned: [{${all.map(([t, n]) => `${t}=${n}`).join(', ')}}]`)
      }
      tasksOf.set(sub.id, Math.max(...counts.values()))
      for (const name of sub.nodes) {
        const def = this.topology.nodes.get(name)!
        if (def.kind === 'source') for (const t of def.topics!) this.sources.set(this.decorate(t), {node: name, sub})
      }
    }
    const rf = this.config['replication.factor'] ?? -1
    const internal: {name: string; numPartitions: number; replicationFactor: number; configs: Record<string, string>}[] = []
    for (const [topic] of this.topology.repartitionTopics) {
      const reader = this.subtopologies.find((s) => s.sourceTopics.includes(topic))!
      const writer = this.subtopologies.find((s) => s.sinkTopics.includes(topic))
      const n = this.topology.repartitionTopics.get(topic)!.partitions ?? copartitioned.get(topic) ?? tasksOf.get(writer?.id ?? reader.id)!
      internal.push({configs: REPARTITION_CONFIGS, name: this.decorate(topic), numPartitions: n, replicationFactor: rf})
    }
    for (const sub of this.subtopologies) {
      if (sub.global) continue
      for (const store of sub.stores) {
        if (this.topology.stores.get(store)?.logged) internal.push({configs: this.topology.stores.get(store)!.changelogConfigs ?? CHANGELOG_CONFIGS, name: this.changelogTopic(store), numPartitions: tasksOf.get(sub.id)!, replicationFactor: rf})
      }
    }
    if (internal.length > 0) {
      const results = await this.admin.createTopics(internal)
      const failed = results.find((r) => r.errorCode !== 0 && r.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS)
      if (failed) throw new StreamsException(`Could not create internal topic ${failed.name}: ${failed.error}${failed.errorMessage ? ` (${failed.errorMessage})` : ''}`)
      await this.client.refreshMetadata(internal.map((t) => t.name))
    }
    const sinks = [...this.topology.nodes.values()].filter((n) => n.kind === 'sink' && !this.topology.isInternal(n.topic!)).map((n) => n.topic!)
    if (sinks.length > 0) await this.client.refreshMetadata([...new Set(sinks)], true).catch(() => undefined)

    this.globals = new GlobalStores(this.client, this.topology, this.eos ? 1 : 0, this.log)
    await this.globals.start()

    mkdirSync(this.stateDir, {recursive: true})
    const processId = this.processId()
    this.processIdValue = processId
    this.producer = this.eos
      ? new Producer(this.client, {lingerMs: 10, transactionTimeoutMs: this.config['transaction.timeout.ms'] ?? 10_000, transactionalId: `${this.applicationId}-${processId}-1`})
      : new Producer(this.client, {idempotent: true, lingerMs: 10})
    // Fences a previous incarnation of this instance and aborts its open transaction, so that
    // the offsets it was committing are settled before this one reads them.
    if (this.eos) await this.producer.initTransactions()
    const consumer = new Consumer(this.client, {
      autoOffsetReset: 'earliest',
      group: {
        assignors: [
          new StreamsAssignor(
            () => this.subtopologies.filter((s) => !s.global).map((s) => ({id: s.id, sourceTopics: s.sourceTopics.map((t) => this.decorate(t)), stateful: s.stores.some((n) => this.topology.stores.get(n)?.logged)})),
            () => this.subscriptionInfo(),
            this.config['num.standby.replicas'] ?? 0,
          ),
        ],
        groupId: this.applicationId,
        groupInstanceId: this.config['group.instance.id'] ?? null,
        heartbeatIntervalMs: this.config['heartbeat.interval.ms'] ?? 3000,
        sessionTimeoutMs: this.config['session.timeout.ms'] ?? 45_000,
      },
      isolationLevel: this.eos ? 1 : 0,
      maxWaitMs: 100,
    })
    consumer.onAssign = (partitions) => this.onAssign(partitions)
    consumer.onRevoke = () => this.onRevoke()
    consumer.subscribe([...this.sources.keys()].sort())
    this.consumer = consumer
  }

  changelogTopic(store: string): string {
    return changelogTopic(this.applicationId, store)
  }

  /** Kafka Streams' process id, kept in `<state.dir>/<application.id>/kafka-streams-process-metadata`. */
  private processId(): string {
    const file = join(this.stateDir, 'kafka-streams-process-metadata')
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as {processId?: string}
      if (parsed.processId) return parsed.processId
    } catch {
      // none yet
    }
    const id = randomUUID()
    writeFileSync(file, JSON.stringify({processId: id}) + '\n')
    return id
  }

  /** What this instance tells the group's leader (assignor.ts). */
  private subscriptionInfo(): SubscriptionInfo {
    const withState = existsSync(this.stateDir) ? readdirSync(this.stateDir).filter((n) => /^\d+_\d+$/.test(n) && existsSync(join(this.stateDir, n, '.checkpoint'))) : []
    return {
      active: [...this.tasks.keys()].sort(compareTaskIds),
      endpoint: this.config['application.server'] ?? null,
      processId: this.processIdValue,
      state: [...new Set([...this.standbys.keys(), ...withState])].sort(compareTaskIds),
      version: 1,
    }
  }

  private async onAssign(partitions: PartitionPosition[]): Promise<void> {
    this.setState('REBALANCING')
    this.committed.clear()
    for (const p of partitions) this.committed.set(`${p.topic}\u0000${p.partition}`, p.offset)
    const info = decodeAssignmentInfo(this.consumer?.groupAssignment?.userData)
    const wanted = new Set<string>(info?.active ?? [])
    if (!info) {
      for (const p of partitions) {
        const source = this.sources.get(p.topic)
        if (source) wanted.add(`${source.sub.id}_${p.partition}`)
      }
    }
    this.hosts = info?.hosts ?? {}
    // Standbys are closed (checkpointed) first: one that becomes active restores from its checkpoint.
    await this.closeStandbys()
    const started = Date.now()
    for (const [id, task] of this.tasks) {
      if (!wanted.has(id)) {
        await this.closeTask(task, true)
        this.tasks.delete(id)
      }
    }
    for (const id of [...wanted].sort()) {
      if (this.tasks.has(id)) continue
      const [sub, partition] = id.split('_').map(Number) as [number, number]
      const task = new Task(id, this.subtopologies[sub]!, partition, join(this.stateDir, id), this)
      await this.restoreTask(task)
      task.init()
      this.tasks.set(id, task)
    }
    this.lastRestoreMs = Date.now() - started
    await this.openStandbys((info?.standby ?? []).filter((id) => !wanted.has(id)))
    this.lastCommit = Date.now()
    if (!this.closing) this.setState('RUNNING')
  }

  private async onRevoke(): Promise<void> {
    if (this.stateValue === 'RUNNING') this.setState('REBALANCING')
    try {
      await this.commit()
    } catch (error) {
      // The group moved on (a zombie's commit is fenced): what this instance did since its last
      // commit is given up, and its tasks are restored again when they come back.
      this.log.warn(`commit before rebalance failed, closing tasks dirty: ${(error as Error).message}`)
      if (this.eos) await this.producer!.abortTransaction().catch(() => undefined)
      // The consumer commits its positions after this hook: back to what was committed, so that
      // records whose results were not committed are not marked consumed.
      for (const [tp, offset] of this.committed) {
        const [topic, partition] = tp.split('\u0000') as [string, string]
        this.consumer!.seek(topic, Number(partition), offset)
      }
      for (const task of this.tasks.values()) await this.closeTask(task, false)
      this.tasks.clear()
      this.uncommitted = false
    }
  }

  /** Opens the task's stores and brings them up to the end of their changelogs. */
  private async restoreTask(task: Task): Promise<void> {
    mkdirSync(task.dir, {recursive: true})
    const checkpoint = task.readCheckpoint()
    // Under exactly_once_v2 the checkpoint only exists after a clean close: deleted now, so that
    // a crash leaves none and the next start restores from scratch.
    if (this.eos) rmSync(task.checkpointPath(), {force: true})
    for (const storeName of task.sub.stores) {
      const def = this.topology.stores.get(storeName)!
      const changelog = def.logged ? this.changelogTopic(storeName) : null
      const dir = join(task.dir, 'lmdb', storeName)
      // An in-memory store starts empty: restored from the changelog's beginning.
      let from = changelog && !def.inMemory ? checkpoint.get(changelog) : undefined
      let range: {earliest: bigint; end: bigint} | undefined
      if (changelog) {
        const isolationLevel = this.eos ? 1 : 0
        const [end] = await this.admin.listOffsets([{partition: task.taskPartition, timestamp: LATEST_TIMESTAMP, topic: changelog}], {isolationLevel})
        const [earliest] = await this.admin.listOffsets([{partition: task.taskPartition, timestamp: EARLIEST_TIMESTAMP, topic: changelog}])
        range = {earliest: earliest!.offset, end: end!.offset}
        if (from !== undefined && (from > range.end || from < range.earliest)) {
          // The changelog is not the one the store was checkpointed against (recreated, truncated,
          // another cluster): the store is corrupted for this changelog, as Kafka Streams treats it.
          this.log.warn(`task ${task.id}: checkpointed offset ${from} of ${changelog}-${task.taskPartition} is outside [${range.earliest}, ${range.end}]: wiping the store and restoring it from the changelog`)
          from = undefined
        }
      }
      if (from === undefined) PersistentKeyValueStore.wipe(dir)
      const store = def.inMemory ? new InMemoryKeyValueStore(storeName) : new PersistentKeyValueStore(storeName, dir)
      const ts: TaskStore = {changelog, changelogOffset: range?.end ?? 0n, store}
      task.stores.set(storeName, ts)
      if (changelog && range) await this.restore(store, changelog, task.taskPartition, from ?? range.earliest, range.end)
    }
  }

  /** Applies the changelog's records [start, end) to the store (read_committed under exactly_once_v2). */
  private async restore(store: TaskStateStore, topic: string, partition: number, start: bigint, endOffset: bigint): Promise<void> {
    if (start >= endOffset) return
    const consumer = new Consumer(this.client, {autoOffsetReset: 'earliest', isolationLevel: this.eos ? 1 : 0, maxWaitMs: 100, partitionMaxBytes: RESTORE_FETCH_BYTES})
    consumer.assign([{offset: start, partition, topic}])
    let restored = 0
    let rows: {key: Buffer; value: Buffer | null; timestamp: number}[] = []
    for await (const batch of consumer.batches()) {
      for (const r of batch.records) {
        if (r.key === null) continue
        rows.push({key: r.key, timestamp: r.timestamp, value: r.value})
        restored++
      }
      // Written to disk in chunks: memory stays bounded whatever the changelog's size.
      if (rows.length >= RESTORE_FLUSH_RECORDS) {
        store.write(rows)
        rows = []
      }
      if (batch.nextOffset >= endOffset) break
    }
    await consumer.close()
    store.write(rows)
    this.restoredRecords += restored
    this.log.info(`restored ${restored} records of ${topic}-${partition} from offset ${start} to ${endOffset}`)
  }

  /** Opens the standby tasks' stores from their checkpoints and starts following their changelogs. */
  private async openStandbys(ids: readonly string[]): Promise<void> {
    const positions: PartitionPosition[] = []
    const byPartition = new Map<string, TaskStore>()
    for (const id of [...ids].sort(compareTaskIds)) {
      const {partition, subtopology} = parseTaskId(id)
      const sub = this.subtopologies[subtopology]
      if (!sub) continue
      const standby = new StandbyTask(id, partition, join(this.stateDir, id))
      mkdirSync(standby.dir, {recursive: true})
      const checkpoint = readCheckpointFile(standby.checkpointPath())
      for (const storeName of sub.stores) {
        const def = this.topology.stores.get(storeName)
        if (!def?.logged) continue
        const changelog = this.changelogTopic(storeName)
        const dir = join(standby.dir, 'lmdb', storeName)
        const [end] = await this.admin.listOffsets([{partition, timestamp: LATEST_TIMESTAMP, topic: changelog}])
        const [earliest] = await this.admin.listOffsets([{partition, timestamp: EARLIEST_TIMESTAMP, topic: changelog}])
        let from = def.inMemory ? undefined : checkpoint.get(changelog)
        if (from === undefined || from > end!.offset || from < earliest!.offset) {
          PersistentKeyValueStore.wipe(dir)
          from = earliest!.offset
        }
        const ts: TaskStore = {changelog, changelogOffset: from, store: def.inMemory ? new InMemoryKeyValueStore(storeName) : new PersistentKeyValueStore(storeName, dir)}
        standby.stores.set(storeName, ts)
        positions.push({offset: from, partition, topic: changelog})
        byPartition.set(`${changelog}\u0000${partition}`, ts)
      }
      this.standbys.set(id, standby)
    }
    if (positions.length === 0) return
    const consumer = new Consumer(this.client, {isolationLevel: this.eos ? 1 : 0, maxWaitMs: 200, partitionMaxBytes: RESTORE_FETCH_BYTES})
    consumer.assign(positions)
    this.standbyConsumer = consumer
    this.standbyLoop = (async () => {
      let last = Date.now()
      try {
        for await (const batch of consumer.batches()) {
          const ts = byPartition.get(`${batch.topic}\u0000${batch.partition}`)
          if (!ts) continue
          for (const r of batch.records) {
            if (r.key === null) continue
            ts.store.put(r.key, r.value, r.timestamp)
            this.standbyRecords++
          }
          if (ts.store.pendingWrites >= RESTORE_FLUSH_RECORDS) ts.store.flush()
          if (batch.nextOffset > ts.changelogOffset) ts.changelogOffset = batch.nextOffset
          if (Date.now() - last >= this.commitIntervalMs) {
            for (const standby of this.standbys.values()) standby.checkpoint()
            last = Date.now()
          }
        }
      } catch (error) {
        this.log.warn(`standby tasks stopped following their changelogs: ${(error as Error).message}`)
      }
    })()
  }

  private async closeStandbys(): Promise<void> {
    this.standbyConsumer?.stop()
    await this.standbyLoop
    await this.standbyConsumer?.close().catch(() => undefined)
    this.standbyConsumer = undefined
    this.standbyLoop = undefined
    for (const standby of this.standbys.values()) await standby.close().catch((error: Error) => this.log.warn(`closing standby task ${standby.id}: ${error.message}`))
    this.standbys.clear()
  }

  private async closeTask(task: Task, clean: boolean): Promise<void> {
    if (clean) {
      for (const s of task.stores.values()) s.store.flush()
      task.writeCheckpoint()
    } else {
      for (const s of task.stores.values()) s.store.discard()
      rmSync(task.checkpointPath(), {force: true})
    }
    await task.close()
    if (!clean) for (const s of task.stores.values()) if (s.store instanceof PersistentKeyValueStore) PersistentKeyValueStore.wipe(s.store.dir)
  }

  private async run(): Promise<void> {
    const consumer = this.consumer!
    try {
      for await (const batch of consumer.batches()) {
        const source = this.sources.get(batch.topic)
        if (source && batch.records.length > 0) {
          const task = this.tasks.get(`${source.sub.id}_${batch.partition}`)
          if (!task) throw new StreamsException(`no task for ${batch.topic}-${batch.partition}`)
          for (const record of batch.records) {
            task.process(batch.topic, source.node, batch.partition, record)
            this.processedRecords++
          }
          this.uncommitted = true
        }
        const now = Date.now()
        for (const task of this.tasks.values()) if (task.wallClockPunctuation.size > 0 && task.wallClockPunctuation.mayPunctuate(now)) this.uncommitted = true
        if (this.globals?.error) throw this.globals.error
        if (this.sendError) throw this.sendError
        if (Date.now() - this.lastCommit >= this.commitIntervalMs) await this.commit()
        await this.producer!.waitForSpace()
        if (this.closing) break
      }
    } catch (error) {
      if (this.closing) return
      await this.fail(error as Error)
    }
  }

  /** Commits what was processed since the last commit (see the file comment). */
  async commit(): Promise<void> {
    this.lastCommit = Date.now()
    for (const task of this.tasks.values()) task.flushCaches()
    if (!this.uncommitted || !this.consumer || !this.producer) return
    const offsets = this.consumer.positions()
    if (this.eos) {
      const group = this.consumer.groupAssignment
      await this.producer.sendOffsetsToTransaction(offsets, {generationId: group?.generationId ?? -1, groupId: this.applicationId, groupInstanceId: this.config['group.instance.id'] ?? null, memberId: group?.memberId ?? ''})
      await this.producer.commitTransaction()
    } else {
      await this.producer.flush()
      await this.consumer.commit(offsets)
    }
    if (this.sendError) throw this.sendError
    for (const task of this.tasks.values()) {
      for (const s of task.stores.values()) s.store.flush()
      if (!this.eos) task.writeCheckpoint()
    }
    for (const o of offsets) this.committed.set(`${o.topic}\u0000${o.partition}`, o.offset)
    this.uncommitted = false
    this.commits++
  }

  private async fail(error: Error): Promise<void> {
    this.error = error
    this.setState('PENDING_ERROR')
    this.log.error(`stream processing failed: ${error.message}${error.cause ? ` (caused by ${(error.cause as Error).message})` : ''}`)
    if (this.eos) await this.producer?.abortTransaction().catch(() => undefined)
    for (const task of this.tasks.values()) await this.closeTask(task, false).catch(() => undefined)
    this.tasks.clear()
    await this.closeStandbys().catch(() => undefined)
    await this.consumer?.close({commit: false}).catch(() => undefined)
    await this.globals?.close().catch(() => undefined)
    await this.client.close().catch(() => undefined)
    this.setState('ERROR')
    this.uncaughtHandler?.(error)
  }

  /**
   * Stops processing, commits, writes the tasks' checkpoints, leaves the group and closes the
   * client. Idempotent. With `timeoutMs`, gives up waiting after that long (the broker is gone,
   * say): the client is closed, nothing more is committed, and it resolves false.
   */
  async close(options: {timeoutMs?: number} = {}): Promise<boolean> {
    if (this.stateValue === 'NOT_RUNNING' || this.stateValue === 'ERROR') return true
    this.closing ??= this.closeGracefully()
    if (options.timeoutMs === undefined) return this.closing
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), options.timeoutMs)))
    const done = await Promise.race([this.closing, timedOut])
    clearTimeout(timer)
    if (!done) {
      this.log.error(`close did not finish in ${options.timeoutMs} ms: closing the client without committing`)
      await this.client.close().catch(() => undefined)
    }
    return done
  }

  private async closeGracefully(): Promise<boolean> {
    this.setState('PENDING_SHUTDOWN')
    this.consumer?.stop()
    await this.loop
    try {
      await this.commit()
      for (const task of this.tasks.values()) await this.closeTask(task, true)
    } catch (error) {
      this.log.error(`commit on close failed: ${(error as Error).message}`)
      if (this.eos) await this.producer?.abortTransaction().catch(() => undefined)
      for (const task of this.tasks.values()) await this.closeTask(task, false).catch(() => undefined)
    }
    this.tasks.clear()
    await this.closeStandbys().catch(() => undefined)
    await this.consumer?.close({commit: false}).catch(() => undefined)
    await this.producer?.close().catch(() => undefined)
    await this.globals?.close().catch(() => undefined)
    await this.client.close().catch(() => undefined)
    this.setState('NOT_RUNNING')
    return true
  }

  /** The value of `key` in a local store (an interactive query of this instance's tasks). */
  queryStore<K, V>(storeName: string, key: K): V | undefined {
    const def = this.topology.stores.get(storeName)
    if (!def) throw new StreamsException(`Cannot get state store ${storeName} because no such store is registered in the topology.`)
    const ks = (def.keySerde ?? this.config['default.key.serde']) as Serde<K>
    const vs = (def.valueSerde ?? this.config['default.value.serde']) as Serde<V>
    const keyBytes = ks.serialize(this.changelogTopic(storeName), key)!
    for (const task of this.tasks.values()) {
      const found = task.stores.get(storeName)?.store.get(keyBytes)
      if (found) return vs.deserialize(this.changelogTopic(storeName), found.value) ?? undefined
    }
    return undefined
  }

  private checkQueryable(): void {
    if (this.stateValue !== 'RUNNING' && this.stateValue !== 'REBALANCING') throw new InvalidStateStoreException(`KafkaStreams is not running. State is ${this.stateValue}.`)
  }

  /**
   * A read-only view of a key-value store over this instance's active tasks (Kafka's
   * `streams.store(StoreQueryParameters.fromNameAndType(name, keyValueStore()))`): keys of
   * tasks on other instances are not here; queryMetadataForKey() names the instance to ask.
   */
  store<K, V>(storeName: string): ReadOnlyKeyValueStore<K, V> {
    const def = this.topology.stores.get(storeName)
    if (!def) throw new InvalidStateStoreException(`Cannot get state store ${storeName} because no such store is registered in the topology.`)
    this.checkQueryable()
    const topic = this.changelogTopic(storeName)
    const ks = (def.keySerde ?? this.config['default.key.serde']) as Serde<K>
    const vs = (def.valueSerde ?? this.config['default.value.serde']) as Serde<V>
    const stores = () => [...this.tasks.values()].flatMap((t) => {
      const s = t.stores.get(storeName)?.store
      return s ? [s] : []
    })
    const check = () => this.checkQueryable()
    return {
      *all() {
        check()
        for (const store of stores()) for (const row of store.all()) yield {key: ks.deserialize(topic, row.key) as K, value: vs.deserialize(topic, row.value) as V}
      },
      approximateNumEntries() {
        check()
        let n = 0
        for (const store of stores()) for (const _ of store.all()) n++
        return n
      },
      get(key) {
        check()
        const bytes = ks.serialize(topic, key)!
        for (const store of stores()) {
          const found = store.get(bytes)
          if (found) return vs.deserialize(topic, found.value) ?? undefined
        }
        return undefined
      },
    }
  }

  /**
   * Which instance (its `application.server`) holds `key` of a store, and its standbys: the key's
   * partition by the default partitioner (murmur2 of the serialized key) over the store's
   * sub-topology's inputs, its task, and the owner of that task in the last assignment.
   */
  queryMetadataForKey<K>(storeName: string, key: K, keySerializer: Pick<Serde<K>, 'serialize'>): KeyQueryMetadata {
    this.checkQueryable()
    const sub = this.subtopologies.find((s) => s.stores.includes(storeName))
    if (!sub) throw new InvalidStateStoreException(`Cannot get state store ${storeName} because no such store is registered in the topology.`)
    const topics = sub.sourceTopics.map((t) => this.decorate(t))
    const partitions = Math.max(0, ...topics.map((t) => this.client.metadata.topic(t)?.partitions.length ?? 0))
    if (partitions === 0 || Object.keys(this.hosts).length === 0) return KEY_QUERY_METADATA_NOT_AVAILABLE
    const bytes = keySerializer.serialize(topics[0]!, key)
    const partition = partitionForKey(bytes ?? Buffer.alloc(0), partitions)
    const task = `${sub.id}_${partition}`
    const active = Object.entries(this.hosts).find(([, h]) => h.active.includes(task))
    if (!active) return KEY_QUERY_METADATA_NOT_AVAILABLE
    const standbyHosts = Object.entries(this.hosts).filter(([, h]) => h.standby.includes(task)).map(([e]) => parseHostInfo(e))
    return {activeHost: parseHostInfo(active[0]), partition, standbyHosts}
  }

  /**
   * Deletes this instance's local state (`<state.dir>/<application.id>`), as Kafka's
   * KafkaStreams#cleanUp(): before start() or after close(), e.g. after `kcli streams reset`.
   */
  cleanUp(): void {
    if (this.stateValue !== 'CREATED' && this.stateValue !== 'NOT_RUNNING' && this.stateValue !== 'ERROR') throw new StreamsException('Cannot clean up while running.')
    rmSync(this.stateDir, {force: true, recursive: true})
  }

  /** The tasks this instance runs and keeps standbys of. */
  localTasks(): {active: string[]; standby: string[]} {
    return {active: [...this.tasks.keys()].sort(compareTaskIds), standby: [...this.standbys.keys()].sort(compareTaskIds)}
  }
}
