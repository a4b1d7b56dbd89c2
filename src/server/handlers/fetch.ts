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
// (replication/throttle.ts): while leader.replication.throttled.rate is spent, a follower out of the
// ISR gets the throttled partitions' offsets without records; the records sent count against it.
// Not implemented: preferred read replicas (always -1).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {EMPTY_BUFFER} from '../../lib/protocol/message.js'
import {ZERO_UUID} from '../../lib/protocol/uuid.js'
import {LogError} from '../log/errors.js'
import {FetchSession, type SessionLookup, type SessionPartition} from '../fetch-sessions.js'
import {type Partition, ReplicaManager} from '../replica-manager.js'
import {defineHandler} from './handler.js'
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

    const targets: FetchTarget[] = []
    const topicsInOrder = new Map<string, {name: string; topicId: string; targets: FetchTarget[]}>()
    for (const w of wanted) {
      const topic = byTopicId ? metadata.topicById(w.topicKey) : metadata.topic(w.topicKey)
      let entry = topicsInOrder.get(w.topicKey)
      if (!entry) {
        entry = {name: topic?.name ?? (byTopicId ? '' : w.topicKey), topicId: topic?.topicId ?? (byTopicId ? w.topicKey : ZERO_UUID), targets: []}
        topicsInOrder.set(w.topicKey, entry)
      }
      const found = replicas.lookup(topic, w.partition)
      const target: FetchTarget = {
        topicName: entry.name,
        topicId: entry.topicId,
        partitionIndex: w.partition,
        partition: found.partition,
        unknownCode: byTopicId && !topic ? ErrorCode.UNKNOWN_TOPIC_ID : (found.errorCode ?? ErrorCode.NONE),
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
    const withheld = throttled.size > 0 && throttle!.bucket.available(rate) <= 0 ? throttled : undefined
    const keys = new Set(targets.filter((t) => t.partition).map((t) => ReplicaManager.key(t.topicName, t.partitionIndex)))
    const deadline = Date.now() + Math.max(0, request.maxWaitMs)
    let results: Map<FetchTarget, PartitionResult>
    for (;;) {
      const read = await readAll(targets, request.maxBytes, request.isolationLevel === 1 && !fromFollower, fromFollower, ctx.allocate, withheld)
      results = read.results
      const remaining = deadline - Date.now()
      if (read.bytes >= request.minBytes || read.errors || remaining <= 0 || keys.size === 0) break
      await replicas.waitForAppend(keys, remaining)
    }

    for (const t of throttled) throttle!.bucket.spend(results.get(t)!.records.length)

    // In an incremental fetch only what changed goes back; a full fetch returns everything.
    const include = (target: FetchTarget): boolean => {
      const r = results.get(target)!
      const entry = target.sessionEntry
      const changed = !entry || lookup.kind !== 'incremental' || r.records.length > 0 || r.errorCode !== ErrorCode.NONE || Number(r.highWatermark) !== entry.lastHighWatermark || Number(r.logStartOffset) !== entry.lastLogStartOffset
      if (entry) {
        entry.lastHighWatermark = Number(r.highWatermark)
        entry.lastLogStartOffset = Number(r.logStartOffset)
      }
      return changed
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
    if (lookup.kind === 'incremental') lookup.session.epoch++
    return {throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: session?.id ?? 0, responses, nodeEndpoints: hints.nodeEndpoints()}
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
