// Offline decoding of a partition's files in Kafka's on-disk layout, for `kcli log dump` (what
// kafka-dump-log.sh prints):
//
// - NNNNNNNNNNNNNNNNNNNN.log: RecordBatch v2 batches back to back (src/lib/records). Read one
//   batch at a time, so a 1 GiB segment needs no 1 GiB buffer; a torn or corrupt tail is reported
//   with its position, as recovery would find it.
// - .index (offset index): 8-byte entries, int32 offset relative to the segment's base offset,
//   int32 byte position in the .log.
// - .timeindex: 12-byte entries, int64 timestamp, int32 relative offset.
// - .snapshot: the producer state after every batch below the offset in the name
//   (src/lib/records/producer-snapshot.ts), CRC-checked.
// - .txnindex: the aborted transactions whose ABORT marker is in the segment
//   (src/lib/records/aborted-transactions.ts).
// The base offset is the file name. Index files may be preallocated: entries after the last
// written one are zero and are not shown (an all-zero entry after the first ends the index).

import {closeSync, fstatSync, openSync, readSync} from 'node:fs'
import {basename} from 'node:path'

import {CONTROL_FLAG_MASK, CorruptRecordError, LOG_OVERHEAD, readBatchHeader, RECORD_BATCH_OVERHEAD, validateBatch} from '../records/batch.js'
import {ABORTED_TXN_ENTRY_SIZE, type AbortedTxn, decodeAbortedTxns} from '../records/aborted-transactions.js'
import {codecName} from '../records/compression.js'
import {decodeSnapshot} from '../records/producer-snapshot.js'
import {decodeRecordBatch} from '../records/record.js'
import {describeBytes} from './encoding.js'

export type SegmentFileType = 'index' | 'log' | 'snapshot' | 'timeindex' | 'txnindex'

/** A producer of a .snapshot file, with kafka-dump-log's field names. */
export interface DumpedProducer {
  producerId: number
  producerEpoch: number
  coordinatorEpoch: number
  currentTxnFirstOffset: number
  lastTimestamp: number
  firstSequence: number
  lastSequence: number
  lastOffset: number
  offsetDelta: number
}

export interface DumpedRecord {
  offset: number
  timestamp: number
  keySize: number
  valueSize: number
  sequence: number
  headerKeys: string[]
  key?: unknown
  value?: unknown
}

export interface DumpedBatch {
  baseOffset: number
  lastOffset: number
  count: number
  baseSequence: number
  lastSequence: number
  producerId: number
  producerEpoch: number
  partitionLeaderEpoch: number
  isTransactional: boolean
  isControl: boolean
  position: number
  timestampType: 'CreateTime' | 'LogAppendTime'
  maxTimestamp: number
  size: number
  magic: number
  compression: string
  crc: number
  isValid: boolean
  records?: DumpedRecord[]
}

export interface DumpedFile {
  path: string
  type: SegmentFileType
  baseOffset: number
  batches?: DumpedBatch[]
  /** .index: offset and position; .timeindex: timestamp and offset. */
  entries?: {offset: number; position?: number; timestamp?: number}[]
  /** .snapshot */
  producers?: DumpedProducer[]
  /** .txnindex */
  abortedTransactions?: AbortedTxn[]
  /** Bytes that do not decode (a torn tail, corruption): where and why. */
  error?: {position: number; message: string}
}

export interface DumpOptions {
  /** Decode the records of each batch (kafka-dump-log --deep-iteration). */
  records?: boolean
  /** With records: keys and values too (--print-data-log); text, or base64 when not UTF-8. */
  payloads?: boolean
  /** Stop after this many batches / entries. */
  limit?: number
}

export function fileType(path: string): SegmentFileType | undefined {
  const m = /\.(log|index|timeindex|snapshot|txnindex)$/.exec(path)
  return m ? (m[1] as SegmentFileType) : undefined
}

export function baseOffsetOf(path: string): number {
  const m = /^(\d{20})\./.exec(basename(path))
  return m ? Number(m[1]) : 0
}

export async function dumpFile(path: string, options: DumpOptions = {}): Promise<DumpedFile> {
  const type = fileType(path)
  if (!type) throw new Error(`${path}: not a .log, .index, .timeindex, .snapshot or .txnindex file`)
  const fd = openSync(path, 'r')
  try {
    if (type === 'log') return await dumpLog(fd, path, options)
    if (type === 'snapshot') return dumpSnapshot(fd, path)
    if (type === 'txnindex') return dumpTxnIndex(fd, path, options)
    return dumpIndex(fd, path, type, options)
  } finally {
    closeSync(fd)
  }
}

