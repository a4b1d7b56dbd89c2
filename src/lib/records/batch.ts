/**
 * RecordBatch v2 header view: reads, checks and patches the 61-byte header of a
 * batch in place, without decoding the records. This is the broker's hot path
 * (produce validation, offset assignment, fetch, log recovery); record.ts does
 * the full decode.
 *
 * On-disk and on-wire layout (big-endian; Kafka's DefaultRecordBatch):
 *
 * | offset | size | field                | notes                                        |
 * | -----: | ---: | -------------------- | -------------------------------------------- |
 * |      0 |    8 | baseOffset           | int64; patched by the leader on append        |
 * |      8 |    4 | batchLength          | int32; bytes after this field                 |
 * |     12 |    4 | partitionLeaderEpoch | int32; outside the CRC, patched on append     |
 * |     16 |    1 | magic                | int8; always 2                                |
 * |     17 |    4 | crc                  | uint32 CRC-32C of bytes [21, 12+batchLength)  |
 * |     21 |    2 | attributes           | int16; see ATTRIBUTE_* below                  |
 * |     23 |    4 | lastOffsetDelta      | int32                                         |
 * |     27 |    8 | baseTimestamp        | int64 (delete horizon if bit 6 is set)        |
 * |     35 |    8 | maxTimestamp         | int64                                         |
 * |     43 |    8 | producerId           | int64; -1 when not idempotent                 |
 * |     51 |    2 | producerEpoch        | int16                                         |
 * |     53 |    4 | baseSequence         | int32                                         |
 * |     57 |    4 | recordCount          | int32                                         |
 * |     61 |    … | records              | compressed as one block when bits 0-2 != 0    |
 *
 * Every function takes `position`, the byte offset of the batch (its baseOffset
 * field) in `buf`, so a whole log segment or fetch response can be walked
 * without slicing. Nothing here keeps state; all functions are safe to call
 * concurrently on different buffers.
 */

import {crc32c} from '@node-rs/crc32'
import {readInt16, readInt32, readInt64, readUInt32, writeInt64} from './big-endian.js'

/** Bytes of the batch header, from baseOffset up to the first record. */
export const RECORD_BATCH_OVERHEAD = 61
/** baseOffset (8) + batchLength (4): the bytes not counted in batchLength. */
export const LOG_OVERHEAD = 12
/** The only record format this project reads or writes. */
export const MAGIC_VALUE_V2 = 2
/** Kafka's RecordBatch.NO_TIMESTAMP, NO_PRODUCER_ID, NO_PRODUCER_EPOCH, NO_SEQUENCE, NO_PARTITION_LEADER_EPOCH. */
export const NO_TIMESTAMP = -1
export const NO_PRODUCER_ID = -1
export const NO_PRODUCER_EPOCH = -1
export const NO_SEQUENCE = -1
export const NO_PARTITION_LEADER_EPOCH = -1

// Field offsets within a batch, relative to its position.
export const BASE_OFFSET_OFFSET = 0
export const BATCH_LENGTH_OFFSET = 8
export const PARTITION_LEADER_EPOCH_OFFSET = 12
export const MAGIC_OFFSET = 16
export const CRC_OFFSET = 17
/** The CRC covers everything from here to the end of the batch. */
export const ATTRIBUTES_OFFSET = 21
export const LAST_OFFSET_DELTA_OFFSET = 23
export const BASE_TIMESTAMP_OFFSET = 27
export const MAX_TIMESTAMP_OFFSET = 35
export const PRODUCER_ID_OFFSET = 43
export const PRODUCER_EPOCH_OFFSET = 51
export const BASE_SEQUENCE_OFFSET = 53
export const RECORDS_COUNT_OFFSET = 57

// attributes bits
export const COMPRESSION_CODEC_MASK = 0x07
export const TIMESTAMP_TYPE_MASK = 0x08
export const TRANSACTIONAL_FLAG_MASK = 0x10
export const CONTROL_FLAG_MASK = 0x20
export const DELETE_HORIZON_FLAG_MASK = 0x40

/** The smallest legal batchLength: a batch with no records. */
const MIN_BATCH_LENGTH = RECORD_BATCH_OVERHEAD - LOG_OVERHEAD

export const enum CompressionType {
  None = 0,
  Gzip = 1,
  Snappy = 2,
  Lz4 = 3,
  Zstd = 4,
}

