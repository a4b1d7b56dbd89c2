/**
 * The follower side of replication, with Kafka's protocol: one fetcher per leader broker, each a
 * loop over one connection to it.
 *
 * Connections go to the leader's inter-broker listener with its security (inter-broker.ts).
 *
 * A partition added to a fetcher (on every leader change) is first truncated: OffsetsForLeaderEpoch
 * (v4, with this broker's replica id) asks the leader where the follower's latest leader epoch
 * ends in the leader's log, and the follower cuts its log to the smaller of that and where the
 * same epoch ends locally (KIP-101/KIP-279); when the leader answers with an epoch this replica
 * does not have, it cuts to where that epoch would end locally — dropping its later epochs from
 * the log and the epoch history — and asks again with its next older epoch, so no replica keeps
 * a suffix, or an epoch history, the leader does not have. Then it fetches: Fetch v15 with ReplicaState {replicaId} from its log end offset, and
 * appends what comes back with the leader's offsets and epochs (origin 'replication'); the leader's
 * high watermark, up to its own log end, becomes its high watermark. OFFSET_OUT_OF_RANGE below
 * the leader's log start restarts the log there; above the leader's end, truncation again.
 *
 * Reassignment throttle (follower side, throttle.ts): out-of-sync replicas listed in
 * follower.replication.throttled.replicas share follower.replication.throttled.rate bytes per
 * second: a fetch reserves their bytes before it is sent (each partition asks for its share of
 * what was granted; none are fetched until the bucket holds a full fetch, or a second's worth when
 * the rate is lower) and settles after it with what the leader sent, so the fetchers to different
 * leaders never spend the same tokens and a small grant does not bring a large batch in debt.
 *
 * A response is appended only if the partition still follows the same leader in the same role
 * generation (checked in the same synchronous step that queues the append), so a fetch answered
 * after a leader change never lands in the new role's log.
 */
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {Connection} from '../../lib/client/connection.js'
import type {SecuritySettings} from '../../lib/client/security.js'
import {LogError} from '../log/errors.js'
import type {Logger} from '../logger.js'
import {type Partition, ReplicaManager} from '../replica-manager.js'
import {type ReplicationThrottle, reserveFetch} from './throttle.js'

export interface ReplicaFetcherConfig {
  nodeId: number
  /** The address of a live broker on the inter-broker listener (its registration). */
  endpoint(nodeId: number): {host: string; port: number} | undefined
  /** The inter-broker listener's security, as a client. */
  security?: SecuritySettings
  /** Reassignment throttle, follower side (throttle.ts). */
  throttle?: ReplicationThrottle
  /** replica.fetch.max.bytes */
  maxBytes: number
  /** replica.fetch.response.max.bytes */
  responseMaxBytes: number
  /** replica.fetch.wait.max.ms */
  maxWaitMs: number
  /** replica.fetch.min.bytes */
  minBytes: number
  /** replica.fetch.backoff.ms */
  backoffMs: number
  /** replica.socket.timeout.ms */
  socketTimeoutMs: number
  log: Logger
  /** ReplicationBytesInPerSec (issue 16), when metrics are on. */
  metrics?: {replicationBytesIn(bytes: number): void}
}

interface Followed {
  partition: Partition
  /** The role generation it was added in. */
  generation: number
  truncated: boolean
}

const FETCH_VERSION = 15
const OFFSET_FOR_LEADER_EPOCH_VERSION = 4

/** Fetches for every partition this broker follows, one ReplicaFetcher per leader. */
export class ReplicaFetcherManager {
  private readonly fetchers = new Map<number, ReplicaFetcher>()
  private stopped = false

  constructor(private readonly config: ReplicaFetcherConfig) {}

  /** Starts (or restarts, with truncation) following `leader` for the partition. */
  follow(partition: Partition, leader: number): void {
    if (this.stopped) return
    this.remove(partition)
    let fetcher = this.fetchers.get(leader)
    if (!fetcher) {
      fetcher = new ReplicaFetcher(leader, this.config)
      this.fetchers.set(leader, fetcher)
    }
    fetcher.add(partition)
  }

  remove(partition: Partition): void {
    for (const fetcher of this.fetchers.values()) fetcher.remove(partition)
  }

