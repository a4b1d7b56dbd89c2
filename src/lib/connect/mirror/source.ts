/**
 * MirrorSourceConnector / MirrorSourceTask (MirrorMaker 2, KIP-382): replicate topics of the source
 * cluster to the cluster the worker writes to (the target), as remote topics named by the
 * replication policy (`<source alias>.<topic>` by default).
 *
 * Connector: on start and every `refresh.topics.interval.seconds` it lists the source topics that
 * `topics` / `topics.exclude` select (never internal topics, nor remote topics that came from the
 * target: no cycles), creates each missing remote topic on the target with the source's partition
 * count and its explicitly set topic configs (minus `config.properties.exclude`), and adds
 * partitions to a remote topic when the source topic grew. Every `sync.topic.configs.interval.seconds`
 * (when `sync.topic.configs.enabled`) it sets the source's configs on the remote topics again. It
 * also creates the offset-syncs topic (`mm2-offset-syncs.<target alias>.internal`, one partition,
 * compacted) on the cluster `offset-syncs.topic.location` names.
 *
 * Tasks: task i of n (task configs carry `task.index`, `task.count`) owns the topic-partitions whose
 * name hashes to i, so the connector never needs to reconfigure tasks when topics appear (MM2 lists
 * `task.assigned.partitions` instead). A task reads its partitions with an assigned consumer and
 * hands back SourceRecords with the record's key, value, headers and timestamp, for the same
 * partition of the remote topic; a partition is only read once the remote topic has it. Its source
 * partition is {cluster, topic, partition} and its source offset {offset} (the upstream offset, as
 * MM2's), so a restarted task resumes after the last committed offset. Keys and values are bytes:
 * run the connector with `key.converter` / `value.converter` =
 * org.apache.kafka.connect.converters.ByteArrayConverter, as MM2 requires.
 *
 * Offset syncs: the runtime calls commitRecord(record, metadata) once a record is acknowledged; the
 * task then writes (upstream offset, downstream offset) to the offset-syncs topic when PartitionState
 * says so (offset-syncs.ts), and on commit() the latest pair of each partition that changed.
 * Delivery is at least once (a task killed between produce and offset commit replicates those
 * records again); exactly-once mirroring is not implemented.
 */
import type {Admin as AdminType} from '../../client/admin.js'
import {Admin, EARLIEST_TIMESTAMP} from '../../client/admin.js'
import type {KafkaClient} from '../../client/client.js'
import {Consumer} from '../../client/consumer.js'
import {Producer} from '../../client/producer.js'
import {type ConfigDef, type ConfigValue, type SourceConnector, type SourceRecord, type SourceTask, type SourceTaskContext} from '../api.js'
import {Schemas} from '../data.js'
import {clusterClient, DEFAULT_CONFIG_PROPERTIES_EXCLUDE, compileFilter, isInternalTopic, MIRROR_SOURCE_CONFIG, NameFilter, ownedBy, type ReplicationPolicy, replicationPolicy, shardedTaskConfigs, taskShard, VERSION} from './config.js'
import {encodeOffsetSync, PartitionState} from './offset-syncs.js'

export const MIRROR_SOURCE_CONNECTOR_CLASS = 'org.apache.kafka.connect.mirror.MirrorSourceConnector'

/** What both connector and task derive from the parsed config. */
export interface MirrorSourceSettings {
  sourceAlias: string
  targetAlias: string
  policy: ReplicationPolicy
  topicFilter: NameFilter
  offsetSyncsTopic: string
  parsed: Record<string, unknown>
}

export function mirrorSourceSettings(props: Record<string, string>): MirrorSourceSettings {
  const parsed = MIRROR_SOURCE_CONFIG.parse(props)
  const policy = replicationPolicy(parsed)
  const targetAlias = parsed['target.cluster.alias'] as string
  return {
    sourceAlias: parsed['source.cluster.alias'] as string,
    targetAlias,
    policy,
    topicFilter: new NameFilter(parsed.topics as string[], parsed['topics.exclude'] as string[]),
    offsetSyncsTopic: policy.offsetSyncsTopic(targetAlias),
    parsed,
  }
}

