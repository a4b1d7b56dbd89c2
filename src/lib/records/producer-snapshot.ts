/**
 * The `.snapshot` files of a partition directory: the state of its idempotent and transactional
 * producers after every batch below the offset in the file name (Kafka's ProducerStateManager,
 * version 1, big-endian). Written and read by the broker (src/server/log/producer-state.ts),
 * decoded offline by `kcli log dump`.
 *   int16  version = 1
 *   uint32 crc     CRC-32C of everything after this field
 *   int32  count
 *   count x { int64 producer_id, int16 epoch, int32 last_sequence,
 *             int64 last_offset, int32 offset_delta (lastSeq - firstSeq of the
 *             last batch), int64 timestamp, int32 coordinator_epoch,
 *             int64 current_txn_first_offset (-1 if none) }
 */

import {crc32c} from '@node-rs/crc32'

import {readInt64, writeInt64} from './big-endian.js'

export const SNAPSHOT_SUFFIX = '.snapshot'
const SNAPSHOT_VERSION = 1
const ENTRY_SIZE = 46
const HEADER_SIZE = 10
/** Kafka keeps this many batches per producer for duplicate detection. */
export const NUM_BATCHES_TO_RETAIN = 5

export interface BatchMetadata {
  firstSeq: number
  lastSeq: number
  firstOffset: number
  lastOffset: number
  timestamp: number
}

export interface ProducerStateEntry {
  producerId: number
  producerEpoch: number
  coordinatorEpoch: number
  lastTimestamp: number
  /** First offset of the open transaction, -1 if none. */
  currentTxnFirstOffset: number
  /** Oldest first; at most NUM_BATCHES_TO_RETAIN. */
  batches: BatchMetadata[]
}

export class CorruptSnapshotError extends Error {}

export function encodeSnapshot(entries: Iterable<ProducerStateEntry>): Buffer {
  const list = [...entries].filter((e) => e.batches.length > 0 || e.currentTxnFirstOffset >= 0)
  const buf = Buffer.alloc(HEADER_SIZE + list.length * ENTRY_SIZE)
  buf.writeInt16BE(SNAPSHOT_VERSION, 0)
  buf.writeInt32BE(list.length, 6)
  let at = HEADER_SIZE
  for (const e of list) {
    const last = e.batches[e.batches.length - 1]
    writeInt64(buf, at, e.producerId)
    buf.writeInt16BE(e.producerEpoch, at + 8)
    buf.writeInt32BE(last ? last.lastSeq : -1, at + 10)
    writeInt64(buf, at + 14, last ? last.lastOffset : -1)
    buf.writeInt32BE(last ? last.lastSeq - last.firstSeq : 0, at + 22)
    writeInt64(buf, at + 26, e.lastTimestamp)
    buf.writeInt32BE(e.coordinatorEpoch, at + 34)
    writeInt64(buf, at + 38, e.currentTxnFirstOffset)
    at += ENTRY_SIZE
  }
  buf.writeUInt32BE(crc32c(buf.subarray(6)), 2)
  return buf
}

export function decodeSnapshot(buf: Buffer): ProducerStateEntry[] {
  if (buf.length < HEADER_SIZE) throw new CorruptSnapshotError(`Snapshot of ${buf.length} bytes is too short`)
  const version = buf.readInt16BE(0)
  if (version !== SNAPSHOT_VERSION) throw new CorruptSnapshotError(`Unsupported snapshot version ${version}`)
  const crc = buf.readUInt32BE(2)
  if (crc32c(buf.subarray(6)) !== crc) throw new CorruptSnapshotError('Snapshot CRC mismatch')
  const count = buf.readInt32BE(6)
  if (count < 0 || buf.length !== HEADER_SIZE + count * ENTRY_SIZE) {
    throw new CorruptSnapshotError(`Snapshot length ${buf.length} does not match ${count} entries`)
  }
  const entries: ProducerStateEntry[] = []
  for (let i = 0, at = HEADER_SIZE; i < count; i++, at += ENTRY_SIZE) {
    const producerId = readInt64(buf, at)
    const lastSeq = buf.readInt32BE(at + 10)
    const lastOffset = readInt64(buf, at + 14)
    const offsetDelta = buf.readInt32BE(at + 22)
    const timestamp = readInt64(buf, at + 26)
    const currentTxnFirstOffset = readInt64(buf, at + 38)
    if ([producerId, lastOffset, timestamp, currentTxnFirstOffset].some((n) => Number.isNaN(n))) {
      throw new CorruptSnapshotError(`Snapshot entry ${i} has an out-of-range int64`)
    }
    entries.push({
      producerId,
      producerEpoch: buf.readInt16BE(at + 8),
      coordinatorEpoch: buf.readInt32BE(at + 34),
      lastTimestamp: timestamp,
      currentTxnFirstOffset,
      batches:
        lastOffset >= 0
          ? [{firstSeq: lastSeq - offsetDelta, lastSeq, firstOffset: lastOffset - offsetDelta, lastOffset, timestamp}]
          : [],
    })
  }
  return entries
}
