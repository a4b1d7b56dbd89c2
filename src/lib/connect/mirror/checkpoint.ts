/**
 * MirrorCheckpointConnector / MirrorCheckpointTask (MirrorMaker 2, KIP-382): consumer group offsets
 * of the source cluster, translated to the remote topics through the offset syncs, as checkpoint
 * records in `<source alias>.checkpoints.internal` on the target (the cluster the worker writes to)
 * and, with `sync.group.offsets.enabled`, committed to the same group on the target.
 *
 * Connector: creates the checkpoints topic on the target (one partition, compacted,
 * `checkpoints.topic.replication.factor`); task i of n (`task.index`, `task.count`) owns the groups
 * whose id hashes to i (MM2 lists `task.assigned.groups` instead), so new groups need no
 * reconfiguration: each task lists the source's groups itself (`groups` / `groups.exclude`).
 *
 * Task: reads the offset-syncs topic (`mm2-offset-syncs.<target alias>.internal`, on the cluster
 * `offset-syncs.topic.location` names) from its beginning and keeps following it; no checkpoint is
 * emitted before it read to the end offset it found at start. Every
 * `emit.checkpoints.interval.seconds` poll() returns, for each owned group and each committed
 * offset of a mirrored topic, a checkpoint {group, remote topic, partition, upstream offset,
 * translated downstream offset, metadata} when the translation exists (offset-syncs.ts) and differs
 * from the last one emitted. Every `sync.group.offsets.interval.seconds` it commits the translated
 * offsets to the target group, only when the group has no active member there (state Empty, or it
 * does not exist) and only forward (a target offset already at or past the translation is kept),
 * as MM2 does. Source offsets of checkpoint records: partition {group, topic, partition}, offset
 * {offset: 0} (MM2's; a restart does not depend on them).
 */
import {Admin} from '../../client/admin.js'
import type {KafkaClient} from '../../client/client.js'
import {Consumer} from '../../client/consumer.js'
import {ErrorCode} from '../../client/errors.js'
import {type ConfigDef, type ConfigValue, type SourceConnector, type SourceRecord, type SourceTask} from '../api.js'
import {Schemas} from '../data.js'
import {clusterClient, isInternalTopic, MIRROR_CHECKPOINT_CONFIG, NameFilter, ownedBy, type ReplicationPolicy, replicationPolicy, shardedTaskConfigs, taskShard, VERSION} from './config.js'
import {type Checkpoint, decodeOffsetSync, encodeCheckpoint, OffsetSyncStore} from './offset-syncs.js'
import {createTopicIfMissing} from './source.js'

export const MIRROR_CHECKPOINT_CONNECTOR_CLASS = 'org.apache.kafka.connect.mirror.MirrorCheckpointConnector'

interface CheckpointSettings {
  sourceAlias: string
  targetAlias: string
  policy: ReplicationPolicy
  topicFilter: NameFilter
  groupFilter: NameFilter
  checkpointsTopic: string
  offsetSyncsTopic: string
  parsed: Record<string, unknown>
}

function checkpointSettings(props: Record<string, string>): CheckpointSettings {
  const parsed = MIRROR_CHECKPOINT_CONFIG.parse(props)
  const policy = replicationPolicy(parsed)
  const sourceAlias = parsed['source.cluster.alias'] as string
  const targetAlias = parsed['target.cluster.alias'] as string
  return {
    sourceAlias,
    targetAlias,
    policy,
    topicFilter: new NameFilter(parsed.topics as string[], parsed['topics.exclude'] as string[]),
    groupFilter: new NameFilter(parsed.groups as string[], parsed['groups.exclude'] as string[]),
    checkpointsTopic: policy.checkpointsTopic(sourceAlias),
    offsetSyncsTopic: policy.offsetSyncsTopic(targetAlias),
    parsed,
  }
}

export class MirrorCheckpointConnector implements SourceConnector {
  readonly type = 'source' as const
  private props: Record<string, string> = {}

  version(): string { return VERSION }
  config(): ConfigDef { return MIRROR_CHECKPOINT_CONFIG }
  validate(props: Record<string, string>): ConfigValue[] { return MIRROR_CHECKPOINT_CONFIG.validate(props) }
  createTask(): SourceTask { return new MirrorCheckpointTask() }

  /** Parses the config and creates the checkpoints topic on the target. */
  async start(props: Record<string, string>): Promise<void> {
    const s = checkpointSettings(props)
    this.props = props
    if (!s.parsed['emit.checkpoints.enabled']) return
    const target = clusterClient(props['target.cluster.bootstrap.servers']!, `${s.sourceAlias}->${s.targetAlias}|MirrorCheckpointConnector`)
    try {
      await createTopicIfMissing(new Admin(target), s.checkpointsTopic, 1, Number(s.parsed['checkpoints.topic.replication.factor']), {'cleanup.policy': 'compact'})
    } finally {
      await target.close()
    }
  }

