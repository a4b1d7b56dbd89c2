// Produce: v3-12 (v0-2 advertised but refused, as Kafka 4.0 does for librdkafka: KAFKA-18659)
//
// Behaviour: for each partition, the batches are validated and appended by the partition log
// (CRC, sizes, timestamps, idempotent sequences; offsets assigned in place); a topic
// compression.type other than `producer` recompresses first. acks=1 answers after the leader's
// append; acks=-1 (all) checks min.insync.replicas against the ISR first (NOT_ENOUGH_REPLICAS) and
// answers once the high watermark covers the batch (every ISR member has it), with
// NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank below min.insync.replicas meanwhile,
// NOT_LEADER_OR_FOLLOWER if leadership moved, REQUEST_TIMED_OUT after the request's timeout.
// Partitions of one request are appended concurrently. acks=0 gets no
// response; if a partition fails, the connection is closed instead, as Kafka does, so the producer
// notices. A retried idempotent batch is answered with the offset it got the first time.
// Before the log, each partition's records get Kafka's ProduceRequest.validateRecords checks, in
// Kafka's order (unknown partition, then these, then acks): exactly one whole batch (INVALID_RECORD
// for none or more), magic 2 (INVALID_RECORD for 0 and 1, CORRUPT_MESSAGE for others), no zstd
// before v7 (UNSUPPORTED_COMPRESSION_TYPE).
// A compacted topic (cleanup.policy with compact) refuses a batch with records without a key:
// INVALID_RECORD with a record error for every such record (KIP-467, as Kafka's LogValidator) and
// Kafka's message listing the first three.
// Errors: UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER (another broker leads the partition;
// v10+ names the current leader and its endpoint, KIP-951),
// NOT_ENOUGH_REPLICAS, NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT, INVALID_REQUIRED_ACKS, CORRUPT_MESSAGE, INVALID_RECORD,
// UNSUPPORTED_COMPRESSION_TYPE, MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE, INVALID_TIMESTAMP,
// OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, KAFKA_STORAGE_ERROR, TOPIC_AUTHORIZATION_FAILED
// (WRITE on the topic), TRANSACTIONAL_ID_AUTHORIZATION_FAILED (transactional batches without WRITE on
// the transactional id: every partition).
// Transactional batches are verified first (KIP-890 part 1): the partition must be in the
// producer's open transaction at the transaction coordinator, else INVALID_TXN_STATE (an epoch
// older than the transaction's: INVALID_PRODUCER_EPOCH).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import type {ProduceResponse} from '../../lib/protocol/generated/produce-response.js'
import type {Encodable} from '../../lib/protocol/message.js'
import {recordErrorsMessage, recordsWithoutKey} from '../compacted-keys.js'
import {LogError} from '../log/errors.js'
import {isCompacted} from '../log/log-config.js'
import {recompress, targetCompression} from '../recompress.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, ResourceType} from './authorize.js'
import {LeaderHints} from './leader-hints.js'
import {verifyTransactionalBatchInCluster} from './transactions-support.js'

type PartitionResponse = Array<NonNullable<NonNullable<Encodable<ProduceResponse>['responses']>[number]['partitionResponses']>[number]>

