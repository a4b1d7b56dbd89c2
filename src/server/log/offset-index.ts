/**
 * OffsetIndex: the sparse `.index` file of a segment (Kafka's OffsetIndex).
 *
 * On disk: a sequence of 8-byte entries, big-endian
 *   int32 relativeOffset  (offset - segment base offset)
 *   int32 position        (byte position of a batch in the .log file)
 * sorted by offset. One entry is added when more than index.interval.bytes
 * have been appended since the previous entry, keyed by the LAST offset of
 * the batch that starts at `position` (as Kafka 2.x+ does). So for a target
 * offset, lookup() gives a position at or before the batch holding it, and a
 * short forward scan of batch headers finds it.
 *
 * Concurrency: see AbstractIndex.
 */

import {AbstractIndex, CorruptIndexError} from './abstract-index.js'
import type {FileSystem} from './fs.js'

export const OFFSET_INDEX_ENTRY_SIZE = 8

export interface OffsetPosition {
  offset: number
  position: number
}

export class OffsetIndex extends AbstractIndex {
  constructor(fs: FileSystem, path: string, baseOffset: number, maxIndexSize: number) {
    super(fs, path, baseOffset, maxIndexSize, OFFSET_INDEX_ENTRY_SIZE)
  }

  entry(i: number): OffsetPosition {
    return {offset: this.baseOffset + this.buf.readInt32BE(i * 8), position: this.buf.readInt32BE(i * 8 + 4)}
  }

  lastEntry(): OffsetPosition {
    return this.count === 0 ? {offset: this.baseOffset, position: 0} : this.entry(this.count - 1)
  }

  /** Appends (offset, position); offsets and positions must increase. */
  append(offset: number, position: number): void {
    if (this.count > 0) {
      const last = this.lastEntry()
      if (offset <= last.offset || position <= last.position) {
        throw new RangeError(`Offset index append of (${offset}, ${position}) after (${last.offset}, ${last.position})`)
      }
    }
    if (this.isFull()) throw new RangeError(`Offset index ${this.path} is full`)
    const relative = this.relativeOffset(offset)
    const at = this.reserve()
    this.buf.writeInt32BE(relative, at)
    this.buf.writeInt32BE(position, at + 4)
  }

  /** The entry with the largest offset <= target, or (baseOffset, 0). */
  lookup(targetOffset: number): OffsetPosition {
    const target = targetOffset - this.baseOffset
    const i = this.floorEntry(target, (k) => this.buf.readInt32BE(k * 8))
    return i < 0 ? {offset: this.baseOffset, position: 0} : this.entry(i)
  }

  /** Removes entries with offset >= `offset`. */
  truncateTo(offset: number): void {
    const i = this.floorEntry(offset - this.baseOffset - 1, (k) => this.buf.readInt32BE(k * 8))
    this.truncateToEntries(i + 1)
  }

  /** Removes entries whose position is >= `position` (recovery cut the log there). */
  truncateToPosition(position: number): void {
    const i = this.floorEntry(position - 1, (k) => this.buf.readInt32BE(k * 8 + 4))
    this.truncateToEntries(i + 1)
  }

  protected sanityCheck(logSize: number): void {
    let lastOffset = -1
    let lastPosition = -1
    for (let i = 0; i < this.count; i++) {
      const relative = this.buf.readInt32BE(i * 8)
      const position = this.buf.readInt32BE(i * 8 + 4)
      if (relative <= lastOffset || position <= lastPosition || position >= logSize) {
        throw new CorruptIndexError(
          `Corrupt offset index entry ${i}: relative offset ${relative}, position ${position} (log size ${logSize})`,
          this.path,
        )
      }
      lastOffset = relative
      lastPosition = position
    }
  }
}