  taskConfigs(maxTasks: number): Array<Record<string, string>> {
    return shardedTaskConfigs(this.props, Math.max(1, maxTasks))
  }

  stop(): void {}
}

export class MirrorCheckpointTask implements SourceTask {
  private settings?: CheckpointSettings
  private shard = {index: 0, count: 1}
  private source?: KafkaClient
  private target?: KafkaClient
  private syncsClient?: KafkaClient
  private syncsConsumer?: Consumer
  private syncsLoop?: Promise<void>
  private syncsEnd = 0n
  private syncsPosition = 0n
  private failure?: Error
  readonly offsetSyncs = new OffsetSyncStore()
  /** The last checkpoint emitted per group and remote topic-partition. */
  private readonly checkpoints = new Map<string, Map<string, Checkpoint>>()
  private nextEmit = 0
  private nextGroupSync = 0
  private stopped = false
  private wake?: () => void
  /** The last failure of a group offset sync (they are retried at the next interval). */
  lastSyncError: Error | null = null

  version(): string { return VERSION }
  initialize(): void {}

  async start(props: Record<string, string>): Promise<void> {
    const s = (this.settings = checkpointSettings(props))
    this.shard = taskShard(props)
    const id = `${s.sourceAlias}->${s.targetAlias}|MirrorCheckpointTask-${this.shard.index}`
    this.source = clusterClient(props['source.cluster.bootstrap.servers']!, id)
    this.target = clusterClient(props['target.cluster.bootstrap.servers']!, id)
    this.syncsClient = clusterClient(s.parsed['offset-syncs.topic.location'] === 'target' ? props['target.cluster.bootstrap.servers']! : props['source.cluster.bootstrap.servers']!, id + '|offset-syncs')
    this.stopped = false
    try {
      await this.followOffsetSyncs()
    } catch (error) {
      await this.stop() // no clients left open behind a failed start
      throw error
    }
  }

  /** Starts reading the offset-syncs topic from its beginning, noting its end offset now. */
  private async followOffsetSyncs(): Promise<void> {
    const s = this.settings!
    const admin = new Admin(this.syncsClient!)
    const [start, end] = await Promise.all([
      admin.listOffsets([{topic: s.offsetSyncsTopic, partition: 0, timestamp: -2n}]),
      admin.listOffsets([{topic: s.offsetSyncsTopic, partition: 0, timestamp: -1n}]),
    ])
    if (start[0]!.errorCode !== 0) throw new Error(`offset-syncs topic ${s.offsetSyncsTopic}: ${start[0]!.error} (is the MirrorSourceConnector running?)`)
    this.syncsEnd = end[0]!.offset
    this.syncsPosition = start[0]!.offset
    const consumer = new Consumer(this.syncsClient!, {autoOffsetReset: 'earliest', maxWaitMs: 500})
    consumer.assign([{topic: s.offsetSyncsTopic, partition: 0, offset: start[0]!.offset}])
    this.syncsConsumer = consumer
    this.syncsLoop = this.readOffsetSyncs(consumer)
    // The first checkpoints once the syncs are read; group offsets synced after the first checkpoints.
    this.nextEmit = 0
    this.nextGroupSync = 0
  }

  /** Whether every offset sync that existed at start was read. */
  get offsetSyncsLoaded(): boolean { return this.syncsPosition >= this.syncsEnd }

  async poll(): Promise<SourceRecord[] | null> {
    if (this.stopped) return null
    if (this.failure) throw this.failure
    const s = this.settings!
    if (!this.offsetSyncsLoaded || Date.now() < this.nextEmit) {
      await this.sleep(Math.min(Number(s.parsed['consumer.poll.timeout.ms']), Math.max(1, this.nextEmit - Date.now())))
      if (this.stopped || !this.offsetSyncsLoaded || Date.now() < this.nextEmit) return []
    }
    this.nextEmit = Date.now() + Number(s.parsed['emit.checkpoints.interval.seconds']) * 1000
    // Checkpoints are computed even when not emitted: the group offset sync commits them.
    const computed = await this.checkpointRecords()
    const records = s.parsed['emit.checkpoints.enabled'] ? computed : []
    if (s.parsed['sync.group.offsets.enabled'] && Date.now() >= this.nextGroupSync) {
      this.nextGroupSync = Date.now() + Number(s.parsed['sync.group.offsets.interval.seconds']) * 1000
      try {
        await this.syncGroupOffsets()
        this.lastSyncError = null
      } catch (error) {
        this.lastSyncError = error as Error
      }
    }
    return records
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.wake?.()
    const consumer = this.syncsConsumer
    this.syncsConsumer = undefined
    if (consumer) {
      consumer.stop()
      await consumer.close()
      await this.syncsLoop
    }
    await Promise.all([this.source?.close(), this.target?.close(), this.syncsClient?.close()])
    this.source = this.target = this.syncsClient = undefined
  }

