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
 * - request-dispatcher.ts and connection.ts, through a RequestTimer per request: RequestsPerSec per
 *   API and version and Kafka's six RequestMetrics time histograms per API (RequestQueueTimeMs,
 *   LocalTimeMs, RemoteTimeMs, ResponseQueueTimeMs, ResponseSendTimeMs, TotalTimeMs; see
 *   RequestTimer for what each phase is in this broker), throttles of handlers' own controller
 *   mutation quotas; produce.ts (through replica-manager.ts) and fetch.ts mark a request's entry
 *   into a purgatory (`RequestTimer.delayed`: an acks=all wait, a fetch long poll);
 * - partition-log.ts `logFlushed` (LogFlushRateAndTimeMs: every fsync of a log's data);
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

/** A histogram in ms: counts per bucket of REQUEST_TIME_BUCKETS_MS (not cumulative), the last one +Inf. */
export interface Histogram {
  readonly buckets: Float64Array
  sumMs: number
  count: number
}

/** Kafka's RequestMetrics time histograms, in the order of a request's life. */
export const REQUEST_PHASES = [
  ['requestQueue', 'RequestQueueTimeMs'],
  ['local', 'LocalTimeMs'],
  ['remote', 'RemoteTimeMs'],
  ['responseQueue', 'ResponseQueueTimeMs'],
  ['responseSend', 'ResponseSendTimeMs'],
  ['total', 'TotalTimeMs'],
] as const
export type RequestPhase = (typeof REQUEST_PHASES)[number][0]

/** Request counts per API version and the time histograms of one API. */
export interface ApiTally extends Record<RequestPhase, Histogram> {
  /** Requests per API version (index: version). */
  readonly perVersion: number[]
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

function newHistogram(): Histogram {
  return {buckets: new Float64Array(REQUEST_TIME_BUCKETS_MS.length + 1), sumMs: 0, count: 0}
}

function observe(h: Histogram, ms: number): void {
  let i = 0
  while (i < REQUEST_TIME_BUCKETS_MS.length && ms > REQUEST_TIME_BUCKETS_MS[i]!) i++
  h.buckets[i]!++
  h.sumMs += ms
  h.count++
}

function newApiTally(): ApiTally {
  return {perVersion: [], requestQueue: newHistogram(), local: newHistogram(), remote: newHistogram(), responseQueue: newHistogram(), responseSend: newHistogram(), total: newHistogram()}
}

/**
 * The instants (performance.now(), ms) of one request's life, as Kafka's RequestChannel.Request
 * keeps them, and so its phases (Kafka's RequestMetrics):
 * - RequestQueueTime: the frame read whole → its handling starts. A connection handles one
 *   request at a time (as Kafka's muted channel), so this is the time a pipelined frame waited
 *   behind the ones before it on its connection (Kafka's: in the request queue, for a handler thread);
 * - LocalTime: handling starts → the request enters a purgatory (`delayed()`: an acks=all produce
 *   waiting for the ISR, a fetch long-polling for min bytes), else → its response is encoded;
 * - RemoteTime: the purgatory entry → its response is encoded (0 without purgatory), including the
 *   fetch's read after the wait, as Kafka's DelayedFetch.onComplete;
 * - ResponseQueueTime: the response encoded → the connection starts writing it (the hops back to
 *   the connection's loop; Kafka's: in the response queue, for the network thread);
 * - ResponseSendTime: writing starts → the socket has taken the response (at once when node's
 *   buffer took it below its high-water mark, else at 'drain', so a client that does not read its
 *   responses shows here);
 * - TotalTime: the frame read → the response sent, the sum of the five.
 * A request without response (acks=0) ends when handled: its response phases are 0.
 */
export class RequestTimer {
  /** 0 until the request enters a purgatory. */
  delayedAt = 0
  readyAt = 0
  sendAt = 0
  /** A replica's Fetch (Kafka's FetchFollower; FetchConsumer otherwise). */
  follower = false

  constructor(
    private readonly metrics: BrokerMetrics,
    readonly apiKey: number,
    readonly apiVersion: number,
    readonly receivedAt: number,
    readonly dequeuedAt: number,
  ) {}

  /** The request waits in a purgatory from now (the first call counts). */
  delayed(): void {
    if (this.delayedAt !== 0) return
    this.delayedAt = performance.now()
    this.metrics.delayedNow(this.apiKey, 1)
  }

  /** Its response is encoded (or none is owed). */
  ready(): void {
    this.readyAt = performance.now()
    if (this.delayedAt !== 0) this.metrics.delayedNow(this.apiKey, -1)
  }

  /** The connection starts writing the response. */
  sending(): void {
    this.sendAt = performance.now()
  }

  /** The response was written (or no response is owed: now = readyAt). */
  sent(now = performance.now()): void {
    this.metrics.requestCompleted(this, now)
  }
}

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
  /** Fetch split as Kafka's RequestMetrics split it (request=FetchConsumer, FetchFollower), besides request=Fetch. */
  readonly fetchConsumer: ApiTally = newApiTally()
  readonly fetchFollower: ApiTally = newApiTally()
  /** Requests in a purgatory now (Kafka's NumDelayedOperations, delayedOperation=Produce|Fetch). */
  delayedProduce = 0
  delayedFetch = 0
  /** kafka.log:type=LogFlushStats,name=LogFlushRateAndTimeMs. */
  readonly logFlush: Histogram = newHistogram()
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

  /** A timer for a request whose frame was read whole at `receivedAt` and whose handling starts at `dequeuedAt` (default now). */
  requestStarted(apiKey: number, apiVersion: number, receivedAt: number, dequeuedAt = performance.now()): RequestTimer {
    return new RequestTimer(this, apiKey, apiVersion, receivedAt, dequeuedAt)
  }

  /** The request's response was encoded: a handler's own controller mutation throttle is counted. */
  responseReady(timer: RequestTimer, response: unknown): void {
    timer.ready()
    if (MUTATION_APIS.has(timer.apiKey)) {
      const throttleMs = (response as {throttleTimeMs?: number} | null)?.throttleTimeMs
      if (typeof throttleMs === 'number' && throttleMs > 0) this.throttled('ControllerMutation', throttleMs)
    }
  }

  /** A request done (its response sent at `sentAt`): RequestsPerSec and the phase histograms. */
  requestCompleted(t: RequestTimer, sentAt: number): void {
    let api = this.apis[t.apiKey]
    if (!api) this.apis[t.apiKey] = api = newApiTally()
    api.perVersion[t.apiVersion] = (api.perVersion[t.apiVersion] ?? 0) + 1
    this.observeRequest(api, t, sentAt)
    if (t.apiKey === ApiKey.Fetch) {
      const split = t.follower ? this.fetchFollower : this.fetchConsumer
      split.perVersion[t.apiVersion] = (split.perVersion[t.apiVersion] ?? 0) + 1
      this.observeRequest(split, t, sentAt)
    }
  }

  private observeRequest(api: ApiTally, t: RequestTimer, sentAt: number): void {
    const localEnd = t.delayedAt !== 0 ? t.delayedAt : t.readyAt
    const sendAt = t.sendAt !== 0 ? t.sendAt : t.readyAt
    observe(api.requestQueue, Math.max(0, t.dequeuedAt - t.receivedAt))
    observe(api.local, Math.max(0, localEnd - t.dequeuedAt))
    observe(api.remote, t.delayedAt !== 0 ? Math.max(0, t.readyAt - t.delayedAt) : 0)
    observe(api.responseQueue, Math.max(0, sendAt - t.readyAt))
    observe(api.responseSend, Math.max(0, sentAt - sendAt))
    observe(api.total, Math.max(0, sentAt - t.receivedAt))
  }

  /** A request of `apiKey` enters (+1) or leaves (-1) a purgatory. */
  delayedNow(apiKey: number, delta: number): void {
    if (apiKey === ApiKey.Produce) this.delayedProduce += delta
    else if (apiKey === ApiKey.Fetch) this.delayedFetch += delta
  }

  /** A log's data was fsynced, taking `ms`. */
  logFlushed(ms: number): void {
    observe(this.logFlush, ms)
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