  /** Partitions being fetched, per leader (for tests and metrics). */
  following(): Map<number, string[]> {
    return new Map([...this.fetchers].map(([leader, f]) => [leader, f.keys()]))
  }

  async shutdown(): Promise<void> {
    this.stopped = true
    await Promise.all([...this.fetchers.values()].map((f) => f.stop()))
    this.fetchers.clear()
  }
}

class ReplicaFetcher {
  private readonly partitions = new Map<string, Followed>()
  private connection?: Connection
  private running?: Promise<void>
  private stopped = false
  private wake?: () => void
  /** Which throttled partition goes first in the next fetch. */
  private turn = 0

  constructor(
    readonly leader: number,
    private readonly config: ReplicaFetcherConfig,
  ) {}

  keys(): string[] {
    return [...this.partitions.keys()]
  }

  add(partition: Partition): void {
    this.partitions.set(ReplicaManager.key(partition.topic, partition.partition), {partition, generation: partition.generation, truncated: false})
    this.running ??= this.loop()
    this.wake?.()
  }

  remove(partition: Partition): void {
    this.partitions.delete(ReplicaManager.key(partition.topic, partition.partition))
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.wake?.()
    this.connection?.close()
    await this.running
  }

  /** Waits up to `ms`, or until woken (a partition added, stop). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done(): void {
        clearTimeout(timer)
        resolve()
      }
      this.wake = () => {
        this.wake = undefined
        done()
      }
    })
  }

  private current(f: Followed): boolean {
    return this.partitions.get(ReplicaManager.key(f.partition.topic, f.partition.partition)) === f && f.partition.generation === f.generation
  }

  private async loop(): Promise<void> {
    const {log} = this.config
    let failures = 0
    while (!this.stopped) {
      if (this.partitions.size === 0) {
        await this.pause(60_000)
        continue
      }
      try {
        const connection = await this.connect()
        const untruncated = [...this.partitions.values()].filter((f) => !f.truncated)
        if (untruncated.length > 0) await this.truncate(connection, untruncated)
        const ready = [...this.partitions.values()].filter((f) => f.truncated)
        if (ready.length === 0) {
          await this.pause(this.config.backoffMs)
          continue
        }
        const backOff = await this.fetch(connection, ready)
        failures = 0
        if (backOff) await this.pause(this.config.backoffMs)
      } catch (error) {
        this.connection?.close()
        this.connection = undefined
        if (this.stopped) break
        if (failures++ % 10 === 0) log.warn({leader: this.leader, err: error}, 'replica fetch failed; retrying')
        await this.pause(this.config.backoffMs)
      }
    }
    this.connection?.close()
  }

  private async connect(): Promise<Connection> {
    if (this.connection && !this.connection.closed) return this.connection
    const endpoint = this.config.endpoint(this.leader)
    if (!endpoint) throw new Error(`leader ${this.leader} is not registered`)
    this.connection = await Connection.connect(endpoint, {
      nodeId: this.leader,
      clientId: `kcli-replica-fetcher-${this.config.nodeId}`,
      requestTimeoutMs: this.config.socketTimeoutMs,
      connectTimeoutMs: Math.min(10_000, this.config.socketTimeoutMs),
      ...(this.config.security ? {security: this.config.security} : {}),
    })
    return this.connection
  }

  /** Truncates each partition to where its latest epoch ends in the leader's log. */
  private async truncate(connection: Connection, list: Followed[]): Promise<void> {
    const asked: Array<{f: Followed; epoch: number}> = []
    for (const f of list) {
      const {log} = f.partition
      const epoch = log.leaderEpochCache.latestEpoch()
      if (epoch === undefined) {
        // No epochs (an empty log): nothing can diverge; fetch from the end.
        if (log.logEndOffset > f.partition.highWatermark) await log.truncateTo(f.partition.highWatermark)
        f.truncated = true
        continue
      }
      asked.push({f, epoch})
    }
    if (asked.length === 0) return
    const byTopic = new Map<string, Array<{partition: number; currentLeaderEpoch: number; leaderEpoch: number}>>()
    for (const {f, epoch} of asked) {
      const list2 = byTopic.get(f.partition.topic) ?? []
      list2.push({partition: f.partition.partition, currentLeaderEpoch: f.partition.leaderEpoch, leaderEpoch: epoch})
      byTopic.set(f.partition.topic, list2)
    }
    const response = await connection.send(
      ApiKey.OffsetForLeaderEpoch,
      {replicaId: this.config.nodeId, topics: [...byTopic].map(([topic, partitions]) => ({topic, partitions}))},
      {version: OFFSET_FOR_LEADER_EPOCH_VERSION},
    )
    for (const t of response.topics) {
      for (const r of t.partitions) {
        const entry = asked.find((a) => a.f.partition.topic === t.topic && a.f.partition.partition === r.partition)
        if (!entry || !this.current(entry.f)) continue
        const {f} = entry
        if (r.errorCode !== ErrorCode.NONE) {
          // FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH / NOT_LEADER_OR_FOLLOWER: the store's next state decides.
          continue
        }
        const {log} = f.partition
        const leaderEnd = Number(r.endOffset)
        let target: number
        // Done, or another round with the next older epoch (Kafka's getOffsetTruncationState).
        let complete = true
        if (leaderEnd < 0) {
          // The leader has no epoch at or below ours: keep only what is committed.
          target = f.partition.highWatermark
        } else if (r.leaderEpoch < 0) {
          target = leaderEnd
        } else {
          const local = log.leaderEpochCache.endOffsetFor(r.leaderEpoch, log.logEndOffset)
          if (local.epoch === r.leaderEpoch) {
            target = Math.min(leaderEnd, local.endOffset)
          } else {
            // This replica does not have the leader's epoch: cut to where that epoch would end
            // here (its later epochs go from the log and the epoch history) and ask again.
            target = local.endOffset < 0 ? f.partition.highWatermark : local.endOffset
            complete = false
          }
        }
        target = Math.min(target, log.logEndOffset)
        if (target < log.logEndOffset) {
          this.config.log.info({topic: f.partition.topic, partition: f.partition.partition, from: log.logEndOffset, to: target, leader: this.leader}, 'follower truncating its log to the leader epoch boundary')
          await log.truncateTo(target)
        } else if (!complete) {
          // Nothing to cut from the log, but epochs that start at its end are not the leader's.
          await log.withLock(() => log.leaderEpochCache.truncateFromEnd(target))
        }
        if (!this.current(f)) continue
        f.partition.updateFollowerHighWatermark(f.partition.highWatermark)
        f.truncated = complete
      }
    }
  }

