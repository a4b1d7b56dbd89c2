// Fetch: v4-17
//
// Behaviour: reads whole batches from each partition's log (never decoding records) up to the
// high watermark, bounded by each partition's max bytes and the response's max bytes — the first
// batch found is returned even when larger, so a consumer can always make progress (Kafka's
// minOneMessage). Long-polls: when fewer than min bytes are ready, waits for an append to one of
// the partitions or until max wait. Topic names (v4-12) or topic ids (v13+). read_committed
// (isolation level 1) stops at the last stable offset, which without transactions is the high
// watermark, with an empty list of aborted transactions.
// Fetch sessions (KIP-227): the broker declines to create sessions — every response carries
// session id 0, which clients answer with full fetches, as the KIP allows; a request naming a
// session gets FETCH_SESSION_ID_NOT_FOUND.
// Errors: UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID, OFFSET_OUT_OF_RANGE, FENCED_LEADER_EPOCH,
// UNKNOWN_LEADER_EPOCH, KAFKA_STORAGE_ERROR.
// Not implemented: follower fetches (replication issue), preferred read replicas (always -1).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {EMPTY_BUFFER} from '../../lib/protocol/message.js'
import {ZERO_UUID} from '../../lib/protocol/uuid.js'
import {LogError} from '../log/errors.js'
import {type Partition, ReplicaManager} from '../replica-manager.js'
import {defineHandler} from './handler.js'

interface FetchTarget {
  topicName: string
  topicId: string
  partitionIndex: number
  partition: Partition | undefined
  unknownCode: number
  fetchOffset: number
  partitionMaxBytes: number
  currentLeaderEpoch: number
}

interface PartitionResult {
  partitionIndex: number
  errorCode: number
  highWatermark: bigint
  lastStableOffset: bigint
  logStartOffset: bigint
  abortedTransactions: [] | null
  preferredReadReplica: number
  records: Buffer
}

export const fetch = defineHandler({
  apiKey: ApiKey.Fetch,
  minVersion: 4,
  maxVersion: 17,
  async handle(request, ctx) {
    const {replicas, metadata} = ctx.broker
    if (ctx.apiVersion >= 7 && request.sessionId !== 0) {
      return {throttleTimeMs: 0, errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: []}
    }
    const readCommitted = request.isolationLevel === 1
    const byTopicId = ctx.apiVersion >= 13
    const targets: FetchTarget[] = []
    const topicsInOrder: Array<{name: string; topicId: string; targets: FetchTarget[]}> = []
    for (const t of request.topics) {
      const topic = byTopicId ? metadata.topicById(t.topicId) : metadata.topic(t.topic)
      const entry = {name: topic?.name ?? t.topic, topicId: topic?.topicId ?? t.topicId, targets: [] as FetchTarget[]}
      for (const p of t.partitions) {
        const target: FetchTarget = {
          topicName: entry.name,
          topicId: entry.topicId,
          partitionIndex: p.partition,
          partition: topic ? replicas.get(topic.name, p.partition) : undefined,
          unknownCode: byTopicId && !topic ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          fetchOffset: Number(p.fetchOffset),
          partitionMaxBytes: p.partitionMaxBytes,
          currentLeaderEpoch: p.currentLeaderEpoch,
        }
        entry.targets.push(target)
        targets.push(target)
      }
      topicsInOrder.push(entry)
    }

    const keys = new Set(targets.filter((t) => t.partition).map((t) => ReplicaManager.key(t.topicName, t.partitionIndex)))
    const deadline = Date.now() + Math.max(0, request.maxWaitMs)
    let results: Map<FetchTarget, PartitionResult>
    for (;;) {
      const read = await readAll(targets, request.maxBytes, readCommitted)
      results = read.results
      const remaining = deadline - Date.now()
      if (read.bytes >= request.minBytes || read.errors || remaining <= 0 || keys.size === 0) break
      await replicas.waitForAppend(keys, remaining)
    }

    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      sessionId: 0,
      responses: topicsInOrder.map((t) => ({
        topic: t.name,
        topicId: t.topicId ?? ZERO_UUID,
        partitions: t.targets.map((target) => results.get(target)!),
      })),
    }
  },
})

async function readAll(targets: FetchTarget[], maxBytes: number, readCommitted: boolean): Promise<{results: Map<FetchTarget, PartitionResult>; bytes: number; errors: boolean}> {
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
    result.lastStableOffset = BigInt(highWatermark)
    result.logStartOffset = BigInt(partition.log.logStartOffset)
    if (target.currentLeaderEpoch >= 0 && target.currentLeaderEpoch !== partition.leaderEpoch) {
      result.errorCode = target.currentLeaderEpoch > partition.leaderEpoch ? ErrorCode.UNKNOWN_LEADER_EPOCH : ErrorCode.FENCED_LEADER_EPOCH
      errors = true
      continue
    }
    try {
      const limit = Math.max(0, Math.min(target.partitionMaxBytes, remaining))
      const read = await partition.log.read(target.fetchOffset, limit, {minOneMessage: bytes === 0, maxOffset: highWatermark})
      if (read.records.length > 0) {
        result.records = read.records
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
