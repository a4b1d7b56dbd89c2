/**
 * The partitions this broker hosts: one PartitionLog each, in `<dataDir>/<topic>-<partition>`,
 * with the leader-side state the log does not own (high watermark, leader epoch) and the waits of
 * long-polling fetches.
 *
 * With one broker every partition's only replica is the leader and the ISR is just itself, so the
 * high watermark is the log end offset as soon as an append is done (acks=1 and acks=-1 are the
 * same); the replication issue replaces this with follower tracking.
 *
 * Appends to one partition are serialized by the PartitionLog itself.
 */
import {EventEmitter} from 'node:events'
import {join} from 'node:path'
import {logConfigFromTopicConfigs} from './log/log-config.js'
import {FileHandleCache} from './log/file-handle-cache.js'
import type {FileSystem} from './log/fs.js'
import {NodeFileSystem} from './log/fs.js'
import {PartitionLog, type TimestampAndOffset} from './log/partition-log.js'
import {decodeRecordBatch} from '../lib/records/record.js'
import type {TopicMetadata} from './controller/metadata-store.js'
import type {Logger} from './logger.js'

export class Partition {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly topicId: string,
    readonly log: PartitionLog,
    public leaderEpoch: number,
  ) {}

  /** One replica: everything appended is committed. */
  get highWatermark(): number {
    return this.log.logEndOffset
  }

  /**
   * ListOffsets by timestamp, to the record: the log finds the first batch whose max timestamp
   * is >= `timestamp` through the time index; that one batch is decoded to find the first record
   * at or after it, as Kafka answers. Special timestamps (-1, -2, -3) pass through.
   */
  async offsetForTimestamp(timestamp: number): Promise<TimestampAndOffset | undefined> {
    const found = await this.log.offsetForTimestamp(timestamp)
    if (!found || timestamp < 0) return found
    const {records} = await this.log.read(found.offset, 1, {minOneMessage: true})
    if (records.length === 0) return found
    const batch = await decodeRecordBatch(records)
    const record = batch.records.find((r) => r.timestamp >= timestamp && r.offset >= this.log.logStartOffset)
    return record ? {timestamp: record.timestamp, offset: record.offset, leaderEpoch: found.leaderEpoch} : found
  }
}

export interface ReplicaManagerOptions {
  dataDir: string
  log: Logger
  /** Topic configs (explicit over broker defaults) of a topic. */
  topicConfigs(topic: TopicMetadata): Record<string, string>
  fs?: FileSystem
  maxOpenFiles?: number
}

export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>()
  private readonly fs: FileSystem
  private readonly handleCache: FileHandleCache
  /** Emits `append` with the partition key after every append (wakes long-polling fetches). */
  private readonly events = new EventEmitter()

  constructor(private readonly options: ReplicaManagerOptions) {
    this.fs = options.fs ?? new NodeFileSystem()
    this.handleCache = new FileHandleCache(options.maxOpenFiles ?? 4096)
    this.events.setMaxListeners(0)
  }

  static key(topic: string, partition: number): string {
    return `${topic}-${partition}`
  }

  get(topic: string, partition: number): Partition | undefined {
    return this.partitions.get(ReplicaManager.key(topic, partition))
  }

  all(): Partition[] {
    return [...this.partitions.values()]
  }

  /** Opens (creating when new) the logs of every partition of `topic` assigned to this broker. */
  async ensurePartitions(topic: TopicMetadata): Promise<void> {
    const config = logConfigFromTopicConfigs(this.options.topicConfigs(topic))
    for (const p of topic.partitions) {
      const key = ReplicaManager.key(topic.name, p.partition)
      if (this.partitions.has(key)) continue
      const log = await PartitionLog.open({fs: this.fs, dir: join(this.options.dataDir, key), config, handleCache: this.handleCache, topicId: topic.topicId})
      const report = log.recoveryReport
      if (report && 'truncatedBytes' in report && (report as {truncatedBytes: number}).truncatedBytes > 0) {
        this.options.log.warn({partition: key, report}, 'recovered partition log: truncated a torn or invalid tail')
      }
      this.partitions.set(key, new Partition(topic.name, p.partition, topic.topicId, log, p.leaderEpoch))
    }
  }

  /** Applies changed topic configs to open logs. */
  updateConfigs(topic: TopicMetadata): void {
    const config = logConfigFromTopicConfigs(this.options.topicConfigs(topic))
    for (const p of topic.partitions) this.get(topic.name, p.partition)?.log.updateConfig(config)
  }

  async deletePartitions(topic: TopicMetadata): Promise<void> {
    for (const p of topic.partitions) {
      const key = ReplicaManager.key(topic.name, p.partition)
      const partition = this.partitions.get(key)
      if (!partition) continue
      this.partitions.delete(key)
      await partition.log.delete()
    }
  }

  notifyAppend(partition: Partition): void {
    this.events.emit('append', ReplicaManager.key(partition.topic, partition.partition))
  }

  /**
   * Resolves after the next append to one of `keys`, or after `timeoutMs`, or when `signal`
   * aborts — whichever is first. Used by Fetch to long-poll.
   */
  waitForAppend(keys: ReadonlySet<string>, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.events.off('append', onAppend)
        resolve()
      }
      const onAppend = (key: string) => {
        if (keys.has(key)) done()
      }
      const timer = setTimeout(done, Math.max(0, timeoutMs))
      this.events.on('append', onAppend)
    })
  }

  /** Runs time-based flushes and retention; call periodically. */
  async maintenance(): Promise<void> {
    for (const p of this.partitions.values()) {
      try {
        await p.log.maybeFlushOnTime()
        await p.log.deleteOldSegments()
        await p.log.deletePendingFiles()
      } catch (error) {
        this.options.log.error({err: error, partition: ReplicaManager.key(p.topic, p.partition)}, 'log maintenance failed')
      }
    }
  }

  /** Flushes and closes every log (clean shutdown). */
  async shutdown(): Promise<void> {
    for (const p of this.partitions.values()) {
      try {
        await p.log.close()
      } catch (error) {
        this.options.log.error({err: error, partition: ReplicaManager.key(p.topic, p.partition)}, 'closing a log failed')
      }
    }
    this.partitions.clear()
  }
}