export const produce = defineHandler({
  apiKey: ApiKey.Produce,
  minVersion: 3,
  maxVersion: 12,
  advertisedMinVersion: 0,
  // Every append has finished (written, or failed) when handle() resolves: nothing refers to the
  // request's records afterwards (the log copies them into its file; recompress makes new buffers).
  releasesRequest: true,
  async handle(request, ctx) {
    const {replicas, metadata, topics: topicManager} = ctx.broker
    const acks = request.acks
    let failed = false
    const responses = []
    const hints = new LeaderHints(metadata, ctx.connection.listenerName)
    // Authorization (issue 15), as KafkaApis.handleProduceRequest: when a partition's first batch is
    // transactional, WRITE on the request's transactional id (a null one is refused too), else every
    // partition is refused; then WRITE on each topic, before the partition is looked up.
    const txnDenied = hasTransactionalRecords(request.topicData) && (request.transactionalId === null || !authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId))
    for (const topicData of request.topicData) {
      const denied = txnDenied ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED : !authorize(ctx, AclOperation.WRITE, ResourceType.TOPIC, topicData.name) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : ErrorCode.NONE
      if (denied !== ErrorCode.NONE) {
        failed = true
        responses.push({name: topicData.name, partitionResponses: topicData.partitionData.map((p) => ({index: p.index, errorCode: denied, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, errorMessage: null}))})
        continue
      }
      const topic = metadata.topic(topicData.name)
      // Partitions are appended concurrently, so that acks=all waits for replication overlap.
      const partitionResponses: PartitionResponse = await Promise.all(
        topicData.partitionData.map(async (p): Promise<PartitionResponse[number]> => {
          const answer = (errorCode: number, errorMessage: string | null = null) => {
            if (errorCode !== ErrorCode.NONE) failed = true
            const currentLeader = LeaderHints.wanted(errorCode) ? {currentLeader: hints.currentLeader(topic, p.index)} : {}
            return {index: p.index, errorCode, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, errorMessage, ...currentLeader}
          }
          const {partition, errorCode: notHere} = replicas.lookup(topic, p.index)
          if (!partition || !topic) return answer(notHere ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
          const sent = p.records
          const invalid = validateRecords(ctx.apiVersion, sent)
          if (invalid || !sent) return answer(invalid?.errorCode ?? ErrorCode.INVALID_RECORD, invalid?.message ?? null)
          if (acks !== 0 && acks !== 1 && acks !== -1) return answer(ErrorCode.INVALID_REQUIRED_ACKS)
          const unverified = await verifyTransactionalBatchInCluster(ctx, request.transactionalId, sent, topicData.name, p.index)
          if (unverified !== ErrorCode.NONE) return answer(unverified)
          try {
            if (isCompacted(partition.log.config)) {
              const recordErrors = await recordsWithoutKey(sent, `${topic.name}-${p.index}`)
              if (recordErrors.length > 0) {
                // Kafka's RecordValidationException: the log start offset is reported too.
                failed = true
                return {index: p.index, errorCode: ErrorCode.INVALID_RECORD, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: BigInt(partition.log.logStartOffset), recordErrors, errorMessage: recordErrorsMessage(recordErrors)}
              }
            }
            const target = targetCompression(topicManager.effectiveConfig(topic, 'compression.type'))
            const level = (name: string, dflt: number) => Number(topicManager.effectiveConfig(topic, name) ?? dflt)
            const records = target === undefined ? sent : await recompress(sent, target, {gzip: level('compression.gzip.level', -1), zstd: level('compression.zstd.level', 3), lz4: level('compression.lz4.level', 9)})
            const result = await replicas.appendAsLeader(partition, records, {requiredAcks: acks, timeoutMs: request.timeoutMs, timer: ctx.requestTimer})
            ctx.broker.metrics?.produced(topic.name, sent)
            return {
              index: p.index,
              errorCode: ErrorCode.NONE,
              baseOffset: BigInt(result.baseOffset),
              logAppendTimeMs: BigInt(result.logAppendTime),
              logStartOffset: BigInt(result.logStartOffset),
              errorMessage: null,
            }
          } catch (error) {
            if (!(error instanceof LogError)) throw error
            if (error.code === 'MESSAGE_TOO_LARGE') ctx.broker.metrics?.rejected(topic.name, sent)
            if (error.code === 'KAFKA_STORAGE_ERROR') ctx.broker.log.error({err: error, topic: topic.name, partition: p.index}, 'append failed')
            return answer(ErrorCode[error.code], error.message)
          }
        }),
      )
      responses.push({name: topicData.name, partitionResponses})
    }
    if (acks === 0) {
      if (failed) throw new Error('acks=0 produce failed; closing the connection so the producer notices')
      return null
    }
    return {responses, throttleTimeMs: 0, nodeEndpoints: hints.nodeEndpoints()}
  },
})

/** Batch attributes: offset in the batch and the transactional bit (RecordBatch v2). */
const ATTRIBUTES_OFFSET = 21
const TRANSACTIONAL_FLAG = 0x10

/**
 * Kafka's RequestUtils.hasTransactionalRecords: whether the first batch of some partition's
 * records is a transactional one (magic 2, attributes bit 4).
 */
function hasTransactionalRecords(topicData: ReadonlyArray<{partitionData: ReadonlyArray<{records: Buffer | null}>}>): boolean {
  for (const t of topicData) {
    for (const p of t.partitionData) {
      const r = p.records
      if (r && r.length >= ATTRIBUTES_OFFSET + 2 && r.readInt8(16) === 2 && (r.readInt16BE(ATTRIBUTES_OFFSET) & TRANSACTIONAL_FLAG) !== 0) return true
    }
  }
  return false
}

/** The first 12 bytes of a batch: base offset and batch length. */
const LOG_OVERHEAD = 12
/** Kafka's smallest record overhead: a batch length below it is corrupt. */
const MIN_RECORD_OVERHEAD = 14

/**
 * Kafka's ProduceRequest.validateRecords for v3+ (KafkaApis runs it before the append): `records`
 * must hold exactly one whole batch, of magic 2, and not zstd before Produce v7. Reads only the
 * batch length, magic and attributes; everything else is the log's to check.
 */
function validateRecords(version: number, records: Buffer | null): {errorCode: number; message: string} | null {
  const noBatch = {errorCode: ErrorCode.INVALID_RECORD, message: `Produce requests with version ${version} must have at least one record batch per partition`}
  if (!records || records.length < LOG_OVERHEAD) return noBatch
  const batchLength = records.readInt32BE(8)
  if (batchLength < MIN_RECORD_OVERHEAD) return {errorCode: ErrorCode.CORRUPT_MESSAGE, message: `Record size ${batchLength} is less than the minimum record overhead (${MIN_RECORD_OVERHEAD})`}
  if (records.length < 17) return noBatch
  const magic = records.readInt8(16)
  if (magic < 0 || magic > 2) return {errorCode: ErrorCode.CORRUPT_MESSAGE, message: `Invalid magic found in record: ${magic}`}
  if (records.length < LOG_OVERHEAD + batchLength) return noBatch
  if (magic !== 2) return {errorCode: ErrorCode.INVALID_RECORD, message: `Produce requests with version ${version} are only allowed to contain record batches with magic version 2`}
  if (version < 7 && records.length >= 23 && (records.readInt16BE(21) & 0x07) === 4) {
    return {errorCode: ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, message: `Produce requests with version ${version} are not allowed to use ZStandard compression`}
  }
  // A second whole batch after the first (a partial tail is left to the log).
  const next = LOG_OVERHEAD + batchLength
  if (records.length - next >= LOG_OVERHEAD && records.length - next >= LOG_OVERHEAD + records.readInt32BE(next + 8)) {
    return {errorCode: ErrorCode.INVALID_RECORD, message: `Produce requests with version ${version} are only allowed to contain exactly one record batch per partition`}
  }
  return null
}
