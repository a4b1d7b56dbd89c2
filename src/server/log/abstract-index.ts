/**
 * AbstractIndex: the shared machinery of the offset index and the time index
 * (Kafka's AbstractIndex): a file of fixed-size big-endian entries, sorted,
 * searched by binary search.
 *
 * Kafka mmaps a preallocated file; here the entries live in a growable buffer
 * in memory and the file holds exactly `entries * entrySize` bytes once
 * flushed (Kafka trims its files to the same size on close, and reads a file
 * of either shape). Indexes are derived data: recovery rebuilds them from the
 * .log, so the file is only written and fsynced when the segment becomes
 * inactive (roll), on clean shutdown, and after truncation; an unflushed index
 * only ever belongs to a segment that recovery re-scans. A flush with sync
 * fsyncs only a file written or truncated since its last fsync: an index
 * loaded and left alone costs nothing on close. A new partition's first
 * segment has no index files until its first flush (initNew()).
 *
 * Not safe for concurrent mutation; the owning segment serializes writes.
 * Lookups are synchronous and may interleave with appends freely.
 */

import type {FileSystem} from './fs.js'
import {isNotFound, renameIfExists, unlinkIfExists, writeFully} from './fs.js'

/** Shared by every empty index: nothing writes into a zero-length buffer (reserve() allocates). */
const EMPTY = Buffer.alloc(0)

export class CorruptIndexError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${message} (index file ${path})`)
    this.name = 'CorruptIndexError'
  }
}

export abstract class AbstractIndex {
  protected buf: Buffer = EMPTY
  protected count = 0
  /** Entries known to be in the file; entries past this are written on flush. */
  private persisted = 0
  /** The file may hold entries we dropped (truncation); rewrite its length on flush. */
  private fileNeedsTruncate = false
  /** The file was written or truncated since its last fsync. */
  private unsynced = false
  /** False for a new segment's index until its first flush creates the file. */
  private fileCreated = true
  private loadedFlag = false
  /** The last load() found no file. */
  missing = false
  readonly maxEntries: number

  constructor(
    protected readonly fs: FileSystem,
    public path: string,
    readonly baseOffset: number,
    maxIndexSize: number,
    readonly entrySize: number,
  ) {
    this.maxEntries = Math.max(1, Math.floor(maxIndexSize / entrySize))
  }

  get entries(): number {
    return this.count
  }

  get loaded(): boolean {
    return this.loadedFlag
  }

  get sizeInBytes(): number {
    return this.count * this.entrySize
  }

  isFull(): boolean {
    return this.count >= this.maxEntries
  }

  /** Marks the index as freshly created (no file contents to read). */
  initEmpty(): void {
    this.buf = EMPTY
    this.count = 0
    this.persisted = 0
    this.fileNeedsTruncate = true
    this.loadedFlag = true
  }

  /**
   * An empty index whose file does not exist yet (a new partition's first
   * segment): nothing is read or written now; the next flush creates the file.
   */
  initNew(): void {
    this.buf = EMPTY
    this.count = 0
    this.persisted = 0
    this.fileNeedsTruncate = false
    this.fileCreated = false
    this.loadedFlag = true
  }

  /**
   * Reads the file. A missing file is an empty index; a length that is not a
   * multiple of the entry size throws CorruptIndexError, as do entries that
   * fail sanityCheck(logSize).
   */
  async load(logSize: number): Promise<void> {
    let data: Buffer
    this.missing = false
    try {
      data = await this.fs.readFile(this.path)
    } catch (error) {
      if (!isNotFound(error)) throw error
      data = Buffer.alloc(0)
      this.missing = true
    }
    if (data.length % this.entrySize !== 0) {
      throw new CorruptIndexError(`Index file size ${data.length} is not a multiple of ${this.entrySize}`, this.path)
    }
    this.buf = data
    this.count = data.length / this.entrySize
    this.persisted = this.count
    this.fileNeedsTruncate = false
    if (this.count > this.maxEntries) {
      throw new CorruptIndexError(`Index has ${this.count} entries, more than the maximum ${this.maxEntries}`, this.path)
    }
    this.sanityCheck(logSize)
    this.loadedFlag = true
  }

  /** Throws CorruptIndexError if the loaded entries are not sorted or point outside the log. */
  protected abstract sanityCheck(logSize: number): void

  /** Frees the in-memory entries if they are all on disk (LRU eviction); the next use reloads. */
  canUnload(): boolean {
    // Small indexes are not worth a reload; only free the ones that hold real memory.
    return this.loadedFlag && this.persisted === this.count && !this.fileNeedsTruncate && this.buf.length >= 16 * 1024
  }

  unload(): boolean {
    if (!this.canUnload()) return false
    this.buf = EMPTY
    this.loadedFlag = false
    return true
  }

  protected reserve(): number {
    const position = this.count * this.entrySize
    if (position + this.entrySize > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.entrySize * 64, this.buf.length * 2))
      this.buf.copy(grown, 0, 0, position)
      this.buf = grown
    }
    this.count++
    return position
  }

  protected relativeOffset(offset: number): number {
    const relative = offset - this.baseOffset
    if (relative < 0 || relative > 0x7fffffff) {
      throw new RangeError(`Offset ${offset} is not within int32 range of base offset ${this.baseOffset}`)
    }
    return relative
  }

  /** Drops every entry at index >= n. */
  truncateToEntries(n: number): void {
    if (n >= this.count) return
    this.count = n
    if (this.persisted > n) {
      this.persisted = n
      this.fileNeedsTruncate = true
    }
  }

  reset(): void {
    this.truncateToEntries(0)
    this.fileNeedsTruncate = true
  }

  /**
   * Largest entry index i with key(i) <= target, or -1. `key` reads entry i.
   * O(log n).
   */
  protected floorEntry(target: number, key: (i: number) => number): number {
    let lo = 0
    let hi = this.count - 1
    if (hi < 0 || key(0) > target) return -1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (key(mid) <= target) lo = mid
      else hi = mid - 1
    }
    return lo
  }

  /** Writes unpersisted entries (and a shorter length after truncation) to the file; fsyncs if asked. */
  async flush(sync: boolean): Promise<void> {
    if (!this.loadedFlag) return
    const write = this.persisted !== this.count || this.fileNeedsTruncate || !this.fileCreated
    if (!write && !(sync && this.unsynced)) return
    const handle = await this.fs.open(this.path, 'readWrite')
    try {
      if (this.fileNeedsTruncate) await handle.truncate(this.persisted * this.entrySize)
      const from = this.persisted * this.entrySize
      const to = this.count * this.entrySize
      if (to > from) await writeFully(handle, this.buf, from, from, to - from)
      this.persisted = this.count
      this.fileNeedsTruncate = false
      this.fileCreated = true
      if (write) this.unsynced = true
      if (sync) {
        await handle.sync()
        this.unsynced = false
      }
    } finally {
      await handle.close()
    }
  }

  async renameTo(path: string): Promise<void> {
    await renameIfExists(this.fs, this.path, path)
    this.path = path
  }

  async deleteIfExists(): Promise<void> {
    await unlinkIfExists(this.fs, this.path)
  }
}
