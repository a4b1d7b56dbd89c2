/**
 * The partitions this broker hosts: one PartitionLog for each partition whose replicas include
 * this broker, in `<dataDir>/<topic>-<partition>`, with the replication state the log does not
 * own: the role (leader or follower), leader epoch, ISR, high watermark, and on a leader each
 * follower's fetch position.
 *
 * reconcile() makes the hosted set and the roles follow the metadata store: new partitions
 * assigned here are opened, partitions whose topic was deleted (or reassigned away) are deleted,
 * also when that happened while this broker was down (a log whose topic id the store no longer
 * has is a stray). A partition whose state names this broker as leader — in this registration's
 * broker epoch — becomes leader: its leader epoch starts at the log end offset
 * (leader-epoch-checkpoint), followers' positions are forgotten. Any other becomes a follower of
 * the named leader: the ReplicaFetcherManager truncates it with OffsetsForLeaderEpoch and fetches.
 *
 * The high watermark, on a leader, is the smallest log end offset over the ISR (its own, and
 * what each ISR follower's last fetch offset says); with an ISR of this broker alone, the log end
 * offset. It never moves backwards while this broker leads. ISR changes are written by the leader
 * with a compare-and-swap on the partition epoch (the store's alterPartition): a follower that
 * has not caught up for `replica.lag.time.max.ms` is removed, one that reached the high watermark
 * in this leader epoch is added back. While a change is in flight the high watermark is computed
 * over the union of the old and the new ISR (Kafka's "maximal ISR"), so a shrink never lets it
 * pass what a removed member has.
 *
 * Requests for a partition this broker does not lead get NOT_LEADER_OR_FOLLOWER (lookup()), and
 * so does everything while the broker's etcd session is lost (it fences itself: another broker
 * may lead by now). appendAsLeader() is the one leader append: min.insync.replicas before it
 * (NOT_ENOUGH_REPLICAS), and with acks=all the wait until the high watermark covers it
 * (NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank below min.insync.replicas meanwhile;
 * NOT_LEADER_OR_FOLLOWER when leadership moved; REQUEST_TIMED_OUT).
 *
 * Appends to one partition are serialized by the PartitionLog itself.
 */
import type {ReplicationThrottle} from './replication/throttle.js'
import {EventEmitter} from 'node:events'
import {logConfigFromTopicConfigs} from './log/log-config.js'
import type {LogManager} from './log/log-manager.js'
import {ErrorCode} from '../lib/protocol/generated/errors.js'
import type {AppendOrigin, AppendResult, PartitionLog} from './log/partition-log.js'
import {LogError} from './log/errors.js'
import type {MetadataStore, PartitionAssignment, TopicMetadata} from './controller/metadata-store.js'
import type {Logger} from './logger.js'
import type {ReplicaFetcherManager} from './replication/replica-fetcher.js'

/** What the leader knows of one follower, from its fetches. */
export interface FollowerState {
  /** Its log end offset: the offset of its last fetch (-1: no fetch in this leader epoch yet). */
  logEndOffset: number
  /** When it last was caught up with the leader's log end offset (ms). */
  lastCaughtUpMs: number
  lastFetchMs: number
  /** The leader's log end offset at its previous fetch. */
  lastFetchLeaderLogEndOffset: number
}

interface ReplicationWaiter {
  requiredOffset: number
  leaderEpoch: number
  minIsr: number
  resolve(errorCode: number): void
  timer: NodeJS.Timeout
}