  /** One replica fetch; returns whether to back off (errors for every partition). */
  private async fetch(connection: Connection, all: Followed[]): Promise<boolean> {
    // Moving replicas share the throttle. Their bytes are reserved before the fetch (none until
    // the bucket holds a full fetch or a second's worth: they are left out) and settled after it,
    // so fetchers to different leaders cannot all spend the same tokens. They go first in the
    // request, in turns: the first partition with data gets a whole batch even past its share
    // (the overshoot is debt), so a batch larger than the share still moves.
    const throttle = this.config.throttle
    const rate = throttle ? throttle.rate() : Number.POSITIVE_INFINITY
    const throttledAll = Number.isFinite(rate) ? all.filter((f) => throttle!.throttles(f.partition, this.config.nodeId)) : []
    const throttled = new Set<Followed>()
    let throttledMax = this.config.maxBytes
    let reserved = 0
    let waitMs = 100
    if (throttledAll.length > 0) {
      const grant = reserveFetch(throttle!.bucket, rate, throttledAll.length, this.config.maxBytes)
      reserved = grant.reserved
      waitMs = Math.min(1000, Math.max(1, grant.waitMs))
      if (reserved > 0) {
        const turn = this.turn++ % throttledAll.length
        for (const f of [...throttledAll.slice(turn), ...throttledAll.slice(0, turn)]) throttled.add(f)
        throttledMax = grant.share
      }
    }
    const list = [...throttled, ...all.filter((f) => !throttledAll.includes(f))]
    if (list.length === 0) {
      // Only throttled partitions, and the bucket is short: back when it holds a fetch.
      await this.pause(waitMs)
      return false
    }
    let copied = 0
    try {
      return await this.fetchList(connection, list, throttled, throttledMax, (bytes) => (copied += bytes))
    } finally {
      if (reserved > 0) throttle!.bucket.settle(reserved, copied)
    }
  }

