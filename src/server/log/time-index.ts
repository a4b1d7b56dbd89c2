/**
 * TimeIndex: the sparse `.timeindex` file of a segment (Kafka's TimeIndex).
 *
 * On disk: a sequence of 12-byte entries, big-endian
 *   int64 timestamp       (the largest batch maxTimestamp seen so far in the segment)
 *   int32 relativeOffset  (the last offset of the batch that carried it, minus base offset)
 * Timestamps strictly increase: an entry is only added when the segment's max
 * timestamp grew. Written alongside the offset index, plus one final entry
 * when the segment becomes inactive, so the last entry is the segment's
 * largest timestamp (used by retention.ms and ListOffsets max-timestamp).
 *
 * Concurrency: see AbstractIndex.
 */

import {AbstractIndex, CorruptIndexError} from './abstract-index.js'
import type {FileSystem} from './fs.js'
import {readInt64, writeInt64} from '../../lib/records/big-endian.js'

export const TIME_INDEX_ENTRY_SIZE = 12

export interface TimestampOffset {
  timestamp: number
  offset: number
}

export class TimeIndex extends AbstractIndex {
  constructor(fs: FileSystem, path: string, baseOffset: number, maxIndexSize: number) {
    super(fs, path, baseOffset, maxIndexSize, TIME_INDEX_ENTRY_SIZE)
  }

  entry(i: number): TimestampOffset {
    return {timestamp: readInt64(this.buf, i * 12), offset: this.baseOffset + this.buf.readInt32BE(i * 12 + 8)}
  }

  /** The last entry, or (-1, baseOffset) when empty. */
  lastEntry(): TimestampOffset {
    return this.count === 0 ? {timestamp: -1, offset: this.baseOffset} : this.entry(this.count - 1)
  }

  /**
   * Appends (timestamp, offset) if timestamp is larger than the last entry's.
   * With skipFullCheck the final entry on roll may use the last slot.
   */
  maybeAppend(timestamp: number, offset: number, skipFullCheck = false): void {
    if (!skipFullCheck && this.isFull()) throw new RangeError(`Time index ${this.path} is full`)
    if (this.count > 0) {
      const last = this.lastEntry()
      if (timestamp <= last.timestamp) return
      if (offset < last.offset) {
        throw new RangeError(`Time index append of offset ${offset} after offset ${last.offset}`)
      }
    }
    if (this.count >= this.maxEntries) return // full even for the final entry: keep what we have
    const relative = this.relativeOffset(offset)
    const at = this.reserve()
    writeInt64(this.buf, at, timestamp)
    this.buf.writeInt32BE(relative, at + 8)
  }

  /** The entry with the largest timestamp <= target, or (-1, baseOffset). */
  lookup(targetTimestamp: number): TimestampOffset {
    const i = this.floorEntry(targetTimestamp, (k) => readInt64(this.buf, k * 12))
    return i < 0 ? {timestamp: -1, offset: this.baseOffset} : this.entry(i)
  }

  /** Removes entries with offset >= `offset`. */
  truncateTo(offset: number): void {
    const i = this.floorEntry(offset - this.baseOffset - 1, (k) => this.buf.readInt32BE(k * 12 + 8))
    this.truncateToEntries(i + 1)
  }

  protected sanityCheck(): void {
    let lastTimestamp = -Infinity
    let lastOffset = -1
    for (let i = 0; i < this.count; i++) {
      const timestamp = readInt64(this.buf, i * 12)
      const relative = this.buf.readInt32BE(i * 12 + 8)
      if (!(timestamp > lastTimestamp) || relative < lastOffset || relative < 0) {
        throw new CorruptIndexError(`Corrupt time index entry ${i}: timestamp ${timestamp}, relative offset ${relative}`, this.path)
      }
      lastTimestamp = timestamp
      lastOffset = relative
    }
  }
}