/** Whether a source topic is mirrored: selected by the filter, not internal, not a remote topic of the target (a cycle). */
export function shouldReplicateTopic(s: MirrorSourceSettings, topic: string): boolean {
  return s.topicFilter.matches(topic) && !isInternalTopic(topic) && s.policy.topicSource(topic) !== s.targetAlias
}

/** The source topics to mirror with their partition counts. */
async function sourceTopics(admin: AdminType, s: MirrorSourceSettings): Promise<Map<string, number>> {
  const metadata = await admin.listTopics()
  const out = new Map<string, number>()
  for (const t of metadata.topics) {
    if (t.errorCode === 0 && !t.isInternal && shouldReplicateTopic(s, t.name)) out.set(t.name, t.partitions.length)
  }
  return out
}

export class MirrorSourceConnector implements SourceConnector {
  readonly type = 'source' as const
  private props: Record<string, string> = {}
  private settings?: MirrorSourceSettings
  private source?: KafkaClient
  private target?: KafkaClient
  private timers: NodeJS.Timeout[] = []
  private chain: Promise<void> = Promise.resolve()
  private stopped = false
  /** The last error of a background refresh or config sync (null after one succeeds). */
  lastError: Error | null = null

  version(): string { return VERSION }
  config(): ConfigDef { return MIRROR_SOURCE_CONFIG }
  validate(props: Record<string, string>): ConfigValue[] { return MIRROR_SOURCE_CONFIG.validate(props) }
  createTask(): SourceTask { return new MirrorSourceTask() }

  /** Parses the config, creates the offset-syncs topic and the remote topics, then refreshes periodically. */
  async start(props: Record<string, string>): Promise<void> {
    this.settings = mirrorSourceSettings(props)
    this.props = props
    this.stopped = false
    const p = this.settings.parsed
    this.source = clusterClient(props['source.cluster.bootstrap.servers']!, `${this.settings.sourceAlias}->${this.settings.targetAlias}|MirrorSourceConnector|source`)
    this.target = clusterClient(props['target.cluster.bootstrap.servers']!, `${this.settings.sourceAlias}->${this.settings.targetAlias}|MirrorSourceConnector|target`)
    try {
      if (p['emit.offset-syncs.enabled']) await this.createOffsetSyncsTopic()
      await this.refreshTopics()
    } catch (error) {
      await this.stop() // no clients left open behind a failed start
      throw error
    }
    if (p['refresh.topics.enabled']) this.every(Number(p['refresh.topics.interval.seconds']) * 1000, () => this.refreshTopics())
    if (p['sync.topic.configs.enabled']) this.every(Number(p['sync.topic.configs.interval.seconds']) * 1000, () => this.syncTopicConfigs())
  }