  /** Fetches `list` (`throttled` ones asking for `throttledMax` bytes, their copied bytes told to `onThrottled`) and appends what comes back. */
  private async fetchList(connection: Connection, list: Followed[], throttled: ReadonlySet<Followed>, throttledMax: number, onThrottled: (bytes: number) => void): Promise<boolean> {
    const byTopic = new Map<string, {topicId: string; partitions: Followed[]}>()
    for (const f of list) {
      const entry = byTopic.get(f.partition.topic) ?? {topicId: f.partition.topicId, partitions: []}
      entry.partitions.push(f)
      byTopic.set(f.partition.topic, entry)
    }
    const byId = new Map([...byTopic.values()].map((t) => [t.topicId, t]))
    const response = await connection.send(
      ApiKey.Fetch,
      {
        replicaState: {replicaId: this.config.nodeId, replicaEpoch: -1n},
        maxWaitMs: this.config.maxWaitMs,
        minBytes: this.config.minBytes,
        maxBytes: this.config.responseMaxBytes,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [...byTopic.values()].map((t) => ({
          topicId: t.topicId,
          partitions: t.partitions.map((f) => ({
            partition: f.partition.partition,
            currentLeaderEpoch: f.partition.leaderEpoch,
            fetchOffset: BigInt(f.partition.log.logEndOffset),
            lastFetchedEpoch: f.partition.log.leaderEpochCache.latestEpoch() ?? -1,
            logStartOffset: BigInt(f.partition.log.logStartOffset),
            partitionMaxBytes: throttled.has(f) ? throttledMax : this.config.maxBytes,
          })),
        })),
        forgottenTopicsData: [],
        rackId: '',
      },
      {version: FETCH_VERSION, timeoutMs: this.config.socketTimeoutMs + this.config.maxWaitMs},
    )
    // What the leader sent counts against the throttle, appended or not.
    for (const t of response.responses) {
      const topic = byId.get(t.topicId)
      for (const r of t.partitions) {
        const f = topic?.partitions.find((x) => x.partition.partition === r.partitionIndex)
        if (f && throttled.has(f) && r.records) onThrottled(r.records.length)
      }
    }
    if (response.errorCode !== ErrorCode.NONE) throw new Error(`replica fetch failed: error ${response.errorCode}`)
    let failed = 0
    for (const t of response.responses) {
      const topic = byId.get(t.topicId)
      if (!topic) continue
      for (const r of t.partitions) {
        const f = topic.partitions.find((x) => x.partition.partition === r.partitionIndex)
        if (!f || !this.current(f)) continue
        const p = f.partition
        if (r.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
          const leaderStart = Number(r.logStartOffset)
          if (leaderStart >= 0 && p.log.logEndOffset < leaderStart) {
            this.config.log.info({topic: p.topic, partition: p.partition, leaderLogStartOffset: leaderStart}, 'follower behind the leader log start: restarting its log there')
            await p.log.truncateFullyAndStartAt(leaderStart)
          } else {
            f.truncated = false
          }
          continue
        }
        if (r.errorCode !== ErrorCode.NONE) {
          failed++
          continue
        }
        const records = r.records
        if (records && records.length > 0) {
          // Checked and queued in one step: a role change after this point queues behind it.
          if (!this.current(f)) continue
          try {
            await p.log.append(Buffer.from(records), {origin: 'replication'})
            this.config.metrics?.replicationBytesIn(records.length)
          } catch (error) {
            if (!(error instanceof LogError)) throw error
            this.config.log.error({err: error, topic: p.topic, partition: p.partition}, 'follower append failed; truncating again')
            f.truncated = false
            continue
          }
        }
        p.updateFollowerHighWatermark(Number(r.highWatermark))
        // DeleteRecords and retention at the leader move the followers' log start too.
        const leaderStart = Number(r.logStartOffset)
        if (leaderStart > p.log.logStartOffset && this.current(f)) await p.log.deleteRecordsBefore(Math.min(leaderStart, p.log.logEndOffset))
      }
    }
    return failed === list.length
  }
}
