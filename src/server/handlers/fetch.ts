// Fetch: v4-17
//
// Behaviour: reads whole batches from each partition's log (never decoding records) up to the
// high watermark, bounded by each partition's max bytes and the response's max bytes — the first
// batch found is returned even when larger, so a consumer can always make progress (Kafka's
// minOneMessage). Long-polls: when fewer than min bytes are ready, waits for an append to one of
// the partitions or until max wait. Topic names (v4-12) or topic ids (v13+). read_committed
// (isolation level 1) stops at the last stable offset (the first offset of the earliest open
// transaction, else the high watermark) and lists the aborted transactions overlapping the
// returned range (from the segments' .txnindex), so the consumer drops their records.
// Fetch sessions (KIP-227, v7+): epoch 0 creates a session, later epochs send and receive only
// what changed (src/server/fetch-sessions.ts); epoch -1 fetches without one.
// Errors: UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID, NOT_LEADER_OR_FOLLOWER (another broker leads
// the partition; v12+ names the current leader, v16+ with its endpoint, KIP-951), OFFSET_OUT_OF_RANGE, FENCED_LEADER_EPOCH,
// UNKNOWN_LEADER_EPOCH, KAFKA_STORAGE_ERROR; top level: FETCH_SESSION_ID_NOT_FOUND,
// INVALID_FETCH_SESSION_EPOCH.
// Follower fetches (replica id >= 0: ReplicaState v15+, ReplicaId before): only the leader
// answers; the fetch offset is the follower's log end offset, which the leader records (ISR,
// high watermark: replica-manager.ts); reads go up to the log end offset, not the high watermark.
// A replica id that is not a replica of the partition gets NOT_LEADER_OR_FOLLOWER, a stale
// current leader epoch FENCED_LEADER_EPOCH. Reassignment throttle, leader side
// (replication/throttle.ts): a follower out of the ISR reads the throttled partitions up to the
// bytes reserved from leader.replication.throttled.rate (settled with what was sent); while the
// rate is spent it gets their offsets without records.
// Client quotas (issue 15), as KafkaApis for a consumer: max bytes capped to consumer_byte_rate
// times quota.window.num - 1 windows (min bytes to that cap); the response measured against
// consumer_byte_rate and request_percentage before the session takes it in (ctx.fetchQuota), and
// when throttled answered empty with throttle_time_ms (FetchContext.getThrottledResponse: session
// id 0 for a fetch that would have opened a session, the incremental session's id otherwise,
// its partitions' state unchanged), the bytes taken back.
// Not implemented: preferred read replicas (always -1).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {EMPTY_BUFFER} from '../../lib/protocol/message.js'
import {ZERO_UUID} from '../../lib/protocol/uuid.js'
import {LogError} from '../log/errors.js'
import {FetchSession, type SessionLookup, type SessionPartition} from '../fetch-sessions.js'
import {type Partition, ReplicaManager} from '../replica-manager.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, authorizeCluster, ResourceType} from './authorize.js'
import {LeaderHints} from './leader-hints.js'

const NOT_THROTTLED: ReadonlySet<never> = new Set()

interface FetchTarget {
  topicName: string
  topicId: string
  partitionIndex: number
  partition: Partition | undefined
  unknownCode: number
  fetchOffset: number
  partitionMaxBytes: number
  currentLeaderEpoch: number
  /** The session's entry for this partition, when the fetch is in a session. */
  sessionEntry?: SessionPartition
}

interface PartitionResult {
  partitionIndex: number
  errorCode: number
  highWatermark: bigint
  lastStableOffset: bigint
  logStartOffset: bigint
  abortedTransactions: Array<{producerId: bigint; firstOffset: bigint}> | null
  preferredReadReplica: number
  records: Buffer
}