export const enum TimestampType {
  CreateTime = 0,
  LogAppendTime = 1,
}

/**
 * A batch is malformed: short, wrong magic, bad length, CRC mismatch, or (from
 * record.ts) undecodable records. Kafka's CorruptRecordException; the produce
 * handler answers CORRUPT_MESSAGE (errorCode). `position` is the byte offset in
 * the input where the problem was found.
 */
export class CorruptRecordError extends Error {
  /** The Kafka error code a produce response should carry for this error. */
  readonly errorCode: number = 2 // CORRUPT_MESSAGE

  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message)
    this.name = new.target.name
  }
}

/**
 * A well-formed batch that Kafka's LogValidator rejects when it comes from a
 * client (offset range vs count, control batch, missing sequence).
 * Kafka's InvalidRecordException, error INVALID_RECORD.
 */
export class InvalidRecordError extends CorruptRecordError {
  override readonly errorCode: number = 87 // INVALID_RECORD
}

/**
 * The batch is larger than the allowed maximum (max.message.bytes).
 * Kafka's RecordTooLargeException, error MESSAGE_TOO_LARGE.
 */
export class RecordTooLargeError extends CorruptRecordError {
  override readonly errorCode: number = 10 // MESSAGE_TOO_LARGE
}

/** The header of one RecordBatch v2, fields named as in Kafka's DefaultRecordBatch. */
export interface RecordBatchHeader {
  baseOffset: number
  batchLength: number
  partitionLeaderEpoch: number
  magic: number
  /** Stored CRC-32C, unsigned. */
  crc: number
  attributes: number
  lastOffsetDelta: number
  baseTimestamp: number
  maxTimestamp: number
  producerId: number
  producerEpoch: number
  baseSequence: number
  recordCount: number
  /** attributes bits 0-2. Values 5-7 are rejected by validateBatch, not by readBatchHeader. */
  compression: CompressionType
  timestampType: TimestampType
  isTransactional: boolean
  isControl: boolean
  /** baseOffset + lastOffsetDelta */
  lastOffset: number
  /** batchLength + LOG_OVERHEAD: the bytes this batch occupies in the log. */
  sizeInBytes: number
}

function readSafeInt64(buf: Buffer, offset: number, min: number, field: string, position: number): number {
  const value = readInt64(buf, offset)
  if (!(value >= min)) {
    throw new CorruptRecordError(
      `${field} ${buf.readBigInt64BE(offset)} is outside the supported range [${min}, ${Number.MAX_SAFE_INTEGER}]`,
      position,
    )
  }
  return value
}

/**
 * Reads the 61-byte header at `position`. Checks only what is needed to trust
 * the numbers: at least 61 bytes present, magic 2, int64 fields within the safe
 * integer range (baseOffset >= 0; producerId and timestamps >= -1). Does not
 * check batchLength, the CRC or that the records are present: see validateBatch.
 */
