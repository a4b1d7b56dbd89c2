/**
 * The partitions this broker hosts: one PartitionLog for each partition whose replicas include
 * this broker, in `<dataDir>/<topic>-<partition>`, with the leader-side state the log does not
 * own (leader, leader epoch, high watermark) and the waits of long-polling fetches.
 *
 * reconcile() makes the hosted set follow the metadata store: new partitions assigned here are
 * opened, partitions whose topic was deleted (or reassigned away) are deleted, also when that
 * happened while this broker was down (a log whose topic id the store no longer has is a stray).
 * The broker runs it at start and, in a cluster, whenever the store changes.
 *
 * Requests for a partition the store has but this broker does not lead get
 * NOT_LEADER_OR_FOLLOWER (lookup()), so clients refresh their metadata and go to the leader.
 *
 * Until replication lands, the high watermark is the log end offset as soon as an append is done
 * (acks=1 and acks=-1 are the same) and a follower's log is not fed.
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
    /** The leader's broker id, from the metadata store. */
    public leader: number,
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
  /** This broker's id. */
  nodeId: number
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
   * The partition of a request that needs its leader (produce, fetch, offsets), or the error to
   * answer: UNKNOWN_TOPIC_OR_PARTITION when the store has no such partition, NOT_LEADER_OR_FOLLOWER
   * when another broker leads it.
   */
  lookup(topic: TopicMetadata | undefined, partition: number): {partition: Partition; errorCode?: undefined} | {partition?: undefined; errorCode: number} {
    const hosted = topic ? this.get(topic.name, partition) : undefined
    if (hosted && hosted.leader === this.options.nodeId) return {partition: hosted}
    const assigned = topic?.partitions.find((p) => p.partition === partition)
    if (!assigned) return {errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION}
    return {errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER}
  }

  /**
   * Opens (creating when new) the logs of every partition of `topic` assigned to this broker: one
   * batch for the LogManager, which creates them a few at a time and makes them durable together.
   * Partitions already open take the store's leader and leader epoch. Serialized with
   * reconcile() and deletePartitions(), so a partition is never opened twice.
   */
  ensurePartitions(topic: TopicMetadata): Promise<void> {
    return this.serialized(() => this.ensureLocked(topic))
  }

  private async ensureLocked(topic: TopicMetadata): Promise<void> {
    const mine = topic.partitions.filter((p) => p.replicas.includes(this.options.nodeId))
    const missing = mine.filter((p) => !this.partitions.has(ReplicaManager.key(topic.name, p.partition)))
    for (const p of mine) {
      const open = this.partitions.get(ReplicaManager.key(topic.name, p.partition))
      if (open) {
        open.leader = p.leader
        open.leaderEpoch = p.leaderEpoch
      }
    }
    if (missing.length === 0) return
    const config = logConfigFromTopicConfigs(this.options.topicConfigs(topic))
    const logs = await this.options.logs.getOrCreateLogs(missing.map((p) => ({topic: topic.name, partition: p.partition, topicId: topic.topicId, config})))
    missing.forEach((p, i) => {
      this.partitions.set(ReplicaManager.key(topic.name, p.partition), new Partition(topic.name, p.partition, topic.topicId, logs[i]!, p.leaderEpoch, p.leader))
    })
  }

  private chain: Promise<unknown> = Promise.resolve()
  private reconcileQueued = false

  /** Runs `fn` after every change of the hosted set queued before it. */
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn)
    this.chain = run.catch(() => undefined)
    return run
  }

  /**
   * Makes the hosted partitions follow the store's topics (`topics()` is read when the run
   * starts): opens what is assigned here, and deletes the logs of partitions whose topic is gone
   * (by id) or that are no longer assigned here, and stray logs. Calls made while one is queued
   * share it.
   */
  reconcile(topics: () => readonly TopicMetadata[]): Promise<void> {
    if (this.reconcileQueued) return this.chain.then(() => undefined)
    this.reconcileQueued = true
    const run = this.serialized(async () => {
      this.reconcileQueued = false
      await this.reconcileLocked(topics())
    })
    return run
  }

  private async reconcileLocked(topics: readonly TopicMetadata[]): Promise<void> {
    const byName = new Map(topics.map((t) => [t.name, t]))
    for (const topic of topics) await this.ensureLocked(topic)
    for (const p of [...this.partitions.values()]) {
      const topic = byName.get(p.topic)
      const assigned = topic?.topicId === p.topicId ? topic.partitions.find((a) => a.partition === p.partition) : undefined
      if (assigned?.replicas.includes(this.options.nodeId)) continue
      this.options.log.info({topic: p.topic, partition: p.partition, topicId: p.topicId}, assigned ? 'partition moved away: deleting its log' : 'topic deleted: deleting its partition log')
      this.partitions.delete(ReplicaManager.key(p.topic, p.partition))
      await this.options.logs.deleteLog(p.topic, p.partition)
    }
    // Logs on disk that no topic of the store claims: deleted while this broker was down.
    for (const log of this.options.logs.allLogs()) {
      if (this.partitions.has(ReplicaManager.key(log.topic, log.partition))) continue
      this.options.log.info({topic: log.topic, partition: log.partition}, 'stray partition log (its topic is not in the metadata store): deleting it')
      await this.options.logs.deleteLog(log.topic, log.partition)
    }
  }

  /** Applies changed topic configs to open logs. */
  updateConfigs(topic: TopicMetadata): void {
    this.options.logs.updateTopicConfig(topic.name, logConfigFromTopicConfigs(this.options.topicConfigs(topic)))
  }

  deletePartitions(topic: TopicMetadata): Promise<void> {
    return this.serialized(async () => {
      for (const p of topic.partitions) {
        this.partitions.delete(ReplicaManager.key(topic.name, p.partition))
        await this.options.logs.deleteLog(topic.name, p.partition)
      }
    })
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