export const fetch = defineHandler({
  apiKey: ApiKey.Fetch,
  minVersion: 4,
  maxVersion: 17,
  async handle(request, ctx) {
    const {replicas, metadata, fetchSessions} = ctx.broker
    const lookup: SessionLookup = ctx.apiVersion >= 7 ? fetchSessions.lookup(request.sessionId, request.sessionEpoch) : {kind: 'sessionless'}
    if (lookup.kind === 'error') return {throttleTimeMs: 0, errorCode: lookup.errorCode, sessionId: 0, responses: []}
    const session = lookup.kind === 'sessionless' ? undefined : lookup.session
    const byTopicId = ctx.apiVersion >= 13
    const topicKeyOf = (t: {topic: string; topicId: string}) => (byTopicId ? t.topicId : t.topic)

    // The partitions of this request, merged into the session when there is one.
    const requested: SessionPartition[] = []
    for (const t of request.topics) {
      for (const p of t.partitions) {
        requested.push({
          topicKey: topicKeyOf(t),
          partition: p.partition,
          fetchOffset: Number(p.fetchOffset),
          partitionMaxBytes: p.partitionMaxBytes,
          currentLeaderEpoch: p.currentLeaderEpoch,
          lastHighWatermark: -1,
          lastLogStartOffset: -1,
        })
      }
    }
    let wanted: SessionPartition[] = requested
    if (session) {
      for (const r of requested) {
        const key = FetchSession.key(r.topicKey, r.partition)
        const existing = session.partitions.get(key)
        if (existing) Object.assign(existing, {fetchOffset: r.fetchOffset, partitionMaxBytes: r.partitionMaxBytes, currentLeaderEpoch: r.currentLeaderEpoch})
        else session.partitions.set(key, r)
      }
      if (lookup.kind === 'incremental') {
        for (const t of request.forgottenTopicsData) {
          for (const p of t.partitions) session.partitions.delete(FetchSession.key(topicKeyOf(t), p))
        }
      }
      wanted = [...session.partitions.values()]
    }

    // Authorization (issue 15), as KafkaApis.handleFetchRequest: a follower needs CLUSTER_ACTION on
    // the cluster, a consumer READ on each topic; refused partitions answer TOPIC_AUTHORIZATION_FAILED.
    const fetchReplicaId = ctx.apiVersion >= 15 ? request.replicaState.replicaId : request.replicaId
    const followerDenied = fetchReplicaId >= 0 && !authorizeCluster(ctx, AclOperation.CLUSTER_ACTION)
    const readAllowed = new Map<string, boolean>()
    const mayRead = (name: string) => {
      let ok = readAllowed.get(name)
      if (ok === undefined) readAllowed.set(name, (ok = fetchReplicaId >= 0 ? !followerDenied : authorize(ctx, AclOperation.READ, ResourceType.TOPIC, name)))
      return ok
    }
    const targets: FetchTarget[] = []
    const topicsInOrder = new Map<string, {name: string; topicId: string; targets: FetchTarget[]}>()
    for (const w of wanted) {
      const topic = byTopicId ? metadata.topicById(w.topicKey) : metadata.topic(w.topicKey)
      let entry = topicsInOrder.get(w.topicKey)
      if (!entry) {
        entry = {name: topic?.name ?? (byTopicId ? '' : w.topicKey), topicId: topic?.topicId ?? (byTopicId ? w.topicKey : ZERO_UUID), targets: []}
        topicsInOrder.set(w.topicKey, entry)
      }
      // A consumer's unknown topic id is UNKNOWN_TOPIC_ID before any authorization; a follower
      // without CLUSTER_ACTION gets TOPIC_AUTHORIZATION_FAILED for everything (KafkaApis).
      const denied = fetchReplicaId >= 0 ? followerDenied : !(byTopicId && !topic) && !mayRead(topic?.name ?? entry.name)
      const found = denied ? {partition: undefined, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED} : replicas.lookup(topic, w.partition)
      const target: FetchTarget = {
        topicName: entry.name,
        topicId: entry.topicId,
        partitionIndex: w.partition,
        partition: found.partition,
        unknownCode: denied ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : byTopicId && !topic ? ErrorCode.UNKNOWN_TOPIC_ID : (found.errorCode ?? ErrorCode.NONE),
        fetchOffset: w.fetchOffset,
        partitionMaxBytes: w.partitionMaxBytes,
        currentLeaderEpoch: w.currentLeaderEpoch,
        ...(session ? {sessionEntry: w} : {}),
      }
      entry.targets.push(target)
      targets.push(target)
    }

    const replicaId = ctx.apiVersion >= 15 ? request.replicaState.replicaId : request.replicaId
    const fromFollower = replicaId >= 0
    if (fromFollower) {
      for (const target of targets) {
        const p = target.partition
        if (!p || p.leaderEpochError(target.currentLeaderEpoch) !== ErrorCode.NONE) continue
        const error = replicas.recordFollowerFetch(p, replicaId, target.fetchOffset)
        if (error !== ErrorCode.NONE) {
          target.partition = undefined
          target.unknownCode = error
        }
      }
    }
    const throttle = fromFollower ? replicas.leaderThrottle : undefined
    const rate = throttle ? throttle.rate() : Number.POSITIVE_INFINITY
    // Consumers' fetches (and followers without a throttle) allocate nothing here.
    const throttled: ReadonlySet<FetchTarget> = Number.isFinite(rate) ? new Set(targets.filter((t) => t.partition && throttle!.throttles(t.partition, replicaId))) : NOT_THROTTLED
    // Their bytes are reserved before reading (each reads at most its share of the grant; none
    // while the rate is spent) and settled with what was sent, so concurrent fetches of several
    // followers cannot spend the same tokens.
    let reserved = 0
    let withheld: ReadonlySet<FetchTarget> | undefined
    if (throttled.size > 0) {
      reserved = throttle!.bucket.reserve(rate, [...throttled].reduce((sum, t) => sum + Math.max(0, t.partitionMaxBytes), 0))
      if (reserved === 0) withheld = throttled
      else {
        const share = Math.max(1, Math.floor(reserved / throttled.size))
        for (const t of throttled) t.partitionMaxBytes = Math.min(t.partitionMaxBytes, share)
      }
    }
    const keys = new Set(targets.filter((t) => t.partition).map((t) => ReplicaManager.key(t.topicName, t.partitionIndex)))
    const deadline = Date.now() + Math.max(0, request.maxWaitMs)
    // Client quotas (issue 15): a consumer's response is capped to what its quota allows in
    // samples - 1 windows, and min bytes to that cap (KafkaApis: maxQuotaWindowBytes).
    const quota = fromFollower ? undefined : ctx.fetchQuota
    const maxBytes = quota ? Math.min(request.maxBytes, quota.maxBytes) : request.maxBytes
    const minBytes = Math.min(request.minBytes, maxBytes)
    let results: Map<FetchTarget, PartitionResult> | undefined
    try {
      for (;;) {
        const read = await readAll(targets, maxBytes, request.isolationLevel === 1 && !fromFollower, fromFollower, ctx.allocate, withheld)
        results = read.results
        const remaining = deadline - Date.now()
        if (read.bytes >= minBytes || read.errors || remaining <= 0 || keys.size === 0) break
        // Request metrics (issue 16): in Kafka's DelayedFetch purgatory from here.
        ctx.requestTimer?.delayed()
        await replicas.waitForAppend(keys, remaining)
      }
    } finally {
      if (reserved > 0) throttle!.bucket.settle(reserved, [...throttled].reduce((sum, t) => sum + (results?.get(t)?.records.length ?? 0), 0))
    }

    ctx.broker.metrics?.bytesOut(results!, fromFollower)

    // In an incremental fetch only what changed goes back; a full fetch returns everything.
    const include = (target: FetchTarget): boolean => {
      const r = results.get(target)!
      const entry = target.sessionEntry
      return !entry || lookup.kind !== 'incremental' || r.records.length > 0 || r.errorCode !== ErrorCode.NONE || Number(r.highWatermark) !== entry.lastHighWatermark || Number(r.logStartOffset) !== entry.lastLogStartOffset
    }
    const responses = []
    const hints = new LeaderHints(metadata, ctx.connection.listenerName)
    for (const t of topicsInOrder.values()) {
      const partitions = t.targets.filter(include).map((target) => {
        const r = results.get(target)!
        return LeaderHints.wanted(r.errorCode) ? {...r, currentLeader: hints.currentLeader(metadata.topic(t.name), target.partitionIndex)} : r
      })
      if (partitions.length > 0) responses.push({topic: t.name, topicId: t.topicId, partitions})
    }
    const response = {throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: session?.id ?? 0, responses, nodeEndpoints: hints.nodeEndpoints()}
    if (lookup.kind === 'incremental') lookup.session.epoch++
    // Client quotas (issue 15), as KafkaApis: the response is measured before the session takes it
    // in; over quota, the answer is empty (FetchContext.getThrottledResponse): a new session is
    // not created (session id 0), an incremental one keeps what its client last saw.
    const throttleMs = quota ? quota.throttle(response) : 0
    if (throttleMs > 0) {
      if (lookup.kind === 'new') fetchSessions.remove(lookup.session.id)
      return {throttleTimeMs: throttleMs, errorCode: ErrorCode.NONE, sessionId: lookup.kind === 'incremental' ? lookup.session.id : 0, responses: []}
    }
    for (const target of targets) {
      const entry = target.sessionEntry
      if (!entry) continue
      const r = results.get(target)!
      entry.lastHighWatermark = Number(r.highWatermark)
      entry.lastLogStartOffset = Number(r.logStartOffset)
    }
    return response
  },
})