  /** `tasks.max` tasks (each owns a hash share of the topic-partitions). */
  taskConfigs(maxTasks: number): Array<Record<string, string>> {
    return shardedTaskConfigs(this.props, Math.max(1, maxTasks))
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const t of this.timers) clearInterval(t)
    this.timers = []
    await this.chain.catch(() => undefined)
    await Promise.all([this.source?.close(), this.target?.close()])
    this.source = this.target = undefined
  }

  /** Runs `fn` every `ms`, one run at a time (runs queue behind each other, never overlap). */
  private every(ms: number, fn: () => Promise<void>): void {
    const t = setInterval(() => {
      this.chain = this.chain.then(async () => {
        if (this.stopped) return
        try {
          await fn()
          this.lastError = null
        } catch (error) {
          this.lastError = error as Error
        }
      })
    }, ms)
    t.unref()
    this.timers.push(t)
  }

  private async createOffsetSyncsTopic(): Promise<void> {
    const s = this.settings!
    const client = s.parsed['offset-syncs.topic.location'] === 'target' ? this.target! : this.source!
    await createTopicIfMissing(new Admin(client), s.offsetSyncsTopic, 1, Number(s.parsed['offset-syncs.topic.replication.factor']), {'cleanup.policy': 'compact'})
  }

  /** Creates missing remote topics (same partition count, source configs) and adds partitions to remote topics that have fewer. */
  async refreshTopics(): Promise<void> {
    const s = this.settings!
    const sourceAdmin = new Admin(this.source!)
    const targetAdmin = new Admin(this.target!)
    const topics = await sourceTopics(sourceAdmin, s)
    if (topics.size === 0) return
    const remoteNames = [...topics.keys()].map((t) => s.policy.formatRemoteTopic(s.sourceAlias, t))
    const remote = await targetAdmin.describeTopics(remoteNames)
    const existing = new Map(remote.topics.filter((t) => t.errorCode === 0).map((t) => [t.name, t.partitions.length]))
    const missing = [...topics].filter(([t]) => !existing.has(s.policy.formatRemoteTopic(s.sourceAlias, t)))
    if (missing.length > 0) {
      const configs = s.parsed['sync.topic.configs.enabled'] ? await this.sourceTopicConfigs(missing.map(([t]) => t)) : new Map<string, Record<string, string>>()
      const results = await targetAdmin.createTopics(missing.map(([t, n]) => ({
        name: s.policy.formatRemoteTopic(s.sourceAlias, t),
        numPartitions: n,
        replicationFactor: Number(s.parsed['replication.factor']),
        configs: configs.get(t) ?? {},
      })))
      const failed = results.find((r) => r.errorCode !== 0 && r.error !== 'TOPIC_ALREADY_EXISTS')
      if (failed) throw new Error(`creating remote topic ${failed.name}: ${failed.error} ${failed.errorMessage ?? ''}`.trim())
    }
    const grown = [...topics].filter(([t, n]) => (existing.get(s.policy.formatRemoteTopic(s.sourceAlias, t)) ?? n) < n)
    if (grown.length > 0) {
      const results = await targetAdmin.createPartitions(grown.map(([t, n]) => ({name: s.policy.formatRemoteTopic(s.sourceAlias, t), count: n})))
      const failed = results.find((r) => r.errorCode !== 0)
      if (failed) throw new Error(`adding partitions to ${failed.name}: ${failed.error} ${failed.errorMessage ?? ''}`.trim())
    }
  }

  /** Sets each remote topic's configs to its source topic's (explicitly set ones, minus the excluded). */
  async syncTopicConfigs(): Promise<void> {
    const s = this.settings!
    const topics = [...(await sourceTopics(new Admin(this.source!), s)).keys()]
    if (topics.length === 0) return
    const sourceConfigs = await this.sourceTopicConfigs(topics)
    const targetAdmin = new Admin(this.target!)
    const remoteNames = topics.map((t) => s.policy.formatRemoteTopic(s.sourceAlias, t))
    const current = await targetAdmin.describeConfigs(remoteNames.map((name) => ({type: 'topic' as const, name})))
    const alterations = []
    for (const [i, topic] of topics.entries()) {
      const want = sourceConfigs.get(topic) ?? {}
      const have = current[i]!
      if (have.errorCode !== 0) continue // not created yet: the next refresh creates it with its configs
      const haveMap = new Map(have.configs.map((c) => [c.name, c.value]))
      const set = Object.fromEntries(Object.entries(want).filter(([k, v]) => haveMap.get(k) !== v))
      if (Object.keys(set).length > 0) alterations.push({type: 'topic' as const, name: remoteNames[i]!, set})
    }
    if (alterations.length === 0) return
    const results = await targetAdmin.alterConfigs(alterations)
    const failed = results.find((r) => r.errorCode !== 0)
    if (failed) throw new Error(`syncing configs of ${failed.name}: ${failed.error} ${failed.errorMessage ?? ''}`.trim())
  }

  /** The configs set on each source topic (DYNAMIC_TOPIC_CONFIG), not sensitive, not read-only, not excluded. */
  private async sourceTopicConfigs(topics: readonly string[]): Promise<Map<string, Record<string, string>>> {
    const exclude = compileFilter((this.settings!.parsed['config.properties.exclude'] as string[] | undefined) ?? DEFAULT_CONFIG_PROPERTIES_EXCLUDE.split(/\s*,\s*/))
    const results = await new Admin(this.source!).describeConfigs(topics.map((name) => ({type: 'topic' as const, name})))
    const out = new Map<string, Record<string, string>>()
    for (const r of results) {
      if (r.errorCode !== 0) continue
      const configs: Record<string, string> = {}
      for (const c of r.configs) {
        if (c.source !== 'DYNAMIC_TOPIC_CONFIG' || c.isSensitive || c.readOnly || c.value === null) continue
        if (exclude?.test(c.name)) continue
        configs[c.name] = c.value
      }
      out.set(r.name, configs)
    }
    return out
  }
}

