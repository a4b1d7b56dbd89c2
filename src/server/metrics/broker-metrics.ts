/**
 * The broker's metric tallies (issue 16): what the request path counts, as plain numbers in
 * objects found once per batch or request — no prom-client call, no label hashing and no
 * allocation on the hot path. `metrics-registry.ts` turns them into prom-client series at scrape
 * time, next to the gauges it computes then from the broker's state (partitions, ISR, logs).
 *
 * The hooks are one-line calls from the broker's code, made only when `metrics.listener` is set
 * (`BrokerServices.metrics` is undefined otherwise):
 * - produce.ts `produced` (a batch appended as leader: Kafka's BytesInPerSec and MessagesInPerSec,
 *   marked after a successful append) and `rejected` (MESSAGE_TOO_LARGE: BytesRejectedPerSec);
 * - fetch.ts `bytesOut` (consumer fetches: BytesOutPerSec; followers' fetches ReplicationBytesOutPerSec);
 * - replica-fetcher.ts `replicationBytesIn` (a follower's appends: ReplicationBytesInPerSec);
 * - request-dispatcher.ts `requestDone` (RequestsPerSec per API and version, TotalTimeMs per API,
 *   throttles of handlers' own controller mutation quotas);
 * - socket-server.ts `connectionOpened` / `connectionClosed` (socket-server-metrics per listener);
 * - replica-manager.ts `isrChanged` (IsrShrinksPerSec, IsrExpandsPerSec);
 * - cluster-controller.ts `leaderElected` (LeaderElectionRateAndTimeMs, UncleanLeaderElectionsPerSec);
 * - client-quota-manager.ts `throttled` (the quota types' throttle-time).
 */
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'

/** Byte and record counts of one topic (or of all topics). */
export interface TopicTally {
  messagesIn: number
  bytesIn: number
  bytesOut: number
  bytesRejected: number
}

/** Request counts per API version and the total-time histogram of one API. */
export interface ApiTally {
  /** Requests per API version (index: version). */
  readonly perVersion: number[]
  /** Histogram counts per bucket of REQUEST_TIME_BUCKETS_MS (not cumulative), the last one +Inf. */
  readonly buckets: Float64Array
  sumMs: number
  count: number
}

export interface ListenerTally {
  created: number
  closed: number
}

/** Kafka's quota types, as its quota sensors' groups (kafka.server:type=<type>) name them. */
export type QuotaType = 'Produce' | 'Fetch' | 'Request' | 'ControllerMutation'

/**
 * Upper bounds (ms) of the request total-time histogram: sub-millisecond produce answers up to
 * a fetch's long poll (fetch.max.wait.ms 500 by default) and acks=all timeouts (30 s).
 */
export const REQUEST_TIME_BUCKETS_MS = [0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000] as const

/** APIs whose handlers apply the controller mutation quota (throttleTimeMs of their own). */
const MUTATION_APIS = new Set<number>([ApiKey.CreateTopics, ApiKey.DeleteTopics, ApiKey.CreatePartitions])

/** The offset of a v2 batch's record count, and the header's length (src/lib/records/batch.ts). */
const RECORDS_COUNT_OFFSET = 57
const BATCH_HEADER_BYTES = 61

function newTopicTally(): TopicTally {
  return {messagesIn: 0, bytesIn: 0, bytesOut: 0, bytesRejected: 0}
}

export class BrokerMetrics {
  /** All topics (Kafka's BrokerTopicMetrics without a topic tag). */
  readonly allTopics: TopicTally = newTopicTally()
  /** Per topic; empty when per-topic series are off. */
  readonly topics = new Map<string, TopicTally>()
  /** By API key. */
  readonly apis: Array<ApiTally | undefined> = []
  readonly listeners = new Map<string, ListenerTally>()
  /** Kafka's ReplicationBytesInPerSec / ReplicationBytesOutPerSec (no topic tag here). */
  replicationIn = 0
  replicationOut = 0
  isrShrinks = 0
  isrExpands = 0
  leaderElections = 0
  uncleanLeaderElections = 0
  readonly throttle: Record<QuotaType, {count: number; timeMs: number}> = {
    Produce: {count: 0, timeMs: 0},
    Fetch: {count: 0, timeMs: 0},
    Request: {count: 0, timeMs: 0},
    ControllerMutation: {count: 0, timeMs: 0},
  }

