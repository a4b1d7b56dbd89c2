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
import {logConfigFromTopicConfigs} from './log/log-config.js'
import type {LogManager} from './log/log-manager.js'
import {ErrorCode} from '../lib/protocol/generated/errors.js'
import type {PartitionLog} from './log/partition-log.js'
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
   * The check of a request's current leader epoch (-1: not given) against this partition's:
   * UNKNOWN_LEADER_EPOCH when the client is ahead, FENCED_LEADER_EPOCH when it is behind.
   */
  leaderEpochError(currentLeaderEpoch: number): number {
    if (currentLeaderEpoch < 0 || currentLeaderEpoch === this.leaderEpoch) return ErrorCode.NONE
    return currentLeaderEpoch > this.leaderEpoch ? ErrorCode.UNKNOWN_LEADER_EPOCH : ErrorCode.FENCED_LEADER_EPOCH
  }
}

export interface ReplicaManagerOptions {
  logs: LogManager
  log: Logger
  /** Topic configs (explicit over broker defaults) of a topic. */
  topicConfigs(topic: TopicMetadata): Record<string, string>
}

export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>()
  /** Emits `append` with the partition key after every append (wakes long-polling fetches). */
  private readonly events = new EventEmitter()

  constructor(private readonly options: ReplicaManagerOptions) {
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

  /**
   * Opens (creating when new) the logs of every partition of `topic` assigned to this broker: one
   * batch for the LogManager, which creates them a few at a time and makes them durable together.
   */
  async ensurePartitions(topic: TopicMetadata): Promise<void> {
    const missing = topic.partitions.filter((p) => !this.partitions.has(ReplicaManager.key(topic.name, p.partition)))
    if (missing.length === 0) return
    const config = logConfigFromTopicConfigs(this.options.topicConfigs(topic))
    const logs = await this.options.logs.getOrCreateLogs(missing.map((p) => ({topic: topic.name, partition: p.partition, topicId: topic.topicId, config})))
    missing.forEach((p, i) => {
      this.partitions.set(ReplicaManager.key(topic.name, p.partition), new Partition(topic.name, p.partition, topic.topicId, logs[i]!, p.leaderEpoch))
    })
  }

  /** Applies changed topic configs to open logs. */
  updateConfigs(topic: TopicMetadata): void {
    this.options.logs.updateTopicConfig(topic.name, logConfigFromTopicConfigs(this.options.topicConfigs(topic)))
  }

  async deletePartitions(topic: TopicMetadata): Promise<void> {
    for (const p of topic.partitions) {
      this.partitions.delete(ReplicaManager.key(topic.name, p.partition))
      await this.options.logs.deleteLog(topic.name, p.partition)
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

  /** Clean shutdown of every log: flush, checkpoints, the clean-shutdown marker. */
  async shutdown(): Promise<void> {
    await this.options.logs.shutdown()
    this.partitions.clear()
  }
}