export class Partition {
  /** The broker that leads it (-1: none), from the store. */
  leader = -1
  leaderEpoch = -1
  replicas: number[] = []
  /** The ISR as the store has it. */
  isr: number[] = []
  partitionEpoch = -1
  /** Whether this broker acts as its leader (the store names it in this broker epoch). */
  isLeader = false
  /** The first offset of the current leader epoch (while leading). */
  leaderEpochStartOffset = 0
  /** An ISR this leader has written and the store has not yet shown back. */
  pendingIsr?: number[]
  readonly followers = new Map<number, FollowerState>()
  /** Bumped by every role change: a replica fetch answered in an older role is not appended. */
  generation = 0
  /** acks=all appends waiting for the high watermark. */
  waiters: ReplicationWaiter[] = []
  private hw = 0

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly topicId: string,
    readonly log: PartitionLog,
    /** This broker's id. */
    readonly nodeId: number,
  ) {}

  /** The ISR for the high watermark and acks=all: the store's, joined with a change in flight. */
  maximalIsr(): number[] {
    if (!this.pendingIsr) return this.isr
    return [...new Set([...this.isr, ...this.pendingIsr])]
  }

  private soleReplicaInSync(): boolean {
    const isr = this.maximalIsr()
    return isr.length === 1 && isr[0] === this.nodeId
  }

  /**
   * The offset up to which records are committed: consumers read below it. On a leader whose
   * ISR is this broker alone, the log end offset.
   */
  get highWatermark(): number {
    if (this.isLeader && this.soleReplicaInSync()) return this.log.logEndOffset
    return Math.min(this.hw, this.log.logEndOffset)
  }

  /** A follower takes the leader's high watermark, up to its own log end offset. */
  updateFollowerHighWatermark(leaderHighWatermark: number): void {
    this.hw = Math.max(0, Math.min(leaderHighWatermark, this.log.logEndOffset))
  }

  /** Leader: the smallest log end offset over the maximal ISR, if above the high watermark. Returns whether it moved. */
  maybeIncrementHighWatermark(): boolean {
    if (!this.isLeader) return false
    if (this.soleReplicaInSync()) {
      const moved = this.hw !== this.log.logEndOffset
      this.hw = this.log.logEndOffset
      return moved
    }
    let candidate = this.log.logEndOffset
    for (const id of this.maximalIsr()) {
      if (id === this.nodeId) continue
      candidate = Math.min(candidate, this.followers.get(id)?.logEndOffset ?? -1)
    }
    if (candidate <= this.hw) return false
    this.hw = candidate
    return true
  }

  /** Freezes the current high watermark before the ISR stops being this broker alone. */
  pinHighWatermark(): void {
    this.hw = this.highWatermark
  }

  /** Becomes leader in `leaderEpoch` from `startOffset`: followers' positions are unknown, ISR members count as caught up now. */
  becomeLeader(startOffset: number, now: number): void {
    this.pinHighWatermark()
    this.followers.clear()
    for (const id of this.replicas) {
      if (id === this.nodeId) continue
      this.followers.set(id, {logEndOffset: -1, lastCaughtUpMs: this.isr.includes(id) ? now : 0, lastFetchMs: 0, lastFetchLeaderLogEndOffset: -1})
    }
    this.leaderEpochStartOffset = startOffset
    this.isLeader = true
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

export interface LeadershipChange {
  topic: string
  partition: number
  /** Whether this broker now leads it (false: it stopped leading, or the partition is gone). */
  isLeader: boolean
  leaderEpoch: number
}

export interface ReplicaManagerOptions {
  /** This broker's id. */
  nodeId: number
  logs: LogManager
  log: Logger
  metadata: MetadataStore
  /** Topic configs (explicit over broker defaults) of a topic. */
  topicConfigs(topic: TopicMetadata): Record<string, string>
  /**
   * One of topicConfigs(topic), without building them all: acks=all asks for min.insync.replicas
   * per partition of every request (issue 19). Defaults to topicConfigs(topic)[name].
   */
  topicConfig?(topic: TopicMetadata, name: string): string | undefined
  /** replica.lag.time.max.ms */
  replicaLagTimeMaxMs?: number
  /** The follower side (cluster stores); without it this broker only ever leads. */
  fetchers?: ReplicaFetcherManager
  /** The reassignment throttle on fetches from followers out of the ISR (cluster stores). */
  leaderThrottle?: ReplicationThrottle
  now?: () => number
  /** IsrShrinksPerSec / IsrExpandsPerSec (issue 16), when metrics are on. */
  metrics?: {isrChanged(before: number, after: number): void}
}

export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>()
  /** Emits `append` with the partition key after every append and high watermark move (wakes long-polling fetches). */
  private readonly events = new EventEmitter()
  /**
   * Kafka's PurgatorySize of its Fetch purgatory (issue 16): the partitions watched by fetches
   * long-polling now (waitForAppend), a fetch counted once per partition it waits on.
   */
  fetchWatched = 0
  private readonly leadershipListeners: Array<(change: LeadershipChange) => void> = []
  private readonly now: () => number
  private isrTimer?: NodeJS.Timeout

  /** The reassignment throttle on fetches from followers out of the ISR (replication/throttle.ts). */
  get leaderThrottle(): ReplicationThrottle | undefined {
    return this.options.leaderThrottle
  }

  constructor(private readonly options: ReplicaManagerOptions) {
    this.events.setMaxListeners(0)
    this.now = options.now ?? Date.now
    if (options.metadata.alterPartition) {
      const lag = options.replicaLagTimeMaxMs ?? 30_000
      this.isrTimer = setInterval(() => this.shrinkIsrs(), Math.max(50, Math.floor(lag / 2)))
      this.isrTimer.unref()
    }
  }

  static key(topic: string, partition: number): string {
    return `${topic}-${partition}`
  }

  get nodeId(): number {
    return this.options.nodeId
  }

  get(topic: string, partition: number): Partition | undefined {
    return this.partitions.get(ReplicaManager.key(topic, partition))
  }

  all(): Partition[] {
    return [...this.partitions.values()]
  }

  /** Whether this broker leads the partition now (and its session is alive). */
  leads(partition: Partition): boolean {
    return partition.isLeader && (this.options.metadata.sessionAlive?.() ?? true)
  }

  isLeader(topic: string, partition: number): boolean {
    const p = this.get(topic, partition)
    return p !== undefined && this.leads(p)
  }

  /** Called with every change of this broker's leadership of a partition (coordinators load and unload their state on it). */
  onLeadershipChange(listener: (change: LeadershipChange) => void): void {
    this.leadershipListeners.push(listener)
  }

  /**
   * The partition of a request that needs its leader (produce, fetch, offsets), or the error to
   * answer: UNKNOWN_TOPIC_OR_PARTITION when the store has no such partition, NOT_LEADER_OR_FOLLOWER
   * when another broker leads it (or nobody, or this broker's session is lost).
   */
  lookup(topic: TopicMetadata | undefined, partition: number): {partition: Partition; errorCode?: undefined} | {partition?: undefined; errorCode: number} {
    const hosted = topic ? this.get(topic.name, partition) : undefined
    if (hosted && this.leads(hosted)) return {partition: hosted}
    const assigned = topic?.partitions.find((p) => p.partition === partition)
    if (!assigned) return {errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION}
    return {errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER}
  }

  /**
   * Opens (creating when new) the logs of every partition of `topic` assigned to this broker: one
   * batch for the LogManager, which creates them a few at a time and makes them durable together.
   * Every hosted partition of the topic takes its role from the store. Serialized with
   * reconcile() and deletePartitions(), so a partition is never opened twice.
   */
  ensurePartitions(topic: TopicMetadata): Promise<void> {
    return this.serialized(() => this.ensureLocked(topic))
  }

  private async ensureLocked(topic: TopicMetadata): Promise<void> {
    const {nodeId} = this.options
    const mine = topic.partitions.filter((p) => p.replicas.includes(nodeId))
    const missing = mine.filter((p) => !this.partitions.has(ReplicaManager.key(topic.name, p.partition)))
    if (missing.length > 0) {
      const config = logConfigFromTopicConfigs(this.options.topicConfigs(topic))
      const logs = await this.options.logs.getOrCreateLogs(missing.map((p) => ({topic: topic.name, partition: p.partition, topicId: topic.topicId, config})))
      missing.forEach((p, i) => {
        this.partitions.set(ReplicaManager.key(topic.name, p.partition), new Partition(topic.name, p.partition, topic.topicId, logs[i]!, nodeId))
      })
    }
    for (const a of mine) {
      const p = this.partitions.get(ReplicaManager.key(topic.name, a.partition))
      if (p && p.topicId === topic.topicId) await this.applyState(p, a)
    }
  }

  /** Takes the store's state of a hosted partition: its role, leader epoch and ISR. */
  private async applyState(p: Partition, a: PartitionAssignment): Promise<void> {
    const {nodeId, metadata} = this.options
    const brokerEpoch = metadata.brokerEpoch?.()
    const leads = a.leader === nodeId && (a.leaderBrokerEpoch === undefined || brokerEpoch === undefined || a.leaderBrokerEpoch === brokerEpoch)
    p.replicas = a.replicas
    const sameRole = leads === p.isLeader && a.leader === p.leader && a.leaderEpoch === p.leaderEpoch
    if (sameRole && p.isLeader) {
      // A reassignment adds followers (tracked from their first fetch) and removes others.
      for (const id of a.replicas) if (id !== nodeId && !p.followers.has(id)) p.followers.set(id, {logEndOffset: -1, lastCaughtUpMs: 0, lastFetchMs: 0, lastFetchLeaderLogEndOffset: -1})
      for (const id of [...p.followers.keys()]) if (!a.replicas.includes(id)) p.followers.delete(id)
    }
    if (sameRole) {
      const partitionEpoch = a.partitionEpoch ?? -1
      if (partitionEpoch === p.partitionEpoch && sameMembers(a.isr, p.isr)) return
      if (p.isLeader && !sameMembers(a.isr, [nodeId]) && sameMembers(p.maximalIsr(), [nodeId])) p.pinHighWatermark()
      p.isr = a.isr
      p.partitionEpoch = partitionEpoch
      p.pendingIsr = undefined
      this.highWatermarkInputsChanged(p)
      return
    }
    p.generation++
    if (leads) {
      this.options.fetchers?.remove(p)
      // The new epoch starts at the log end offset, recorded before any append in it.
      const startOffset = await p.log.withLock(async () => {
        const end = p.log.logEndOffset
        // An empty log keeps it in memory until its first append writes leader-epoch-checkpoint:
        // thousands of unwritten partitions stay one file each (partition.metadata).
        if (end === p.log.logStartOffset && p.log.leaderEpochCache.latestEpoch() === undefined) p.log.leaderEpochCache.assignInMemory(a.leaderEpoch, end)
        else await p.log.leaderEpochCache.assign(a.leaderEpoch, end)
        return end
      })
      p.leader = a.leader
      p.leaderEpoch = a.leaderEpoch
      p.isr = a.isr
      p.partitionEpoch = a.partitionEpoch ?? -1
      p.pendingIsr = undefined
      p.becomeLeader(startOffset, this.now())
      this.options.log.info({topic: p.topic, partition: p.partition, leaderEpoch: a.leaderEpoch, isr: a.isr, startOffset}, 'leading partition')
      this.highWatermarkInputsChanged(p)
      this.emitLeadership(p, true)
      return
    }
    const wasLeader = p.isLeader
    p.isLeader = false
    p.leader = a.leader
    p.leaderEpoch = a.leaderEpoch
    p.isr = a.isr
    p.partitionEpoch = a.partitionEpoch ?? -1
    p.pendingIsr = undefined
    p.followers.clear()
    this.failWaiters(p, ErrorCode.NOT_LEADER_OR_FOLLOWER)
    if (wasLeader) this.emitLeadership(p, false)
    if (a.leader >= 0 && a.leader !== nodeId) this.options.fetchers?.follow(p, a.leader)
    else this.options.fetchers?.remove(p)
  }

  private emitLeadership(p: Partition, isLeader: boolean): void {
    const change = {topic: p.topic, partition: p.partition, isLeader, leaderEpoch: p.leaderEpoch}
    for (const listener of this.leadershipListeners) {
      try {
        listener(change)
      } catch (error) {
        this.options.log.error({err: error, ...change}, 'a leadership listener failed')
      }
    }
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
   * starts): opens what is assigned here, takes every partition's role, and deletes the logs of
   * partitions whose topic is gone (by id) or that are no longer assigned here, and stray logs.
   * Calls made while one is queued share it.
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
      await this.dropLocked(p)
    }
    // Logs on disk that no topic of the store claims: deleted while this broker was down.
    for (const log of this.options.logs.allLogs()) {
      if (this.partitions.has(ReplicaManager.key(log.topic, log.partition))) continue
      this.options.log.info({topic: log.topic, partition: log.partition}, 'stray partition log (its topic is not in the metadata store): deleting it')
      await this.options.logs.deleteLog(log.topic, log.partition)
    }
  }

  private async dropLocked(p: Partition): Promise<void> {
    p.generation++
    this.options.fetchers?.remove(p)
    const wasLeader = p.isLeader
    p.isLeader = false
    this.failWaiters(p, ErrorCode.NOT_LEADER_OR_FOLLOWER)
    if (wasLeader) this.emitLeadership(p, false)
    this.partitions.delete(ReplicaManager.key(p.topic, p.partition))
    await this.options.logs.deleteLog(p.topic, p.partition)
  }

  /** Applies changed topic configs to open logs. */
  updateConfigs(topic: TopicMetadata): void {
    this.options.logs.updateTopicConfig(topic.name, logConfigFromTopicConfigs(this.options.topicConfigs(topic)))
  }

  deletePartitions(topic: TopicMetadata): Promise<void> {
    return this.serialized(async () => {
      for (const a of topic.partitions) {
        const p = this.get(topic.name, a.partition)
        if (p) await this.dropLocked(p)
        else await this.options.logs.deleteLog(topic.name, a.partition)
      }
    })
  }

  // ---------------------------------------------------------------------------------------------
  // The leader's append and acks=all

  /** min.insync.replicas of the partition's topic. */
  private minInsyncReplicas(p: Partition): number {
    const topic = this.options.metadata.topic(p.topic)
    if (!topic) return 1
    const value = this.options.topicConfig ? this.options.topicConfig(topic, 'min.insync.replicas') : this.options.topicConfigs(topic)['min.insync.replicas']
    return Number(value ?? 1)
  }

  /**
   * Appends as the leader (offsets assigned here) and, with `requiredAcks` -1, resolves once the
   * high watermark covers the append. Throws LogError: the log's own errors, and
   * NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS (before the append), NOT_ENOUGH_REPLICAS_AFTER_APPEND,
   * REQUEST_TIMED_OUT (after it; the records may still be committed later).
   */
  async appendAsLeader(p: Partition, records: Buffer, opts: {origin?: AppendOrigin; requiredAcks: number; timeoutMs: number; timer?: {delayed(): void}}): Promise<AppendResult> {
    if (!this.leads(p)) throw new LogError('NOT_LEADER_OR_FOLLOWER', `This broker does not lead ${p.topic}-${p.partition}`)
    const minIsr = opts.requiredAcks === -1 ? this.minInsyncReplicas(p) : 1
    if (opts.requiredAcks === -1 && p.isr.length < minIsr) {
      throw new LogError('NOT_ENOUGH_REPLICAS', `The size of the current ISR ${JSON.stringify(p.isr)} is insufficient to satisfy the min.isr requirement of ${minIsr} for partition ${p.topic}-${p.partition}`)
    }
    const leaderEpoch = p.leaderEpoch
    const result = await p.log.append(records, {origin: opts.origin ?? 'client', leaderEpoch})
    this.notifyAppend(p)
    if (opts.requiredAcks !== -1) return result
    const errorCode = await this.waitForReplication(p, result.lastOffset + 1, leaderEpoch, minIsr, opts.timeoutMs, opts.timer)
    if (errorCode === ErrorCode.NONE) return result
    const code = errorCode === ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND ? 'NOT_ENOUGH_REPLICAS_AFTER_APPEND' : errorCode === ErrorCode.REQUEST_TIMED_OUT ? 'REQUEST_TIMED_OUT' : 'NOT_LEADER_OR_FOLLOWER'
    throw new LogError(code, `${p.topic}-${p.partition}: offset ${result.lastOffset} was appended but not acknowledged by the ISR (${code})`)
  }

  /**
   * Kafka's PurgatorySize of its Produce purgatory (issue 16): the acks=all waits, one per
   * partition of each waiting request (as Kafka counts an operation once per key it watches).
   */
  get producePurgatorySize(): number {
    let n = 0
    for (const p of this.partitions.values()) n += p.waiters.length
    return n
  }

  /** Resolves with NONE once the high watermark reaches `requiredOffset` in `leaderEpoch`, else the error. */
  private waitForReplication(p: Partition, requiredOffset: number, leaderEpoch: number, minIsr: number, timeoutMs: number, timer?: {delayed(): void}): Promise<number> {
    const immediate = this.replicationOutcome(p, requiredOffset, leaderEpoch, minIsr)
    if (immediate !== undefined) return Promise.resolve(immediate)
    // Request metrics (issue 16): the produce request is in Kafka's DelayedProduce purgatory from here.
    timer?.delayed()
    return new Promise((resolve) => {
      const waiter: ReplicationWaiter = {
        requiredOffset,
        leaderEpoch,
        minIsr,
        resolve: (code) => {
          clearTimeout(waiter.timer)
          p.waiters = p.waiters.filter((w) => w !== waiter)
          resolve(code)
        },
        timer: setTimeout(() => waiter.resolve(ErrorCode.REQUEST_TIMED_OUT), Math.max(0, timeoutMs)),
      }
      p.waiters.push(waiter)
    })
  }

  private replicationOutcome(p: Partition, requiredOffset: number, leaderEpoch: number, minIsr: number): number | undefined {
    if (!this.leads(p) || p.leaderEpoch !== leaderEpoch) return ErrorCode.NOT_LEADER_OR_FOLLOWER
    if (p.highWatermark < requiredOffset) return undefined
    return p.maximalIsr().length >= minIsr ? ErrorCode.NONE : ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND
  }

  private completeWaiters(p: Partition): void {
    for (const w of [...p.waiters]) {
      const outcome = this.replicationOutcome(p, w.requiredOffset, w.leaderEpoch, w.minIsr)
      if (outcome !== undefined) w.resolve(outcome)
    }
  }

  private failWaiters(p: Partition, errorCode: number): void {
    for (const w of [...p.waiters]) w.resolve(errorCode)
  }

  /** After an append to a partition this broker leads: the high watermark may move; long-polls wake. */
  notifyAppend(partition: Partition): void {
    partition.maybeIncrementHighWatermark()
    if (partition.waiters.length > 0) this.completeWaiters(partition)
    this.events.emit('append', ReplicaManager.key(partition.topic, partition.partition))
  }

  private highWatermarkInputsChanged(p: Partition): void {
    p.maybeIncrementHighWatermark()
    this.completeWaiters(p)
    this.events.emit('append', ReplicaManager.key(p.topic, p.partition))
  }

  // ---------------------------------------------------------------------------------------------
  // The leader's view of its followers: positions, ISR

  /**
   * A follower's fetch at `fetchOffset` (its log end offset): records its position, adds it to
   * the ISR when it caught up, moves the high watermark. The error to answer when `replicaId` is
   * not a replica of the partition (NOT_LEADER_OR_FOLLOWER, as Kafka's leader answers a fetch
   * from a non-replica).
   */
  recordFollowerFetch(p: Partition, replicaId: number, fetchOffset: number): number {
    const state = p.followers.get(replicaId)
    if (!state || !p.replicas.includes(replicaId)) return ErrorCode.NOT_LEADER_OR_FOLLOWER
    const now = this.now()
    const leaderEnd = p.log.logEndOffset
    if (fetchOffset >= leaderEnd) state.lastCaughtUpMs = Math.max(state.lastCaughtUpMs, now)
    else if (fetchOffset >= state.lastFetchLeaderLogEndOffset) state.lastCaughtUpMs = Math.max(state.lastCaughtUpMs, state.lastFetchMs)
    state.lastFetchLeaderLogEndOffset = leaderEnd
    state.lastFetchMs = now
    state.logEndOffset = fetchOffset
    // Caught up with the high watermark in this leader epoch: back into the ISR.
    if (!p.isr.includes(replicaId) && !p.pendingIsr && fetchOffset >= p.highWatermark && fetchOffset >= p.leaderEpochStartOffset) {
      this.proposeIsr(p, [...p.isr, replicaId], 'caught up')
    }
    if (p.maybeIncrementHighWatermark()) {
      this.completeWaiters(p)
      this.events.emit('append', ReplicaManager.key(p.topic, p.partition))
    }
    return ErrorCode.NONE
  }

  /** Removes ISR followers that have not caught up for replica.lag.time.max.ms. */
  private shrinkIsrs(): void {
    const lag = this.options.replicaLagTimeMaxMs ?? 30_000
    const now = this.now()
    for (const p of this.partitions.values()) {
      if (!this.leads(p) || p.pendingIsr || p.isr.length <= 1) continue
      const lagging = p.isr.filter((id) => {
        if (id === this.options.nodeId) return false
        const f = p.followers.get(id)
        return !f || now - f.lastCaughtUpMs > lag
      })
      if (lagging.length > 0) this.proposeIsr(p, p.isr.filter((id) => !lagging.includes(id)), `behind for more than replica.lag.time.max.ms=${lag}: ${lagging.join(',')}`)
    }
  }

  /**
   * Writes a new ISR (compare-and-swap on the partition epoch). Until the store shows it back
   * the high watermark counts both ISRs; a fenced write (the controller or a new leader changed
   * the state first) is dropped — the store's state arrives through reconcile().
   */
  private proposeIsr(p: Partition, isr: number[], reason: string): void {
    const alter = this.options.metadata.alterPartition?.bind(this.options.metadata)
    if (!alter) return
    if (p.isLeader && sameMembers(p.maximalIsr(), [this.options.nodeId])) p.pinHighWatermark()
    p.pendingIsr = isr
    const generation = p.generation
    const expected = p.partitionEpoch
    const before = p.isr.length
    this.options.log.info({topic: p.topic, partition: p.partition, from: p.isr, to: isr, reason}, 'changing the ISR')
    alter(p.topic, p.partition, expected, {leader: p.leader, leaderEpoch: p.leaderEpoch, isr, leaderBrokerEpoch: this.options.metadata.brokerEpoch?.()})
      .then(
        (stored) => {
          if (stored) this.options.metrics?.isrChanged(before, isr.length)
          if (p.generation !== generation || p.pendingIsr !== isr) return
          if (!stored) {
            p.pendingIsr = undefined
            return
          }
          // The watch may already have delivered it (reconcile then cleared pendingIsr).
          if ((stored.partitionEpoch ?? -1) > p.partitionEpoch && stored.leaderEpoch === p.leaderEpoch) {
            p.isr = stored.isr
            p.partitionEpoch = stored.partitionEpoch ?? -1
          }
          p.pendingIsr = undefined
          this.highWatermarkInputsChanged(p)
        },
        (error: unknown) => {
          if (p.pendingIsr === isr) p.pendingIsr = undefined
          this.options.log.warn({err: error, topic: p.topic, partition: p.partition}, 'writing the ISR failed; retrying on the next check')
        },
      )
  }

  /**
   * This broker's etcd session is lost: it leads nothing until the store says so again (lookup()
   * already refuses); acks=all writes waiting for replication get NOT_LEADER_OR_FOLLOWER now, and
   * the coordinators hear that it stopped leading.
   */
  sessionLost(): void {
    for (const p of this.partitions.values()) {
      this.failWaiters(p, ErrorCode.NOT_LEADER_OR_FOLLOWER)
      if (!p.isLeader) continue
      // It leads again only when the controller elects it in its next registration's epoch.
      p.isLeader = false
      p.generation++
      this.emitLeadership(p, false)
    }
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Resolves after the next append to (or high watermark move of) one of `keys`, or after
   * `timeoutMs` — whichever is first. Used by Fetch to long-poll.
   */
  waitForAppend(keys: ReadonlySet<string>, timeoutMs: number): Promise<void> {
    this.fetchWatched += keys.size
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.events.off('append', onAppend)
        this.fetchWatched -= keys.size
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
    clearInterval(this.isrTimer)
    await this.options.fetchers?.shutdown()
    for (const p of this.partitions.values()) this.failWaiters(p, ErrorCode.NOT_LEADER_OR_FOLLOWER)
    await this.options.logs.shutdown()
    this.partitions.clear()
  }
}

function sameMembers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x))
}