  /** The groups of the source this task owns. */
  async groups(): Promise<string[]> {
    const s = this.settings!
    const listed = await new Admin(this.source!).listGroups()
    return listed
      .filter((g) => (g.protocolType === 'consumer' || g.protocolType === '') && s.groupFilter.matches(g.groupId) && ownedBy(g.groupId, this.shard.index, this.shard.count))
      .map((g) => g.groupId)
  }

  /** Checkpoints of every owned group that changed since the last ones emitted. */
  private async checkpointRecords(): Promise<SourceRecord[]> {
    const s = this.settings!
    const admin = new Admin(this.source!)
    const out: SourceRecord[] = []
    for (const group of await this.groups()) {
      const committed = await admin.fetchOffsets(group)
      for (const c of committed) {
        if (c.errorCode !== 0 || c.offset < 0n) continue
        if (!s.topicFilter.matches(c.topic) || isInternalTopic(c.topic) || s.policy.topicSource(c.topic) === s.targetAlias) continue
        const downstream = this.offsetSyncs.translateDownstream(c.topic, c.partition, c.offset)
        if (downstream === null || downstream < 0n) continue // no sync yet, or an offset older than every sync
        const checkpoint: Checkpoint = {group, topic: s.policy.formatRemoteTopic(s.sourceAlias, c.topic), partition: c.partition, upstreamOffset: c.offset, downstreamOffset: downstream, metadata: c.metadata ?? ''}
        let byPartition = this.checkpoints.get(group)
        if (!byPartition) this.checkpoints.set(group, (byPartition = new Map()))
        const k = `${checkpoint.topic}\u0000${checkpoint.partition}`
        const previous = byPartition.get(k)
        if (previous && previous.upstreamOffset === checkpoint.upstreamOffset && previous.downstreamOffset === checkpoint.downstreamOffset) continue
        byPartition.set(k, checkpoint)
        const {key, value} = encodeCheckpoint(checkpoint)
        out.push({
          sourcePartition: {group, partition: checkpoint.partition, topic: checkpoint.topic},
          sourceOffset: {offset: 0},
          topic: s.checkpointsTopic,
          partition: 0,
          keySchema: Schemas.BYTES,
          key,
          valueSchema: Schemas.BYTES,
          value,
          timestamp: Date.now(),
        })
      }
    }
    return out
  }

  /** Commits the translated offsets to each checkpointed group on the target that has no active member, never backwards. */
  async syncGroupOffsets(): Promise<void> {
    const admin = new Admin(this.target!)
    for (const [group, byPartition] of this.checkpoints) {
      if (byPartition.size === 0) continue
      const [description] = await admin.describeGroups([group])
      const idle = !description || description.errorCode === ErrorCode.GROUP_ID_NOT_FOUND || description.state === 'Empty' || description.state === 'Dead'
      if (!idle) continue
      const current = await admin.fetchOffsets(group)
      const have = new Map(current.filter((c) => c.errorCode === 0).map((c) => [`${c.topic}\u0000${c.partition}`, c.offset]))
      const offsets = [...byPartition.values()]
        .filter((c) => (have.get(`${c.topic}\u0000${c.partition}`) ?? -1n) < c.downstreamOffset)
        .map((c) => ({topic: c.topic, partition: c.partition, offset: c.downstreamOffset, metadata: c.metadata}))
      if (offsets.length === 0) continue
      const results = await admin.commitOffsets(group, offsets)
      const failed = results.find((r) => r.errorCode !== 0)
      // A consumer that joined on the target meanwhile makes the commit fail: its own offsets win.
      if (failed && failed.errorCode !== ErrorCode.UNKNOWN_MEMBER_ID && failed.errorCode !== ErrorCode.ILLEGAL_GENERATION && failed.errorCode !== ErrorCode.REBALANCE_IN_PROGRESS) {
        throw new Error(`committing translated offsets of group ${group}: ${failed.error}`)
      }
    }
  }

  private async readOffsetSyncs(consumer: Consumer): Promise<void> {
    try {
      for await (const batch of consumer.batches()) {
        for (const r of batch.records) {
          if (!r.key || !r.value) continue
          try {
            this.offsetSyncs.add(decodeOffsetSync(r.key, r.value))
          } catch {
            // Not an offset sync (written by something else): skipped, as MM2's store does.
          }
        }
        this.syncsPosition = batch.nextOffset
      }
    } catch (error) {
      if (!this.stopped) this.failure = error as Error
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = undefined; resolve() }, ms)
      this.wake = () => { clearTimeout(t); this.wake = undefined; resolve() }
    })
  }
}