/** Reads every target; `withheld` targets get their offsets and no records (a spent replication throttle). */
async function readAll(
  targets: FetchTarget[],
  maxBytes: number,
  readCommitted: boolean,
  fromFollower: boolean,
  allocate: (size: number) => Buffer,
  withheld?: ReadonlySet<FetchTarget>,
): Promise<{results: Map<FetchTarget, PartitionResult>; bytes: number; errors: boolean}> {
  const results = new Map<FetchTarget, PartitionResult>()
  let bytes = 0
  let errors = false
  let remaining = maxBytes
  for (const target of targets) {
    const partition = target.partition
    const result: PartitionResult = {
      partitionIndex: target.partitionIndex,
      errorCode: ErrorCode.NONE,
      highWatermark: -1n,
      lastStableOffset: -1n,
      logStartOffset: -1n,
      abortedTransactions: readCommitted ? [] : null,
      preferredReadReplica: -1,
      records: EMPTY_BUFFER,
    }
    results.set(target, result)
    if (!partition) {
      result.errorCode = target.unknownCode
      errors = true
      continue
    }
    const highWatermark = partition.highWatermark
    result.highWatermark = BigInt(highWatermark)
    const lastStableOffset = partition.log.lastStableOffset(highWatermark)
    result.lastStableOffset = BigInt(lastStableOffset)
    result.logStartOffset = BigInt(partition.log.logStartOffset)
    const epochError = partition.leaderEpochError(target.currentLeaderEpoch)
    if (epochError !== ErrorCode.NONE) {
      result.errorCode = epochError
      errors = true
      continue
    }
    if (withheld?.has(target)) continue
    try {
      const limit = Math.max(0, Math.min(target.partitionMaxBytes, remaining))
      const read = await partition.log.read(target.fetchOffset, limit, {allocate, minOneMessage: bytes === 0, maxOffset: fromFollower ? undefined : readCommitted ? lastStableOffset : highWatermark})
      if (read.records.length > 0) {
        result.records = read.records
        if (readCommitted) {
          const aborted = await partition.log.collectAbortedTransactions(target.fetchOffset, read.nextOffset)
          result.abortedTransactions = aborted.map((t) => ({producerId: BigInt(t.producerId), firstOffset: BigInt(t.firstOffset)}))
        }
        bytes += read.records.length
        remaining -= read.records.length
      }
    } catch (error) {
      if (!(error instanceof LogError)) throw error
      result.errorCode = ErrorCode[error.code]
      errors = true
    }
  }
  return {results, bytes, errors}
}