/** Creates a topic unless it exists (TOPIC_ALREADY_EXISTS is fine). */
export async function createTopicIfMissing(admin: AdminType, name: string, partitions: number, replicationFactor: number, configs: Record<string, string>): Promise<void> {
  const [r] = await admin.createTopics([{name, numPartitions: partitions, replicationFactor, configs}])
  if (r && r.errorCode !== 0 && r.error !== 'TOPIC_ALREADY_EXISTS') throw new Error(`creating ${name}: ${r.error} ${r.errorMessage ?? ''}`.trim())
}

/** Records queued in a task beyond which its consumer waits for poll() (memory bound). */
const MAX_QUEUED_RECORDS = 10_000
/** Records handed out by one poll(). */
const MAX_POLL_RECORDS = 2000

interface Assigned {topic: string; partition: number}
const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`

export class MirrorSourceTask implements SourceTask {
  private context?: SourceTaskContext
  private settings?: MirrorSourceSettings
  private shard = {index: 0, count: 1}
  private source?: KafkaClient
  private target?: KafkaClient
  private syncsClient?: KafkaClient
  private syncsProducer?: Producer
  private consumer?: Consumer
  private consumerLoop?: Promise<void>
  private assigned: Assigned[] = []
  /** The next upstream offset per partition after what was queued (so a reassignment continues there). */
  private readonly nextOffsets = new Map<string, bigint>()
  private readonly partitionStates = new Map<string, PartitionState>()
  private queue: SourceRecord[] = []
  private failure?: Error
  private stopped = false
  private nextRefresh = 0
  private wakePoll?: () => void
  private wakeConsumer?: () => void
  private syncError?: Error
  /** The last failure of a periodic partition refresh (null after one succeeds). */
  lastRefreshError: Error | null = null

  version(): string { return VERSION }
  initialize(context: SourceTaskContext): void { this.context = context }

  async start(props: Record<string, string>): Promise<void> {
    this.settings = mirrorSourceSettings(props)
    this.shard = taskShard(props)
    const s = this.settings
    const id = `${s.sourceAlias}->${s.targetAlias}|MirrorSourceTask-${this.shard.index}`
    this.source = clusterClient(props['source.cluster.bootstrap.servers']!, id)
    this.target = clusterClient(props['target.cluster.bootstrap.servers']!, id)
    if (s.parsed['emit.offset-syncs.enabled']) {
      const location = s.parsed['offset-syncs.topic.location'] === 'target' ? props['target.cluster.bootstrap.servers']! : props['source.cluster.bootstrap.servers']!
      this.syncsClient = clusterClient(location, id + '|offset-syncs')
      this.syncsProducer = new Producer(this.syncsClient, {acks: -1, allowAutoTopicCreation: false, lingerMs: 0})
    }
    this.stopped = false
    try {
      await this.refreshAssignment()
    } catch (error) {
      await this.stop()
      throw error
    }
  }

  /** The topic-partitions this task replicates now. */
  assignment(): Assigned[] { return [...this.assigned] }

  async poll(): Promise<SourceRecord[] | null> {
    if (this.stopped) return null
    if (this.failure) throw this.failure
    if (this.syncError) { const e = this.syncError; this.syncError = undefined; throw e }
    if (Date.now() >= this.nextRefresh) {
      // A failed refresh (a cluster briefly unreachable) keeps the current partitions; retried at the next interval.
      try {
        await this.refreshAssignment()
        this.lastRefreshError = null
      } catch (error) {
        this.lastRefreshError = error as Error
      }
    }
    if (this.queue.length === 0) {
      const timeout = Number(this.settings!.parsed['consumer.poll.timeout.ms'])
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => { this.wakePoll = undefined; resolve() }, timeout)
        this.wakePoll = () => { clearTimeout(t); this.wakePoll = undefined; resolve() }
      })
    }
    if (this.failure) throw this.failure
    const out = this.queue.length <= MAX_POLL_RECORDS ? this.queue : this.queue.slice(0, MAX_POLL_RECORDS)
    this.queue = this.queue.length <= MAX_POLL_RECORDS ? [] : this.queue.slice(MAX_POLL_RECORDS)
    this.wakeConsumer?.()
    return out
  }

  /** Emits an offset sync for the record's partition when PartitionState asks for one. */
  commitRecord(record: SourceRecord, metadata: {topic: string; partition: number; offset: bigint} | null): void {
    if (!metadata || !this.syncsProducer) return // dropped by a transform: nothing to sync
    const topic = record.sourcePartition.topic as string
    const partition = record.sourcePartition.partition as number
    const upstream = BigInt(record.sourceOffset.offset as number)
    const state = this.partitionState(topic, partition)
    if (state.update(upstream, metadata.offset)) this.sendSync(topic, partition, state)
  }

  /** After an offset commit: syncs the latest replicated offsets of every partition (MM2's delayed syncs) and waits for them. */
  async commit(): Promise<void> {
    if (!this.syncsProducer) return
    for (const [k, state] of this.partitionStates) {
      if (state.promoteLatest()) {
        const [topic, partition] = k.split('\u0000')
        this.sendSync(topic!, Number(partition), state)
      }
    }
    await this.syncsProducer.flush()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.wakePoll?.()
    await this.stopConsumer()
    await this.syncsProducer?.close().catch(() => undefined)
    await Promise.all([this.source?.close(), this.target?.close(), this.syncsClient?.close()])
    this.source = this.target = this.syncsClient = undefined
    this.syncsProducer = undefined
  }

  private partitionState(topic: string, partition: number): PartitionState {
    const k = tpKey(topic, partition)
    let state = this.partitionStates.get(k)
    if (!state) this.partitionStates.set(k, (state = new PartitionState(BigInt(this.settings!.parsed['offset.lag.max'] as number))))
    return state
  }

  private sendSync(topic: string, partition: number, state: PartitionState): void {
    const sync = {topic, partition, ...state.sync()}
    state.reset()
    const {key, value} = encodeOffsetSync(sync)
    this.syncsProducer!.push({topic: this.settings!.offsetSyncsTopic, partition: 0, key, value}, (error) => {
      if (error) {
        state.pending = true // sent again with the next sync or commit
        this.syncError ??= new Error(`writing an offset sync to ${this.settings!.offsetSyncsTopic}: ${error.message}`)
      }
    })
  }

  /** Lists the source partitions this task owns whose remote partition exists; restarts the consumer when that set changed. */
  private async refreshAssignment(): Promise<void> {
    const s = this.settings!
    this.nextRefresh = Date.now() + Number(s.parsed['refresh.topics.interval.seconds']) * 1000
    const topics = await sourceTopics(new Admin(this.source!), s)
    const remote = topics.size === 0 ? {topics: []} : await new Admin(this.target!).describeTopics([...topics.keys()].map((t) => s.policy.formatRemoteTopic(s.sourceAlias, t)))
    const remoteCounts = new Map(remote.topics.filter((t) => t.errorCode === 0).map((t) => [t.name, t.partitions.length]))
    const wanted: Assigned[] = []
    for (const [topic, count] of [...topics].sort(([a], [b]) => a.localeCompare(b))) {
      const available = Math.min(count, remoteCounts.get(s.policy.formatRemoteTopic(s.sourceAlias, topic)) ?? 0)
      for (let partition = 0; partition < available; partition++) {
        if (ownedBy(`${topic}-${partition}`, this.shard.index, this.shard.count)) wanted.push({topic, partition})
      }
    }
    const same = wanted.length === this.assigned.length && wanted.every((w, i) => w.topic === this.assigned[i]!.topic && w.partition === this.assigned[i]!.partition)
    if (same && this.consumer) return
    await this.stopConsumer()
    this.assigned = wanted
    if (wanted.length === 0) return
    await this.startConsumer()
  }

  private async startConsumer(): Promise<void> {
    const s = this.settings!
    const positions: Array<{topic: string; partition: number; offset: bigint}> = []
    const unknown: Assigned[] = []
    for (const a of this.assigned) {
      const queued = this.nextOffsets.get(tpKey(a.topic, a.partition))
      if (queued !== undefined) { positions.push({...a, offset: queued}); continue }
      const committed = this.context?.offsetStorageReader.offset({cluster: s.sourceAlias, partition: a.partition, topic: a.topic})
      if (committed && typeof committed.offset === 'number') positions.push({...a, offset: BigInt(committed.offset) + 1n})
      else unknown.push(a)
    }
    if (unknown.length > 0) {
      const earliest = await new Admin(this.source!).listOffsets(unknown.map((u) => ({...u, timestamp: EARLIEST_TIMESTAMP})))
      for (const e of earliest) {
        if (e.errorCode !== 0) throw new Error(`earliest offset of ${e.topic}-${e.partition}: ${e.error}`)
        positions.push({topic: e.topic, partition: e.partition, offset: e.offset})
      }
    }
    const consumer = new Consumer(this.source!, {autoOffsetReset: 'earliest', maxWaitMs: 500})
    consumer.assign(positions)
    this.consumer = consumer
    this.consumerLoop = this.runConsumer(consumer)
  }

  private async runConsumer(consumer: Consumer): Promise<void> {
    const s = this.settings!
    try {
      for await (const batch of consumer.batches()) {
        const remoteTopic = s.policy.formatRemoteTopic(s.sourceAlias, batch.topic)
        for (const r of batch.records) {
          this.queue.push({
            sourcePartition: {cluster: s.sourceAlias, partition: batch.partition, topic: batch.topic},
            sourceOffset: {offset: r.offset},
            topic: remoteTopic,
            partition: batch.partition,
            keySchema: Schemas.OPTIONAL_BYTES,
            key: r.key,
            valueSchema: Schemas.OPTIONAL_BYTES,
            value: r.value,
            timestamp: r.timestamp,
            headers: r.headers,
          })
        }
        this.nextOffsets.set(tpKey(batch.topic, batch.partition), batch.nextOffset)
        if (batch.records.length > 0) this.wakePoll?.()
        while (this.queue.length >= MAX_QUEUED_RECORDS && !this.stopped && this.consumer === consumer) {
          await new Promise<void>((resolve) => { this.wakeConsumer = () => { this.wakeConsumer = undefined; resolve() } })
        }
        if (this.consumer !== consumer) break
      }
    } catch (error) {
      if (this.consumer === consumer) this.failure = error as Error
      this.wakePoll?.()
    }
  }

  private async stopConsumer(): Promise<void> {
    const consumer = this.consumer
    if (!consumer) return
    this.consumer = undefined
    consumer.stop()
    this.wakeConsumer?.()
    await consumer.close()
    await this.consumerLoop
    this.consumerLoop = undefined
  }
}