  constructor(readonly perTopic: boolean) {}

  private topic(name: string): TopicTally | undefined {
    if (!this.perTopic) return undefined
    let t = this.topics.get(name)
    if (!t) this.topics.set(name, (t = newTopicTally()))
    return t
  }

  /** Forgets a deleted topic's series (Kafka's BrokerTopicStats.removeMetrics). */
  topicDeleted(name: string): void {
    this.topics.delete(name)
  }

  /** A produce batch appended as leader: the request's bytes (before any recompression) and its record count. */
  produced(topic: string, batch: Buffer): void {
    const records = batch.length >= BATCH_HEADER_BYTES ? batch.readInt32BE(RECORDS_COUNT_OFFSET) : 0
    const all = this.allTopics
    all.bytesIn += batch.length
    all.messagesIn += records
    const t = this.topic(topic)
    if (t) {
      t.bytesIn += batch.length
      t.messagesIn += records
    }
  }

  /** A produce batch refused as too large (MESSAGE_TOO_LARGE, Kafka's RecordTooLargeException). */
  rejected(topic: string, batch: Buffer | null): void {
    const bytes = batch?.length ?? 0
    this.allTopics.bytesRejected += bytes
    const t = this.topic(topic)
    if (t) t.bytesRejected += bytes
  }

  /** A fetch's answer: the record bytes of each partition — BytesOut for a consumer, ReplicationBytesOut for a follower. */
  bytesOut(results: Iterable<[{topicName: string}, {records: Buffer}]>, fromFollower = false): void {
    if (fromFollower) {
      for (const [, result] of results) this.replicationOut += result.records.length
      return
    }
    let last: string | undefined
    let lastTally: TopicTally | undefined
    for (const [target, result] of results) {
      const bytes = result.records.length
      if (bytes === 0) continue
      this.allTopics.bytesOut += bytes
      if (!this.perTopic) continue
      // A response's partitions come topic by topic: one map lookup per topic.
      if (target.topicName !== last) {
        last = target.topicName
        lastTally = this.topic(last)
      }
      lastTally!.bytesOut += bytes
    }
  }

  /** A request answered (its response ready): counts it and its time since `startedNs` (process.hrtime.bigint()). */
  requestDone(apiKey: number, apiVersion: number, startedNs: bigint, response: unknown): void {
    const ms = Number(process.hrtime.bigint() - startedNs) / 1e6
    let api = this.apis[apiKey]
    if (!api) this.apis[apiKey] = api = {perVersion: [], buckets: new Float64Array(REQUEST_TIME_BUCKETS_MS.length + 1), sumMs: 0, count: 0}
    api.perVersion[apiVersion] = (api.perVersion[apiVersion] ?? 0) + 1
    let i = 0
    while (i < REQUEST_TIME_BUCKETS_MS.length && ms > REQUEST_TIME_BUCKETS_MS[i]!) i++
    api.buckets[i]!++
    api.sumMs += ms
    api.count++
    if (MUTATION_APIS.has(apiKey)) {
      const throttleMs = (response as {throttleTimeMs?: number} | null)?.throttleTimeMs
      if (typeof throttleMs === 'number' && throttleMs > 0) this.throttled('ControllerMutation', throttleMs)
    }
  }

  /** A follower appended `bytes` fetched from its leader. */
  replicationBytesIn(bytes: number): void {
    this.replicationIn += bytes
  }

  /** A client was throttled for `ms` by a quota of `type`. */
  throttled(type: QuotaType, ms: number): void {
    const t = this.throttle[type]
    t.count++
    t.timeMs += ms
  }

  private listener(name: string): ListenerTally {
    let l = this.listeners.get(name)
    if (!l) this.listeners.set(name, (l = {created: 0, closed: 0}))
    return l
  }

  connectionOpened(listener: string): void {
    this.listener(listener).created++
  }

  connectionClosed(listener: string): void {
    this.listener(listener).closed++
  }

  /** This leader's ISR change was stored: from `before` members to `after`. */
  isrChanged(before: number, after: number): void {
    if (after < before) this.isrShrinks++
    else if (after > before) this.isrExpands++
  }

  /** The controller stored a new leader for a partition; unclean when it was not in the ISR. */
  leaderElected(unclean: boolean): void {
    this.leaderElections++
    if (unclean) this.uncleanLeaderElections++
  }
}
