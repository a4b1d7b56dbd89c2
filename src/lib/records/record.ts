/**
 * Full decode and encode of the records inside a RecordBatch v2 (batch.ts has
 * the header). Used by clients, compaction and tools; the broker's produce and
 * fetch paths never decode records.
 *
 * Each record (Kafka's DefaultRecord), after the batch header or, for a
 * compressed batch, inside the decompressed block:
 *
 *   length          varint   bytes of the record after this field
 *   attributes      int8     unused, 0
 *   timestampDelta  varlong  timestamp - batch baseTimestamp
 *   offsetDelta     varint   offset - batch baseOffset
 *   keyLength       varint   -1 for a null key
 *   key             bytes
 *   valueLength     varint   -1 for a null value
 *   value           bytes
 *   headersCount    varint
 *   headers         [headerKeyLength varint, headerKey UTF-8 (never null),
 *                    headerValueLength varint (-1 = null), headerValue bytes]
 *
 * In a LogAppendTime batch every record's timestamp is the batch maxTimestamp.
 *
 * A control batch (attributes bit 5) holds one control record whose key is
 * version int16 (0) + type int16 (ControlRecordType). For transaction markers
 * (ABORT 0, COMMIT 1) the value is Kafka's EndTransactionMarker: version int16
 * (0) + coordinatorEpoch int32.
 */

import {
  type RecordBatchHeader,
  CompressionType,
  CorruptRecordError,
  LOG_OVERHEAD,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  NO_TIMESTAMP,
  RECORD_BATCH_OVERHEAD,
  TimestampType,
  batchAttributes,
  iterateBatches,
  validateBatch,
  writeBatchHeader,
} from './batch.js'
import {DEFAULT_MAX_DECOMPRESSED_SIZE, compress, decompress} from './compression.js'
import {RecordReader, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong} from './varint.js'

export interface RecordHeader {
  key: string
  value: Buffer | null
}

/** A decoded record, with its absolute offset and timestamp. */
export interface Record {
  offset: number
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
}

/** A record to build: offset defaults to the next one, timestamp to now, key/value to null. */
export interface RecordInput {
  offset?: number
  timestamp?: number
  key?: Buffer | null
  value?: Buffer | null
  headers?: RecordHeader[]
}

export interface RecordBatchInput {
  /** Default 0: producers send 0 and the leader assigns offsets. */
  baseOffset?: number
  records: RecordInput[]
  /** Default None. */
  compression?: CompressionType
  /** gzip/zstd level, see compression.ts. */
  compressionLevel?: number
  /** Default -1 (not idempotent). */
  producerId?: number
  producerEpoch?: number
  baseSequence?: number
  isTransactional?: boolean
  isControl?: boolean
  /** Default -1, as producers send it. */
  partitionLeaderEpoch?: number
  /** Default CreateTime. */
  timestampType?: TimestampType
  /** For LogAppendTime: the batch maxTimestamp. Default now. */
  logAppendTime?: number
  /**
   * Default: the last record's offset delta. Compaction keeps the original value
   * when it drops records at the end of a batch, so the producer state survives;
   * it may then be larger than records.length - 1, and records may be empty.
   */
  lastOffsetDelta?: number
}

export interface DecodeOptions {
  /** Cap on the decompressed records of a compressed batch, see compression.ts. */
  maxDecompressedSize?: number
}

export interface DecodedRecordBatch {
  header: RecordBatchHeader
  records: Record[]
}

const MAX_INT32 = 0x7fffffff
const MIN_INT32 = -0x80000000

