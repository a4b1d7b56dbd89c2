// Builds one RecordBatch v2 incrementally, the way the Java client's MemoryRecordsBuilder does:
// each record is encoded into the batch's buffer when it is appended, so the producer keeps one
// growing buffer per open batch rather than the records themselves (which then die young, cheap
// for the garbage collector). The 61-byte header is written by build(), when the producer id,
// epoch and base sequence are known; a compressed batch compresses the encoded records then.
// The record layout is the one in src/lib/records/record.ts.

import {batchAttributes, CompressionType, LOG_OVERHEAD, RECORD_BATCH_OVERHEAD, TimestampType, writeBatchHeader} from '../records/batch.js'
import {compress} from '../records/compression.js'
import type {RecordHeader} from '../records/record.js'
import {sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong} from '../records/varint.js'

const INITIAL_CAPACITY = 64 * 1024

/**
 * Buffers of finished batches, by capacity, for the next builders: allocating (and collecting) a
 * fresh 1 MiB buffer per batch costs more than the encoding. A buffer comes back only through
 * release(), once nothing refers to the batch any more.
 */
const pool = new Map<number, Buffer[]>()
const POOL_PER_SIZE = 8

function take(capacity: number): Buffer {
  return pool.get(capacity)?.pop() ?? Buffer.allocUnsafe(capacity)
}

export interface BatchProducerFields {
  producerId: number
  producerEpoch: number
  baseSequence: number
  /** Part of a transaction (attributes bit 4). */
  isTransactional?: boolean
}

export class BatchBuilder {
  private buf: Buffer
  /** End of the encoded records. */
  private position = RECORD_BATCH_OVERHEAD
  count = 0
  baseTimestamp = 0
  maxTimestamp = -1

  constructor(initialCapacity = INITIAL_CAPACITY) {
    this.buf = take(Math.max(RECORD_BATCH_OVERHEAD + 64, initialCapacity))
  }

  /**
   * Gives the buffer back for reuse. Only when the built batch (a view of the buffer when
   * uncompressed) is referenced nowhere: it has been acknowledged or given up on.
   */
  release(): void {
    const list = pool.get(this.buf.length) ?? []
    if (list.length < POOL_PER_SIZE) list.push(this.buf)
    pool.set(this.buf.length, list)
    this.buf = EMPTY
    this.position = 0
  }

  /** Bytes of the batch so far (uncompressed), header included. */
  get sizeInBytes(): number {
    return this.position
  }

  append(timestamp: number, key: Buffer | null, value: Buffer | null, headers: readonly RecordHeader[] | undefined): void {
    if (this.count === 0) this.baseTimestamp = timestamp
    const timestampDelta = timestamp - this.baseTimestamp
    const offsetDelta = this.count
    let bodySize = 1 + sizeOfVarlong(timestampDelta) + sizeOfVarint(offsetDelta)
    bodySize += key === null ? 1 : sizeOfVarint(key.length) + key.length
    bodySize += value === null ? 1 : sizeOfVarint(value.length) + value.length
    const headerCount = headers?.length ?? 0
    bodySize += sizeOfVarint(headerCount)
    let headerKeys: Buffer[] | undefined
    if (headerCount > 0) {
      headerKeys = headers!.map((h) => Buffer.from(h.key, 'utf8'))
      for (let i = 0; i < headerCount; i++) {
        const k = headerKeys[i]!
        const v = headers![i]!.value
        bodySize += sizeOfVarint(k.length) + k.length + (v === null ? 1 : sizeOfVarint(v.length) + v.length)
      }
    }
    const needed = this.position + sizeOfVarint(bodySize) + bodySize
    if (needed > this.buf.length) this.grow(needed)
    const buf = this.buf
    let at = writeVarint(buf, this.position, bodySize)
    buf[at++] = 0 // attributes
    at = writeVarlong(buf, at, timestampDelta)
    at = writeVarint(buf, at, offsetDelta)
    at = writeBytes(buf, at, key)
    at = writeBytes(buf, at, value)
    at = writeVarint(buf, at, headerCount)
    for (let i = 0; i < headerCount; i++) {
      at = writeBytes(buf, at, headerKeys![i]!)
      at = writeBytes(buf, at, headers![i]!.value)
    }
    this.position = at
    this.count++
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp
  }

  /** The finished batch (baseOffset 0, CreateTime). The builder must not be appended to afterwards. */
  async build(compression: CompressionType, fields: BatchProducerFields): Promise<Buffer> {
    let batch: Buffer
    if (compression === CompressionType.None) {
      batch = this.buf.subarray(0, this.position)
    } else {
      const compressed = await compress(compression, this.buf.subarray(RECORD_BATCH_OVERHEAD, this.position))
      batch = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + compressed.length)
      compressed.copy(batch, RECORD_BATCH_OVERHEAD)
    }
    writeBatchHeader(batch, 0, batch.length - LOG_OVERHEAD, {
      attributes: batchAttributes(compression, TimestampType.CreateTime, fields.isTransactional ?? false, false),
      baseOffset: 0,
      baseSequence: fields.baseSequence,
      baseTimestamp: this.baseTimestamp,
      lastOffsetDelta: Math.max(0, this.count - 1),
      maxTimestamp: this.maxTimestamp,
      partitionLeaderEpoch: -1,
      producerEpoch: fields.producerEpoch,
      producerId: fields.producerId,
      recordCount: this.count,
    })
    return batch
  }

  private grow(needed: number): void {
    // x4: a 1 MB batch is copied twice while it grows (64 KiB -> 256 KiB -> 1 MiB), not five times.
    let capacity = this.buf.length * 4
    while (capacity < needed) capacity *= 4
    const next = take(capacity)
    this.buf.copy(next, 0, 0, this.position)
    const old = this.buf
    this.buf = next
    const list = pool.get(old.length) ?? []
    if (list.length < POOL_PER_SIZE) list.push(old)
    pool.set(old.length, list)
  }
}

const EMPTY = Buffer.alloc(0)

function writeBytes(buf: Buffer, at: number, bytes: Buffer | null): number {
  if (bytes === null) return writeVarint(buf, at, -1)
  at = writeVarint(buf, at, bytes.length)
  return at + bytes.copy(buf, at)
}