export function readBatchHeader(buf: Buffer, position = 0): RecordBatchHeader {
  if (!Number.isInteger(position) || position < 0 || buf.length - position < RECORD_BATCH_OVERHEAD) {
    throw new CorruptRecordError(
      `Record batch header needs ${RECORD_BATCH_OVERHEAD} bytes, only ${Math.max(0, buf.length - position)} available`,
      position,
    )
  }
  const magic = (buf[position + MAGIC_OFFSET]! << 24) >> 24
  if (magic !== MAGIC_VALUE_V2) {
    throw new CorruptRecordError(`Unsupported record batch magic ${magic} (only v2 is supported)`, position)
  }
  const baseOffset = readSafeInt64(buf, position + BASE_OFFSET_OFFSET, 0, 'baseOffset', position)
  const batchLength = readInt32(buf, position + BATCH_LENGTH_OFFSET)
  const attributes = readInt16(buf, position + ATTRIBUTES_OFFSET)
  const lastOffsetDelta = readInt32(buf, position + LAST_OFFSET_DELTA_OFFSET)
  return {
    baseOffset,
    batchLength,
    partitionLeaderEpoch: readInt32(buf, position + PARTITION_LEADER_EPOCH_OFFSET),
    magic,
    crc: readUInt32(buf, position + CRC_OFFSET),
    attributes,
    lastOffsetDelta,
    baseTimestamp: readSafeInt64(buf, position + BASE_TIMESTAMP_OFFSET, NO_TIMESTAMP, 'baseTimestamp', position),
    maxTimestamp: readSafeInt64(buf, position + MAX_TIMESTAMP_OFFSET, NO_TIMESTAMP, 'maxTimestamp', position),
    producerId: readSafeInt64(buf, position + PRODUCER_ID_OFFSET, NO_PRODUCER_ID, 'producerId', position),
    producerEpoch: readInt16(buf, position + PRODUCER_EPOCH_OFFSET),
    baseSequence: readInt32(buf, position + BASE_SEQUENCE_OFFSET),
    recordCount: readInt32(buf, position + RECORDS_COUNT_OFFSET),
    compression: (attributes & COMPRESSION_CODEC_MASK) as CompressionType,
    timestampType: (attributes & TIMESTAMP_TYPE_MASK) === 0 ? TimestampType.CreateTime : TimestampType.LogAppendTime,
    isTransactional: (attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
    isControl: (attributes & CONTROL_FLAG_MASK) !== 0,
    lastOffset: baseOffset + lastOffsetDelta,
    sizeInBytes: batchLength + LOG_OVERHEAD,
  }
}

/** Throws unless a batchLength >= 49 and the whole batch at `position` is inside `buf`. */
function checkBatchPresent(buf: Buffer, position: number, batchLength: number): void {
  if (batchLength < MIN_BATCH_LENGTH) {
    throw new CorruptRecordError(
      `Record batch length ${batchLength} is smaller than the minimum allowed ${MIN_BATCH_LENGTH}`,
      position,
    )
  }
  const available = buf.length - position - LOG_OVERHEAD
  if (batchLength > available) {
    throw new CorruptRecordError(
      `Record batch length ${batchLength} exceeds the ${available} bytes available (truncated batch)`,
      position,
    )
  }
}

/**
 * CRC-32C of the batch at `position`: attributes through the end of the batch.
 * Throws CorruptRecordError if the batch is not fully inside `buf`.
 */
export function computeCrc(buf: Buffer, position: number): number {
  if (!Number.isInteger(position) || position < 0 || buf.length - position < RECORD_BATCH_OVERHEAD) {
    throw new CorruptRecordError(`Record batch header needs ${RECORD_BATCH_OVERHEAD} bytes`, position)
  }
  const batchLength = buf.readInt32BE(position + BATCH_LENGTH_OFFSET)
  checkBatchPresent(buf, position, batchLength)
  return crc32c(buf.subarray(position + ATTRIBUTES_OFFSET, position + LOG_OVERHEAD + batchLength))
}

export interface ValidateBatchOptions {
  /** Reject batches whose sizeInBytes exceeds this (max.message.bytes) with RecordTooLargeError. */
  maxBatchSize?: number
  /**
   * Kafka's AppendOrigin. 'client' (a produce request) adds LogValidator's
   * client checks, thrown as InvalidRecordError: recordCount >= 1 and exactly
   * lastOffsetDelta + 1, not a control batch, baseSequence >= 0 when producerId
   * >= 0. Otherwise (replication, log recovery, fetched data) only structure is
   * checked, since compaction legitimately leaves batches whose lastOffsetDelta
   * exceeds recordCount - 1, including empty ones.
   */
  origin?: 'client' | 'replication' | 'coordinator'
}

/**
 * Reads the header at `position` and checks the batch as Kafka does before
 * appending it (DefaultRecordBatch.ensureValid plus LogValidator.validateBatch):
 * - header as in readBatchHeader; batchLength >= 49;
 * - sizeInBytes <= maxBatchSize (RecordTooLargeError);
 * - the whole batch present in `buf` (from `position`; trailing bytes are allowed);
 * - stored CRC equals the CRC-32C of attributes..end;
 * - recordCount >= 0 and lastOffsetDelta >= max(0, recordCount - 1);
 * - compression codec 0-4;
 * - with origin 'client', the client checks described in ValidateBatchOptions.
 * Throws CorruptRecordError (or a subclass) with the reason; returns the header.
 */
export function validateBatch(buf: Buffer, position = 0, opts: ValidateBatchOptions = {}): RecordBatchHeader {
  const header = readBatchHeader(buf, position)
  const {batchLength, recordCount, lastOffsetDelta} = header
  if (opts.maxBatchSize !== undefined && header.sizeInBytes > opts.maxBatchSize) {
    throw new RecordTooLargeError(
      `Record batch size ${header.sizeInBytes} exceeds the maximum allowed ${opts.maxBatchSize}`,
      position,
    )
  }
  checkBatchPresent(buf, position, batchLength)
  const computed = crc32c(buf.subarray(position + ATTRIBUTES_OFFSET, position + LOG_OVERHEAD + batchLength))
  if (computed !== header.crc) {
    throw new CorruptRecordError(
      `Record batch is corrupt (stored crc = ${header.crc}, computed crc = ${computed})`,
      position,
    )
  }
  if (recordCount < 0) {
    throw new CorruptRecordError(`Invalid record count ${recordCount} in record batch`, position)
  }
  if (lastOffsetDelta < 0 || lastOffsetDelta < recordCount - 1) {
    throw new CorruptRecordError(
      `lastOffsetDelta ${lastOffsetDelta} is inconsistent with record count ${recordCount}`,
      position,
    )
  }
  if (header.compression > CompressionType.Zstd) {
    throw new CorruptRecordError(`Unknown compression type id ${header.compression}`, position)
  }
  if (opts.origin === 'client') checkClientBatch(header, position)
  return header
}

/** LogValidator.validateBatch for AppendOrigin.CLIENT. */
function checkClientBatch(header: RecordBatchHeader, position: number): void {
  const {baseOffset, lastOffset, recordCount} = header
  if (recordCount <= 0) {
    throw new InvalidRecordError(`Invalid reported count for record batch: ${recordCount}`, position)
  }
  if (lastOffset - baseOffset + 1 !== recordCount) {
    throw new InvalidRecordError(
      `Inconsistent batch offset range [${baseOffset}, ${lastOffset}] and count of records ${recordCount}`,
      position,
    )
  }
  if (header.isControl) {
    throw new InvalidRecordError('Clients are not allowed to write control records', position)
  }
  if (header.producerId >= 0 && header.baseSequence < 0) {
    throw new InvalidRecordError(
      `Invalid sequence number ${header.baseSequence} in record batch with producerId ${header.producerId}`,
      position,
    )
  }
}

/**
 * Walks the batches in buf[start, end) by their headers (no CRC check, no
 * record decoding), yielding each batch's position and header. Stops cleanly at
 * a partial trailing batch (fewer than 12 bytes left, or fewer than
 * batchLength + 12), as a fetch response or a torn log tail may end with one.
 * Throws CorruptRecordError on a batchLength below 49 or a wrong magic, since
 * walking past those would read garbage.
 */
export function* iterateBatches(
  buf: Buffer,
  start = 0,
  end = buf.length,
): Generator<{position: number; header: RecordBatchHeader}> {
  const limit = Math.min(end, buf.length)
  let position = start
  while (limit - position >= LOG_OVERHEAD) {
    const batchLength = buf.readInt32BE(position + BATCH_LENGTH_OFFSET)
    if (batchLength < MIN_BATCH_LENGTH) {
      throw new CorruptRecordError(
        `Record batch length ${batchLength} is smaller than the minimum allowed ${MIN_BATCH_LENGTH}`,
        position,
      )
    }
    if (batchLength > limit - position - LOG_OVERHEAD) return
    const header = readBatchHeader(buf, position)
    yield {position, header}
    position += LOG_OVERHEAD + batchLength
  }
}

/** The header fields a writer chooses; batchLength, magic and crc follow from the bytes. */
export interface BatchHeaderFields {
  baseOffset: number
  partitionLeaderEpoch: number
  attributes: number
  lastOffsetDelta: number
  baseTimestamp: number
  maxTimestamp: number
  producerId: number
  producerEpoch: number
  baseSequence: number
  recordCount: number
}

/** Composes the attributes int16 from its parts (bits 0-2, 3, 4, 5). */
export function batchAttributes(
  compression: CompressionType,
  timestampType: TimestampType,
  isTransactional: boolean,
  isControl: boolean,
): number {
  return (
    (compression & COMPRESSION_CODEC_MASK) |
    (timestampType === TimestampType.LogAppendTime ? TIMESTAMP_TYPE_MASK : 0) |
    (isTransactional ? TRANSACTIONAL_FLAG_MASK : 0) |
    (isControl ? CONTROL_FLAG_MASK : 0)
  )
}

/**
 * Writes a complete header at `position` for a batch whose records already
 * occupy buf[position + 61, position + 12 + batchLength), then its CRC.
 */
export function writeBatchHeader(buf: Buffer, position: number, batchLength: number, fields: BatchHeaderFields): void {
  writeInt64(buf, position + BASE_OFFSET_OFFSET, fields.baseOffset)
  buf.writeInt32BE(batchLength, position + BATCH_LENGTH_OFFSET)
  buf.writeInt32BE(fields.partitionLeaderEpoch, position + PARTITION_LEADER_EPOCH_OFFSET)
  buf.writeInt8(MAGIC_VALUE_V2, position + MAGIC_OFFSET)
  buf.writeInt16BE(fields.attributes, position + ATTRIBUTES_OFFSET)
  buf.writeInt32BE(fields.lastOffsetDelta, position + LAST_OFFSET_DELTA_OFFSET)
  writeInt64(buf, position + BASE_TIMESTAMP_OFFSET, fields.baseTimestamp)
  writeInt64(buf, position + MAX_TIMESTAMP_OFFSET, fields.maxTimestamp)
  writeInt64(buf, position + PRODUCER_ID_OFFSET, fields.producerId)
  buf.writeInt16BE(fields.producerEpoch, position + PRODUCER_EPOCH_OFFSET)
  buf.writeInt32BE(fields.baseSequence, position + BASE_SEQUENCE_OFFSET)
  buf.writeInt32BE(fields.recordCount, position + RECORDS_COUNT_OFFSET)
  writeCrc(buf, position)
}

function checkHeaderPresent(buf: Buffer, position: number): void {
  if (!Number.isInteger(position) || position < 0 || buf.length - position < RECORD_BATCH_OVERHEAD) {
    throw new RangeError(`No record batch header at position ${position} (buffer length ${buf.length})`)
  }
}

/** Overwrites baseOffset (outside the CRC). Offset assignment on append. */
export function setBaseOffset(buf: Buffer, position: number, baseOffset: number): void {
  checkHeaderPresent(buf, position)
  if (!Number.isSafeInteger(baseOffset) || baseOffset < 0) {
    throw new RangeError(`baseOffset ${baseOffset} is not a non-negative safe integer`)
  }
  writeInt64(buf, position + BASE_OFFSET_OFFSET, baseOffset)
}

/** Overwrites partitionLeaderEpoch (outside the CRC), as the leader does on append. */
export function setPartitionLeaderEpoch(buf: Buffer, position: number, epoch: number): void {
  checkHeaderPresent(buf, position)
  buf.writeInt32BE(epoch, position + PARTITION_LEADER_EPOCH_OFFSET)
}

/**
 * Marks the batch LogAppendTime with maxTimestamp = `timestamp` and rewrites
 * the CRC (Kafka's setMaxTimestamp(LOG_APPEND_TIME, now)); consumers then use
 * maxTimestamp as every record's timestamp. No-op if already so.
 */
export function setLogAppendTime(buf: Buffer, position: number, timestamp: number): void {
  checkHeaderPresent(buf, position)
  if (!Number.isSafeInteger(timestamp) || timestamp < NO_TIMESTAMP) {
    throw new RangeError(`timestamp ${timestamp} is not a safe integer >= -1`)
  }
  const attributes = buf.readInt16BE(position + ATTRIBUTES_OFFSET)
  if ((attributes & TIMESTAMP_TYPE_MASK) !== 0 && readInt64(buf, position + MAX_TIMESTAMP_OFFSET) === timestamp) return
  checkBatchPresent(buf, position, buf.readInt32BE(position + BATCH_LENGTH_OFFSET)) // before any write
  buf.writeInt16BE(attributes | TIMESTAMP_TYPE_MASK, position + ATTRIBUTES_OFFSET)
  writeInt64(buf, position + MAX_TIMESTAMP_OFFSET, timestamp)
  writeCrc(buf, position)
}

/** Computes the CRC of the whole batch at `position` and stores it in the crc field. */
export function writeCrc(buf: Buffer, position: number): void {
  buf.writeUInt32BE(computeCrc(buf, position), position + CRC_OFFSET)
}