function checkInt(value: number, min: number, max: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${field} ${value} is not an integer in [${min}, ${max}]`)
  }
}

/** A record ready to write: deltas computed, header keys encoded, sizes known. */
interface PreparedRecord {
  timestampDelta: number
  offsetDelta: number
  key: Buffer | null
  value: Buffer | null
  headers: {key: Buffer; value: Buffer | null}[]
  bodySize: number
}

function sizeOfBytes(bytes: Buffer | null): number {
  return bytes === null ? 1 : sizeOfVarint(bytes.length) + bytes.length
}

function writeBytes(buf: Buffer, offset: number, bytes: Buffer | null): number {
  if (bytes === null) return writeVarint(buf, offset, -1)
  offset = writeVarint(buf, offset, bytes.length)
  return offset + bytes.copy(buf, offset)
}

function prepareRecord(timestampDelta: number, offsetDelta: number, input: RecordInput): PreparedRecord {
  const key = input.key ?? null
  const value = input.value ?? null
  const headers = (input.headers ?? []).map((header) => ({key: Buffer.from(header.key, 'utf8'), value: header.value}))
  let bodySize =
    1 + sizeOfVarlong(timestampDelta) + sizeOfVarint(offsetDelta) + sizeOfBytes(key) + sizeOfBytes(value)
  bodySize += sizeOfVarint(headers.length)
  for (const header of headers) bodySize += sizeOfBytes(header.key) + sizeOfBytes(header.value)
  return {timestampDelta, offsetDelta, key, value, headers, bodySize}
}

function writeRecord(buf: Buffer, offset: number, record: PreparedRecord): number {
  offset = writeVarint(buf, offset, record.bodySize)
  buf[offset++] = 0 // attributes
  offset = writeVarlong(buf, offset, record.timestampDelta)
  offset = writeVarint(buf, offset, record.offsetDelta)
  offset = writeBytes(buf, offset, record.key)
  offset = writeBytes(buf, offset, record.value)
  offset = writeVarint(buf, offset, record.headers.length)
  for (const header of record.headers) {
    offset = writeBytes(buf, offset, header.key)
    offset = writeBytes(buf, offset, header.value)
  }
  return offset
}

/**
 * Builds one RecordBatch v2 the way Kafka's MemoryRecordsBuilder does:
 * baseTimestamp is the first record's timestamp, maxTimestamp the largest (or
 * logAppendTime), lastOffsetDelta the last record's offset delta, CRC-32C over
 * attributes..end. Throws RangeError for inputs Kafka could not represent
 * (offsets not increasing, values outside int32/int64 ranges).
 */
export async function buildRecordBatch(input: RecordBatchInput): Promise<Buffer> {
  const baseOffset = input.baseOffset ?? 0
  const compression = input.compression ?? CompressionType.None
  const timestampType = input.timestampType ?? TimestampType.CreateTime
  checkInt(baseOffset, 0, Number.MAX_SAFE_INTEGER, 'baseOffset')
  checkInt(compression, CompressionType.None, CompressionType.Zstd, 'compression')

  const now = Date.now()
  const baseTimestamp = input.records.length > 0 ? (input.records[0]!.timestamp ?? now) : now
  let maxTimestamp = NO_TIMESTAMP
  let previousOffset = baseOffset - 1
  let recordsSize = 0
  const prepared = input.records.map((record) => {
    const offset = record.offset ?? previousOffset + 1
    const timestamp = record.timestamp ?? now
    if (offset <= previousOffset) throw new RangeError(`Record offset ${offset} does not follow ${previousOffset}`)
    checkInt(offset - baseOffset, 0, MAX_INT32, 'offsetDelta')
    checkInt(timestamp, NO_TIMESTAMP, Number.MAX_SAFE_INTEGER, 'timestamp')
    checkInt(timestamp - baseTimestamp, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'timestampDelta')
    previousOffset = offset
    if (timestamp > maxTimestamp) maxTimestamp = timestamp
    const result = prepareRecord(timestamp - baseTimestamp, offset - baseOffset, record)
    recordsSize += sizeOfVarint(result.bodySize) + result.bodySize
    return result
  })
  const lastOffsetDelta = input.lastOffsetDelta ?? Math.max(0, previousOffset - baseOffset)
  checkInt(lastOffsetDelta, Math.max(0, previousOffset - baseOffset), MAX_INT32, 'lastOffsetDelta')
  if (timestampType === TimestampType.LogAppendTime) maxTimestamp = input.logAppendTime ?? now
  checkInt(maxTimestamp, NO_TIMESTAMP, Number.MAX_SAFE_INTEGER, 'logAppendTime')

  let batch: Buffer
  if (compression === CompressionType.None) {
    batch = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + recordsSize)
    let offset = RECORD_BATCH_OVERHEAD
    for (const record of prepared) offset = writeRecord(batch, offset, record)
  } else {
    const records = Buffer.allocUnsafe(recordsSize)
    let offset = 0
    for (const record of prepared) offset = writeRecord(records, offset, record)
    const compressed = await compress(compression, records, {level: input.compressionLevel})
    batch = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + compressed.length)
    compressed.copy(batch, RECORD_BATCH_OVERHEAD)
  }
  const producerId = input.producerId ?? NO_PRODUCER_ID
  const producerEpoch = input.producerEpoch ?? NO_PRODUCER_EPOCH
  const baseSequence = input.baseSequence ?? NO_SEQUENCE
  const partitionLeaderEpoch = input.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH
  checkInt(producerId, NO_PRODUCER_ID, Number.MAX_SAFE_INTEGER, 'producerId')
  checkInt(producerEpoch, -0x8000, 0x7fff, 'producerEpoch')
  checkInt(baseSequence, MIN_INT32, MAX_INT32, 'baseSequence')
  checkInt(partitionLeaderEpoch, MIN_INT32, MAX_INT32, 'partitionLeaderEpoch')
  writeBatchHeader(batch, 0, batch.length - LOG_OVERHEAD, {
    baseOffset,
    partitionLeaderEpoch,
    attributes: batchAttributes(compression, timestampType, input.isTransactional ?? false, input.isControl ?? false),
    lastOffsetDelta,
    baseTimestamp,
    maxTimestamp,
    producerId,
    producerEpoch,
    baseSequence,
    recordCount: prepared.length,
  })
  return batch
}

/** Reads one record; reads are confined to the record's declared length. */
function readRecord(reader: RecordReader, header: RecordBatchHeader): Record {
  const start = reader.position
  const length = reader.readVarint()
  if (length < 0 || length > reader.remaining) {
    reader.fail(`Invalid record length ${length} with ${reader.remaining} bytes remaining`, start)
  }
  const bodyStart = reader.position
  const recordEnd = bodyStart + length
  const batchEnd = reader.end
  reader.end = recordEnd
  reader.readInt8() // attributes, unused
  const timestampDelta = reader.readVarlong()
  const offsetDelta = reader.readVarint()
  const key = reader.readNullableBytes('key')
  const value = reader.readNullableBytes('value')
  const headersStart = reader.position
  const headerCount = reader.readVarint()
  // each header takes at least two bytes (two length varints)
  if (headerCount < 0 || headerCount * 2 > reader.remaining) {
    reader.fail(`Invalid number of record headers ${headerCount}`, headersStart)
  }
  const headers: RecordHeader[] = []
  for (let i = 0; i < headerCount; i++) {
    const keyStart = reader.position
    const keyLength = reader.readVarint()
    if (keyLength < 0) reader.fail(`Invalid negative header key size ${keyLength}`, keyStart)
    const headerKey = reader.readBytes(keyLength).toString('utf8')
    headers.push({key: headerKey, value: reader.readNullableBytes('header value')})
  }
  if (reader.position !== recordEnd) {
    reader.fail(
      `Invalid record size: expected to read ${length} bytes in record payload, but instead read ${reader.position - bodyStart}`,
      start,
    )
  }
  reader.end = batchEnd
  const timestamp =
    header.timestampType === TimestampType.LogAppendTime ? header.maxTimestamp : header.baseTimestamp + timestampDelta
  if (!Number.isSafeInteger(timestamp)) reader.fail(`Record timestamp ${timestamp} is outside the safe integer range`, start)
  return {offset: header.baseOffset + offsetDelta, timestamp, key, value, headers}
}

/**
 * Validates (validateBatch: length, CRC, counts) and decodes the batch at
 * `position`, decompressing its records if needed. Keys, values and header
 * values are slices of `buf` (uncompressed) or of the decompressed block, not
 * copies. Throws CorruptRecordError for anything malformed: a declared count
 * that does not match the records present, a record whose fields overrun its
 * length, bytes left over, undecompressable data or more than
 * maxDecompressedSize bytes of it.
 */
export async function decodeRecordBatch(
  buf: Buffer,
  position = 0,
  options: DecodeOptions = {},
): Promise<DecodedRecordBatch> {
  const header = validateBatch(buf, position)
  const recordsStart = position + RECORD_BATCH_OVERHEAD
  const batchEnd = position + header.sizeInBytes
  let reader: RecordReader
  if (header.compression === CompressionType.None) {
    reader = new RecordReader(buf, recordsStart, batchEnd)
  } else {
    const data = await decompress(header.compression, buf.subarray(recordsStart, batchEnd), {
      maxSize: options.maxDecompressedSize ?? DEFAULT_MAX_DECOMPRESSED_SIZE,
      position: recordsStart,
    })
    reader = new RecordReader(data, 0, data.length, recordsStart)
  }
  const records: Record[] = []
  for (let i = 0; i < header.recordCount; i++) {
    if (reader.remaining === 0) {
      reader.fail(`Batch declares ${header.recordCount} records but holds only ${i}`)
    }
    records.push(readRecord(reader, header))
  }
  if (reader.remaining !== 0) {
    reader.fail(`Incorrect declared batch size, ${reader.remaining} bytes remain after ${header.recordCount} records`)
  }
  return {header, records}
}

/**
 * Decodes every whole batch in buf[start, end) (a fetch response's records or a
 * log segment); a partial trailing batch is ignored, as consumers do.
 */
export async function decodeRecordBatches(
  buf: Buffer,
  options: DecodeOptions & {start?: number; end?: number} = {},
): Promise<DecodedRecordBatch[]> {
  const batches: DecodedRecordBatch[] = []
  for (const {position} of iterateBatches(buf, options.start, options.end)) {
    batches.push(await decodeRecordBatch(buf, position, options))
  }
  return batches
}

// ---- control records ----

/** Kafka's ControlRecordType: the `type` in a control record's key. */
export const enum ControlRecordType {
  Abort = 0,
  Commit = 1,
  LeaderChange = 2,
  SnapshotHeader = 3,
  SnapshotFooter = 4,
  KRaftVersion = 5,
  KRaftVoters = 6,
}

export const CONTROL_RECORD_KEY_VERSION = 0
export const END_TRANSACTION_MARKER_VERSION = 0
const CONTROL_RECORD_KEY_SIZE = 4
const END_TRANSACTION_MARKER_VALUE_SIZE = 6

export interface ControlRecordKey {
  version: number
  type: number
}

/** Kafka's EndTransactionMarker: the control record that commits or aborts a transaction. */
export interface EndTransactionMarker {
  type: ControlRecordType.Abort | ControlRecordType.Commit
  coordinatorEpoch: number
}

/** Encodes a control record key: version int16 + type int16. */
export function encodeControlRecordKey(type: ControlRecordType): Buffer {
  const key = Buffer.alloc(CONTROL_RECORD_KEY_SIZE)
  key.writeInt16BE(CONTROL_RECORD_KEY_VERSION, 0)
  key.writeInt16BE(type, 2)
  return key
}

/** A reader at the key length of the first record of the uncompressed batch at `position` (throws past the end). */
function firstRecordKey(batch: Buffer, position: number): RecordReader {
  const reader = new RecordReader(batch, position + RECORD_BATCH_OVERHEAD, batch.length)
  reader.readVarint() // record length
  reader.readInt8() // attributes
  reader.readVarlong() // timestamp delta
  reader.readVarint() // offset delta
  return reader
}

/**
 * The control record type (0 ABORT, 1 COMMIT, ...) of an uncompressed control
 * batch starting at `position`, read from its first record's key without
 * decoding the batch; undefined if the batch has no readable key.
 */
export function controlRecordType(batch: Buffer, position = 0): number | undefined {
  try {
    const reader = firstRecordKey(batch, position)
    const keyLength = reader.readVarint()
    if (keyLength < 4) return undefined
    const at = reader.position
    if (at + 4 > batch.length) return undefined
    return batch.readInt16BE(at + 2)
  } catch {
    return undefined
  }
}

/**
 * The coordinator epoch of the COMMIT or ABORT marker in an uncompressed control batch starting at
 * `position`, read from its first record's value without decoding the batch; undefined if the
 * batch holds no readable marker value.
 */
export function endTransactionMarkerEpoch(batch: Buffer, position = 0): number | undefined {
  try {
    const reader = firstRecordKey(batch, position)
    const keyLength = reader.readVarint()
    if (keyLength < CONTROL_RECORD_KEY_SIZE) return undefined
    reader.position += keyLength
    const valueLength = reader.readVarint()
    const at = reader.position
    if (valueLength < END_TRANSACTION_MARKER_VALUE_SIZE || at + END_TRANSACTION_MARKER_VALUE_SIZE > batch.length) return undefined
    return batch.readInt32BE(at + 2)
  } catch {
    return undefined
  }
}

/** Decodes a control record's key; throws CorruptRecordError if it is null, short or has a negative version. */
export function decodeControlRecordKey(key: Buffer | null, position = 0): ControlRecordKey {
  if (key === null || key.length < CONTROL_RECORD_KEY_SIZE) {
    throw new CorruptRecordError(
      `Invalid control record key size ${key === null ? 'null' : key.length}, expected at least ${CONTROL_RECORD_KEY_SIZE}`,
      position,
    )
  }
  const version = key.readInt16BE(0)
  if (version < 0) throw new CorruptRecordError(`Invalid version found for control record: ${version}`, position)
  return {version, type: key.readInt16BE(2)}
}

/** The record of a transaction marker control batch (build it with isControl and isTransactional). */
export function endTransactionMarkerRecord(marker: EndTransactionMarker, timestamp?: number): RecordInput {
  const value = Buffer.alloc(END_TRANSACTION_MARKER_VALUE_SIZE)
  value.writeInt16BE(END_TRANSACTION_MARKER_VERSION, 0)
  value.writeInt32BE(marker.coordinatorEpoch, 2)
  return {key: encodeControlRecordKey(marker.type), value, timestamp}
}

/**
 * Reads a COMMIT or ABORT marker from a control record. Like Kafka, a newer
 * value version is parsed as version 0. Throws CorruptRecordError for other
 * control types or a short value.
 */
export function decodeEndTransactionMarker(record: Record, position = 0): EndTransactionMarker {
  const {type} = decodeControlRecordKey(record.key, position)
  if (type !== ControlRecordType.Abort && type !== ControlRecordType.Commit) {
    throw new CorruptRecordError(`Control record type ${type} is not a transaction marker`, position)
  }
  const value = record.value
  if (value === null || value.length < END_TRANSACTION_MARKER_VALUE_SIZE) {
    throw new CorruptRecordError(
      `Invalid value size ${value === null ? 'null' : value.length} found for end transaction marker`,
      position,
    )
  }
  const version = value.readInt16BE(0)
  if (version < 0) throw new CorruptRecordError(`Invalid version found for end transaction marker: ${version}`, position)
  return {type, coordinatorEpoch: value.readInt32BE(2)}
}