async function dumpLog(fd: number, path: string, options: DumpOptions): Promise<DumpedFile> {
  const size = fstatSync(fd).size
  const file: DumpedFile = {baseOffset: baseOffsetOf(path), batches: [], path, type: 'log'}
  const limit = options.limit ?? Number.POSITIVE_INFINITY
  let position = 0
  while (position < size && file.batches!.length < limit) {
    if (size - position < LOG_OVERHEAD) {
      file.error = {message: `${size - position} bytes after the last batch (a torn write)`, position}
      break
    }
    const head = Buffer.alloc(Math.min(RECORD_BATCH_OVERHEAD, size - position))
    readSync(fd, head, 0, head.length, position)
    const batchLength = head.readInt32BE(8)
    const total = batchLength + LOG_OVERHEAD
    if (batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD || position + total > size) {
      file.error = {message: position + total > size ? `batch of ${total} bytes runs past the end of the file (${size - position} left): a torn write` : `invalid batch length ${batchLength}`, position}
      break
    }
    const buf = Buffer.allocUnsafe(total)
    readSync(fd, buf, 0, total, position)
    let header
    try {
      header = readBatchHeader(buf, 0)
    } catch (error) {
      file.error = {message: (error as Error).message, position}
      break
    }
    let isValid = true
    try {
      validateBatch(buf, 0)
    } catch (error) {
      if (!(error instanceof CorruptRecordError)) throw error
      isValid = false
    }
    const batch: DumpedBatch = {
      baseOffset: header.baseOffset,
      lastOffset: header.lastOffset,
      count: header.recordCount,
      baseSequence: header.baseSequence,
      lastSequence: header.baseSequence < 0 ? -1 : header.baseSequence + header.lastOffsetDelta,
      producerId: header.producerId,
      producerEpoch: header.producerEpoch,
      partitionLeaderEpoch: header.partitionLeaderEpoch,
      isTransactional: header.isTransactional,
      isControl: (header.attributes & CONTROL_FLAG_MASK) !== 0,
      position,
      timestampType: header.timestampType === 1 ? 'LogAppendTime' : 'CreateTime',
      maxTimestamp: header.maxTimestamp,
      size: total,
      magic: header.magic,
      compression: codecName(header.compression),
      crc: header.crc,
      isValid,
    }
    if (options.records && isValid) {
      const decoded = await decodeRecordBatch(buf, 0)
      batch.records = decoded.records.map((r) => {
        const record: DumpedRecord = {
          offset: r.offset,
          timestamp: r.timestamp,
          keySize: r.key === null ? -1 : r.key.length,
          valueSize: r.value === null ? -1 : r.value.length,
          sequence: header.baseSequence < 0 ? -1 : header.baseSequence + (r.offset - header.baseOffset),
          headerKeys: r.headers.map((h) => h.key),
        }
        if (options.payloads) {
          record.key = describeBytes(r.key, 'text').value
          record.value = describeBytes(r.value, 'text').value
        }
        return record
      })
    }
    file.batches!.push(batch)
    position += total
  }
  return file
}

function dumpIndex(fd: number, path: string, type: 'index' | 'timeindex', options: DumpOptions): DumpedFile {
  const size = fstatSync(fd).size
  const entrySize = type === 'index' ? 8 : 12
  const data = Buffer.alloc(size)
  readSync(fd, data, 0, size, 0)
  const baseOffset = baseOffsetOf(path)
  const file: DumpedFile = {baseOffset, entries: [], path, type}
  const limit = options.limit ?? Number.POSITIVE_INFINITY
  for (let at = 0; at + entrySize <= data.length && file.entries!.length < limit; at += entrySize) {
    if (type === 'index') {
      const relative = data.readInt32BE(at)
      const position = data.readInt32BE(at + 4)
      if (at > 0 && relative === 0 && position === 0) break
      file.entries!.push({offset: baseOffset + relative, position})
    } else {
      const timestamp = Number(data.readBigInt64BE(at))
      const relative = data.readInt32BE(at + 8)
      if (at > 0 && timestamp === 0 && relative === 0) break
      file.entries!.push({offset: baseOffset + relative, timestamp})
    }
  }
  if (data.length % entrySize !== 0 && file.entries!.length < limit) {
    file.error = {message: `file size ${data.length} is not a multiple of the ${entrySize}-byte entry size`, position: data.length - (data.length % entrySize)}
  }
  return file
}

function readAll(fd: number): Buffer {
  const data = Buffer.alloc(fstatSync(fd).size)
  readSync(fd, data, 0, data.length, 0)
  return data
}

function dumpSnapshot(fd: number, path: string): DumpedFile {
  const file: DumpedFile = {baseOffset: baseOffsetOf(path), path, producers: [], type: 'snapshot'}
  try {
    file.producers = decodeSnapshot(readAll(fd)).map((e) => {
      const last = e.batches.at(-1)
      return {
        producerId: e.producerId,
        producerEpoch: e.producerEpoch,
        coordinatorEpoch: e.coordinatorEpoch,
        currentTxnFirstOffset: e.currentTxnFirstOffset,
        lastTimestamp: e.lastTimestamp,
        firstSequence: last?.firstSeq ?? -1,
        lastSequence: last?.lastSeq ?? -1,
        lastOffset: last?.lastOffset ?? -1,
        offsetDelta: last ? last.lastSeq - last.firstSeq : 0,
      }
    })
  } catch (error) {
    file.error = {message: (error as Error).message, position: 0}
  }
  return file
}

function dumpTxnIndex(fd: number, path: string, options: DumpOptions): DumpedFile {
  const data = readAll(fd)
  const file: DumpedFile = {abortedTransactions: [], baseOffset: baseOffsetOf(path), path, type: 'txnindex'}
  try {
    file.abortedTransactions = decodeAbortedTxns(data, path).slice(0, options.limit ?? Number.POSITIVE_INFINITY)
  } catch (error) {
    file.error = {message: (error as Error).message, position: 0}
    return file
  }
  if (data.length % ABORTED_TXN_ENTRY_SIZE !== 0) {
    file.error = {message: `file size ${data.length} is not a multiple of the ${ABORTED_TXN_ENTRY_SIZE}-byte entry size`, position: data.length - (data.length % ABORTED_TXN_ENTRY_SIZE)}
  }
  return file
}
