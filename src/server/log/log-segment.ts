/**
 * LogSegment: one `.log` file of RecordBatch v2 bytes plus its `.index` and
 * `.timeindex` (Kafka's LogSegment). Files are named by the segment's base
 * offset, 20 digits: 00000000000000008190.log.
 *
 * The `.log` holds batches back to back, exactly as Kafka stores them (and as
 * producers send them, with baseOffset and partitionLeaderEpoch patched). The
 * segment never decodes records: it walks batch headers (61 bytes each).
 * Offsets within a segment are at most base + 2^31 - 1 (indexes store int32
 * relative offsets); the log rolls before that.
 *
 * Size bookkeeping: `size` is the logical end of the log, the end of the last
 * batch fully written. Bytes past it (a failed or torn write) are overwritten
 * by the next append (writes are positional) or cut by truncate/recovery.
 *
 * Indexes: the active segment's indexes live in memory and are written to
 * disk when the segment becomes inactive (roll) and on close; recovery
 * rebuilds them for every segment from the recovery point on. Inactive
 * segments load their indexes lazily on first lookup, and drop them again
 * when the FileHandleCache closes the segment's file.
 *
 * The first segment of a new partition creates no file until it is written
 * (`create(..., fresh)`): its `.log` appears with the first append, its
 * indexes with the first flush after that. Creating a partition then costs
 * its directory and partition.metadata only (a file create costs 0.1-0.3 ms
 * of kernel time on the benchmark machine: three more per partition was most
 * of creating 2,000 of them), and an empty partition is closed and reopened
 * without touching its segment.
 *
 * Concurrency: single writer (append, truncateTo, recover, flush, close are
 * serialized by PartitionLog). Reads (read, translateOffset,
 * findOffsetByTimestamp) may run concurrently with an append; they only see
 * bytes below the `size` they started with.
 */

import {
  CorruptRecordError,
  RECORD_BATCH_OVERHEAD,
  readBatchHeader,
  validateBatch,
  type RecordBatchHeader,
} from '../../lib/records/batch.js'
import {CorruptIndexError} from './abstract-index.js'
import {CachedFile, type FileHandleCache} from './file-handle-cache.js'
import type {FileSystem} from './fs.js'
import {isNotFound, readAt, unlinkIfExists, writeFully} from './fs.js'
import {logFile, offsetIndexFile, timeIndexFile, txnIndexFile} from './log-files.js'
import {OffsetIndex} from './offset-index.js'
import {TimeIndex} from './time-index.js'
import {TransactionIndex} from './transaction-index.js'

const SCAN_CHUNK = 64 * 1024
const RECOVERY_CHUNK = 1024 * 1024
const MAX_RELATIVE_OFFSET = 0x7fffffff
/** Positions where reads ended, kept per segment (see LogSegment.readEnds). */
const MAX_READ_ENDS = 32

export interface SegmentConfig {
  indexIntervalBytes: number
  segmentIndexBytes: number
}

/** A batch located in a segment by its headers. */
export interface BatchLocation {
  baseOffset: number
  lastOffset: number
  position: number
  size: number
  maxTimestamp: number
}

export interface SegmentReadResult {
  /** Whole batches, possibly none (then empty). */
  records: Buffer
  /** baseOffset of the first batch returned. */
  firstOffset: number
  /** Offset after the last batch returned. */
  nextOffset: number
  position: number
}

/** LogSegment state before an append, to roll it back. */
export interface AppendUndo {
  size: number
  nextOffsetKnown: number | undefined
  maxTimestampSoFar: number
  offsetOfMaxTimestampSoFar: number
  bytesSinceLastIndexEntry: number
  rollingBasedTimestamp: number | undefined
  offsetIndexEntries: number
  timeIndexEntries: number
}

export interface RecoveryResult {
  validBytes: number
  truncatedBytes: number
  nextOffset: number
  /** Why the scan stopped early, if it did. */
  reason?: string
}

export class LogSegment {
  readonly log: CachedFile
  readonly offsetIndex: OffsetIndex
  readonly timeIndex: TimeIndex
  /** Aborted transactions whose ABORT marker is in this segment (`.txnindex`). */
  readonly txnIndex: TransactionIndex
  private sizeBytes: number
  private flushedBytes: number
  private bytesSinceLastIndexEntry = 0
  private indexesReady = false
  private loadingIndexes: Promise<void> | undefined
  /** Largest batch maxTimestamp and the last offset of its batch; -1 until known. */
  maxTimestampSoFar = -1
  offsetOfMaxTimestampSoFar = -1
  /** maxTimestamp of the first batch (segment.ms counts from it), or the creation time when empty. */
  rollingBasedTimestamp: number | undefined
  /** Next offset after the last batch; undefined until scanned (inactive segments of a clean open). */
  nextOffsetKnown: number | undefined
  readonly created: number
  private unwrittenFlag = false
  /**
   * Where reads ended (next offset -> position of the batch after the last one returned), so that
   * a consumer or follower reading on from its previous fetch starts at that batch. The index
   * entry at or before an offset is keyed by the last offset of its batch, so without this every
   * sequential fetch started one batch early (a librdkafka batch is up to 1 MiB): its read window
   * no longer held the wanted batch, and the fetch read the window, scanned headers and read
   * again. Cleared (and `layoutVersion` bumped) whenever bytes below the size may change: truncation,
   * recovery, rollback; a read that started before such a change records nothing.
   */
  private readonly readEnds = new Map<number, number>()
  private layoutVersion = 0

  private constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    readonly baseOffset: number,
    private readonly config: SegmentConfig,
    cache: FileHandleCache,
    size: number,
    now: number,
    suffix: string,
  ) {
    this.log = new CachedFile(fs, logFile(dir, baseOffset, suffix), 'readWrite', cache)
    this.offsetIndex = new OffsetIndex(fs, offsetIndexFile(dir, baseOffset, suffix), baseOffset, config.segmentIndexBytes)
    this.timeIndex = new TimeIndex(fs, timeIndexFile(dir, baseOffset, suffix), baseOffset, config.segmentIndexBytes)
    this.txnIndex = new TransactionIndex(fs, txnIndexFile(dir, baseOffset, suffix))
    this.sizeBytes = size
    this.flushedBytes = size
    this.created = now
    this.log.onEvict = () => {
      // Give back index memory with the handle when the indexes are all on disk
      // (always true for inactive segments; the next lookup reloads them).
      if (this.indexesReady && !this.loadingIndexes && this.offsetIndex.canUnload() && this.timeIndex.canUnload()) {
        this.offsetIndex.unload()
        this.timeIndex.unload()
        this.indexesReady = false
      }
    }
  }

  /**
   * Creates a new empty segment (files truncated if left over from before).
   * With `fresh` the caller knows no file of this segment exists (a new
   * partition): no file is created until the first append (see `unwritten`).
   * Nothing is fsynced; the caller syncs the directory.
   */
  static async create(
    fs: FileSystem,
    dir: string,
    baseOffset: number,
    config: SegmentConfig,
    cache: FileHandleCache,
    now: number,
    suffix = '',
    fresh = false,
  ): Promise<LogSegment> {
    const segment = new LogSegment(fs, dir, baseOffset, config, cache, 0, now, suffix)
    if (fresh) {
      segment.offsetIndex.initNew()
      segment.timeIndex.initNew()
      segment.unwrittenFlag = true
    } else {
      await segment.log.use((h) => h.truncate(0))
      await segment.txnIndex.deleteIfExists()
      segment.offsetIndex.initEmpty()
      segment.timeIndex.initEmpty()
      await segment.offsetIndex.flush(false)
      await segment.timeIndex.flush(false)
    }
    segment.indexesReady = true
    segment.nextOffsetKnown = baseOffset
    segment.rollingBasedTimestamp = undefined
    return segment
  }

  /** An existing segment of `size` bytes; nothing is read until used. */
  static existing(
    fs: FileSystem,
    dir: string,
    baseOffset: number,
    config: SegmentConfig,
    cache: FileHandleCache,
    size: number,
    now: number,
  ): LogSegment {
    return new LogSegment(fs, dir, baseOffset, config, cache, size, now, '')
  }

  get size(): number {
    return this.sizeBytes
  }

  /** A fresh segment none of whose files exist yet; the next append creates its `.log`. */
  get unwritten(): boolean {
    return this.unwrittenFlag
  }

  /** Bytes appended but not yet fsynced. */
  get unflushedBytes(): number {
    return this.sizeBytes - this.flushedBytes
  }

  /** Loads both indexes if needed; a corrupt or inconsistent index is rebuilt from the log. */
  async ensureIndexes(): Promise<void> {
    if (this.indexesReady) return
    this.loadingIndexes ??= (async () => {
      try {
        await this.offsetIndex.load(this.sizeBytes)
        await this.timeIndex.load(this.sizeBytes)
        if (this.sizeBytes > 0 && (this.offsetIndex.missing || this.timeIndex.missing)) {
          throw new CorruptIndexError('Index file is missing', this.offsetIndex.path)
        }
        const lastTime = this.timeIndex.lastEntry()
        if (this.timeIndex.entries > 0 && this.nextOffsetKnown !== undefined && lastTime.offset >= this.nextOffsetKnown) {
          throw new CorruptIndexError('Time index points past the log end', this.timeIndex.path)
        }
      } catch (error) {
        if (!(error instanceof CorruptIndexError)) throw error
        await this.rebuildIndexes()
      }
      if (this.maxTimestampSoFar < 0 && this.timeIndex.entries > 0) {
        const last = this.timeIndex.lastEntry()
        this.maxTimestampSoFar = last.timestamp
        this.offsetOfMaxTimestampSoFar = last.offset
      }
      this.indexesReady = true
    })().finally(() => {
      this.loadingIndexes = undefined
    })
    await this.loadingIndexes
  }

  /** Rebuilds the indexes by scanning the batch headers (no truncation, no CRC check). */
  async rebuildIndexes(): Promise<void> {
    this.offsetIndex.initEmpty()
    this.timeIndex.initEmpty()
    this.maxTimestampSoFar = -1
    this.offsetOfMaxTimestampSoFar = -1
    this.bytesSinceLastIndexEntry = 0
    let next = this.baseOffset
    for await (const {position, header} of this.scanHeaders(0, this.sizeBytes)) {
      this.indexBatch(header, position)
      next = header.lastOffset + 1
    }
    this.nextOffsetKnown = next
    await this.offsetIndex.flush(false)
    await this.timeIndex.flush(false)
  }

  private indexBatch(header: RecordBatchHeader, position: number): void {
    if (header.maxTimestamp > this.maxTimestampSoFar) {
      this.maxTimestampSoFar = header.maxTimestamp
      this.offsetOfMaxTimestampSoFar = header.lastOffset
    }
    if (this.bytesSinceLastIndexEntry > this.config.indexIntervalBytes) {
      this.offsetIndex.append(header.lastOffset, position)
      this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar)
      this.bytesSinceLastIndexEntry = 0
    }
    this.bytesSinceLastIndexEntry += header.sizeInBytes
  }

  /**
   * Appends `buffer` (one or more whole batches, offsets already assigned,
   * `headers` their parsed headers in order) at the end of the log. On a
   * write failure nothing changes (the partial bytes past `size` are
   * overwritten or truncated later) and the error is rethrown.
   */
  async append(
    buffer: Buffer,
    headers: ReadonlyArray<{position: number; header: RecordBatchHeader}>,
  ): Promise<AppendUndo> {
    const start = this.sizeBytes
    await this.ensureIndexes()
    const undo: AppendUndo = {
      size: start,
      nextOffsetKnown: this.nextOffsetKnown,
      maxTimestampSoFar: this.maxTimestampSoFar,
      offsetOfMaxTimestampSoFar: this.offsetOfMaxTimestampSoFar,
      bytesSinceLastIndexEntry: this.bytesSinceLastIndexEntry,
      rollingBasedTimestamp: this.rollingBasedTimestamp,
      offsetIndexEntries: this.offsetIndex.entries,
      timeIndexEntries: this.timeIndex.entries,
    }
    await this.log.use((h) => writeFully(h, buffer, start))
    this.unwrittenFlag = false
    if (start === 0 && headers.length > 0) this.rollingBasedTimestamp = headers[0]!.header.maxTimestamp
    for (const {position, header} of headers) this.indexBatch(header, start + position)
    this.sizeBytes = start + buffer.length
    if (headers.length > 0) this.nextOffsetKnown = headers[headers.length - 1]!.header.lastOffset + 1
    return undo
  }

  /**
   * Undoes the last append (its fsync failed): restores the in-memory state and
   * cuts the file back, best effort (bytes past `size` are harmless anyway).
   */
  async rollback(undo: AppendUndo): Promise<void> {
    this.layoutChanged()
    this.sizeBytes = undo.size
    this.flushedBytes = Math.min(this.flushedBytes, undo.size)
    this.nextOffsetKnown = undo.nextOffsetKnown
    this.maxTimestampSoFar = undo.maxTimestampSoFar
    this.offsetOfMaxTimestampSoFar = undo.offsetOfMaxTimestampSoFar
    this.bytesSinceLastIndexEntry = undo.bytesSinceLastIndexEntry
    this.rollingBasedTimestamp = undo.rollingBasedTimestamp
    this.offsetIndex.truncateToEntries(undo.offsetIndexEntries)
    this.timeIndex.truncateToEntries(undo.timeIndexEntries)
    await this.discardTail().catch(() => undefined)
  }

  /** Best effort: drops bytes past the logical size left by a failed write. */
  async discardTail(): Promise<void> {
    await this.log.use((h) => h.truncate(this.sizeBytes))
  }

  /**
   * Reads `length` bytes at `position` (fewer at EOF). `allocate` gives the buffer (default
   * Buffer.allocUnsafe; a fetch takes it from a pool); `hot`: on the calling thread (fs.ts readAt).
   */
  async readBytes(position: number, length: number, allocate?: (size: number) => Buffer, hot = false): Promise<Buffer> {
    return this.log.use((h) => readAt(h, position, length, allocate, hot))
  }

  /**
   * Walks batch headers in [from, to): reads ahead SCAN_CHUNK bytes at a time.
   * Throws CorruptRecordError on a header that is not a v2 batch or a batch
   * that extends past `to`.
   */
  async *scanHeaders(from: number, to: number): AsyncGenerator<{position: number; header: RecordBatchHeader}> {
    let chunk: Buffer = Buffer.alloc(0)
    let chunkStart = from
    let position = from
    while (position < to) {
      if (position + RECORD_BATCH_OVERHEAD > chunkStart + chunk.length) {
        chunkStart = position
        chunk = await this.readBytes(position, Math.min(SCAN_CHUNK, to - position))
        if (chunk.length < RECORD_BATCH_OVERHEAD) {
          throw new CorruptRecordError(`Truncated batch header at position ${position} of ${this.log.path}`, position)
        }
      }
      const header = readBatchHeader(chunk, position - chunkStart)
      if (header.sizeInBytes < RECORD_BATCH_OVERHEAD || position + header.sizeInBytes > to) {
        throw new CorruptRecordError(`Batch of ${header.sizeInBytes} bytes at position ${position} of ${this.log.path} extends past ${to}`, position)
      }
      yield {position, header}
      position += header.sizeInBytes
    }
  }

  /**
   * The first batch whose last offset is >= `offset`, scanning from
   * `startingPosition` (an index lookup result), or undefined if none below `maxPosition`.
   */
  async translateOffset(offset: number, startingPosition = 0, maxPosition = this.sizeBytes): Promise<BatchLocation | undefined> {
    try {
      return await this.translateOffsetFrom(offset, startingPosition, maxPosition)
    } catch (error) {
      // An index entry that passed the sanity check but does not point at a batch
      // (a corrupted index file): rebuild the indexes from the log and scan again.
      if (!(error instanceof CorruptRecordError) || startingPosition === 0) throw error
      await this.rebuildIndexes()
      return this.translateOffsetFrom(offset, this.offsetIndex.lookup(offset).position, maxPosition)
    }
  }

  private async translateOffsetFrom(offset: number, startingPosition: number, maxPosition: number): Promise<BatchLocation | undefined> {
    for await (const {position, header} of this.scanHeaders(startingPosition, maxPosition)) {
      if (header.lastOffset >= offset) {
        return {
          baseOffset: header.baseOffset,
          lastOffset: header.lastOffset,
          position,
          size: header.sizeInBytes,
          maxTimestamp: header.maxTimestamp,
        }
      }
    }
    return undefined
  }

  /**
   * Reads whole batches starting with the one that holds `startOffset`,
   * at most `maxBytes` (but the first batch in full if minOneMessage), not
   * past `maxPosition`, stopping before the first batch whose base offset is
   * >= maxOffset. Undefined if no batch here holds an offset >= startOffset.
   */
  async read(
    startOffset: number,
    maxBytes: number,
    opts: {minOneMessage: boolean; maxOffset?: number; maxPosition?: number; allocate?: (size: number) => Buffer; hot?: boolean},
  ): Promise<SegmentReadResult | undefined> {
    const limit = Math.min(opts.maxPosition ?? this.sizeBytes, this.sizeBytes)
    await this.ensureIndexes()
    const version = this.layoutVersion
    const ended = this.readEnds.get(startOffset)
    const start = this.offsetIndex.lookup(startOffset)
    const from = ended !== undefined && ended >= start.position && ended <= limit ? ended : start.position
    const maxOffset = opts.maxOffset ?? Infinity
    const fast = await this.readOneShot(startOffset, maxBytes, from, limit, maxOffset, opts.minOneMessage, opts.allocate, opts.hot)
    if (fast) {
      this.noteReadEnd(version, startOffset, fast)
      return fast
    }
    const result = await this.readScanning(startOffset, maxBytes, start.position, limit, maxOffset, opts)
    if (result) this.noteReadEnd(version, startOffset, result)
    return result
  }

  private noteReadEnd(version: number, startOffset: number, result: SegmentReadResult): void {
    if (version !== this.layoutVersion || result.records.length === 0) return
    this.readEnds.delete(startOffset)
    // One entry per reader that keeps up (consumers, followers); a few stale ones are dropped oldest first.
    if (this.readEnds.size >= MAX_READ_ENDS) this.readEnds.delete(this.readEnds.keys().next().value!)
    this.readEnds.set(result.nextOffset, result.position + result.records.length)
  }

  /** Bytes below the size may change: forget where reads ended. */
  private layoutChanged(): void {
    this.layoutVersion++
    this.readEnds.clear()
  }

  /** read() when the one-shot window did not hold the first batch: scan headers from the index position, then read. */
  private async readScanning(
    startOffset: number,
    maxBytes: number,
    startPosition: number,
    limit: number,
    maxOffset: number,
    opts: {minOneMessage: boolean; allocate?: (size: number) => Buffer; hot?: boolean},
  ): Promise<SegmentReadResult | undefined> {
    const first = await this.translateOffset(startOffset, startPosition, limit)
    if (!first) return undefined
    if (first.baseOffset >= maxOffset) {
      return {records: Buffer.alloc(0), firstOffset: first.baseOffset, nextOffset: first.baseOffset, position: first.position}
    }
    const wanted = opts.minOneMessage ? Math.max(maxBytes, first.size) : maxBytes
    const length = Math.min(wanted, limit - first.position)
    const data = await this.readBytes(first.position, length, opts.allocate, opts.hot)
    let end = 0
    let nextOffset = first.baseOffset
    while (data.length - end >= RECORD_BATCH_OVERHEAD) {
      const header = readBatchHeader(data, end)
      if (header.baseOffset >= maxOffset || end + header.sizeInBytes > data.length) break
      end += header.sizeInBytes
      nextOffset = header.lastOffset + 1
    }
    return {records: data.subarray(0, end), firstOffset: first.baseOffset, nextOffset, position: first.position}
  }

  /**
   * The common case of read() in one pread: a window from the index position
   * that covers the scan to the target batch (at most about one index
   * interval) plus maxBytes; headers are walked in memory. Returns undefined
   * when the window does not hold the first batch whole (read() then scans
   * and reads separately). May return fewer than maxBytes even if more
   * batches follow; never a partial batch.
   */
  private async readOneShot(
    startOffset: number,
    maxBytes: number,
    from: number,
    limit: number,
    maxOffset: number,
    minOneMessage: boolean,
    allocate?: (size: number) => Buffer,
    hot?: boolean,
  ): Promise<SegmentReadResult | undefined> {
    const window = Math.min(limit - from, maxBytes + this.config.indexIntervalBytes + 2 * RECORD_BATCH_OVERHEAD)
    if (window < RECORD_BATCH_OVERHEAD) return undefined
    const data = await this.readBytes(from, window, allocate, hot)
    let at = 0
    let header: RecordBatchHeader | undefined
    try {
      while (data.length - at >= RECORD_BATCH_OVERHEAD) {
        const h = readBatchHeader(data, at)
        if (h.sizeInBytes < RECORD_BATCH_OVERHEAD) return undefined
        if (h.lastOffset >= startOffset) {
          header = h
          break
        }
        at += h.sizeInBytes
      }
    } catch (error) {
      if (error instanceof CorruptRecordError) return undefined // the slow path rebuilds a bad index
      throw error
    }
    if (!header || at + header.sizeInBytes > data.length) return undefined
    const position = from + at
    if (header.baseOffset >= maxOffset) return {records: Buffer.alloc(0), firstOffset: header.baseOffset, nextOffset: header.baseOffset, position}
    const wanted = minOneMessage ? Math.max(maxBytes, header.sizeInBytes) : maxBytes
    let end = at
    let nextOffset = header.baseOffset
    while (data.length - end >= RECORD_BATCH_OVERHEAD) {
      const h = end === at ? header : readBatchHeader(data, end)
      if (h.baseOffset >= maxOffset || end + h.sizeInBytes > data.length || end + h.sizeInBytes - at > wanted) break
      end += h.sizeInBytes
      nextOffset = h.lastOffset + 1
    }
    return {records: data.subarray(at, end), firstOffset: header.baseOffset, nextOffset, position}
  }

  /**
   * The first batch at or after `startingOffset` whose maxTimestamp is >= `timestamp`
   * (time index lookup, then a header scan).
   */
  async findOffsetByTimestamp(timestamp: number, startingOffset: number): Promise<BatchLocation | undefined> {
    await this.ensureIndexes()
    const entry = this.timeIndex.lookup(timestamp)
    const from = Math.max(entry.offset, startingOffset)
    const position = this.offsetIndex.lookup(from).position
    for await (const {position: at, header} of this.scanHeaders(position, this.sizeBytes)) {
      if (header.lastOffset >= startingOffset && header.maxTimestamp >= timestamp) {
        return {baseOffset: header.baseOffset, lastOffset: header.lastOffset, position: at, size: header.sizeInBytes, maxTimestamp: header.maxTimestamp}
      }
    }
    return undefined
  }

  /** The segment's largest batch timestamp (from the time index), or -1 if it has none. */
  async largestTimestamp(): Promise<number> {
    await this.ensureIndexes()
    return this.maxTimestampSoFar
  }

  /**
   * For the active segment of a cleanly shut down log: finds the next offset
   * by scanning from the last index entry, and the first batch's timestamp.
   * An empty segment reads nothing: its indexes load on first use (Kafka's
   * lazy indexes).
   */
  async loadActiveState(now: number): Promise<void> {
    if (this.sizeBytes === 0) {
      this.nextOffsetKnown = this.baseOffset
      this.bytesSinceLastIndexEntry = 0
      this.rollingBasedTimestamp = now
      return
    }
    await this.ensureIndexes()
    let next = this.baseOffset
    const last = this.offsetIndex.lastEntry()
    for await (const {header} of this.scanHeaders(last.position, this.sizeBytes)) {
      next = header.lastOffset + 1
      if (header.maxTimestamp > this.maxTimestampSoFar) {
        this.maxTimestampSoFar = header.maxTimestamp
        this.offsetOfMaxTimestampSoFar = header.lastOffset
      }
    }
    this.nextOffsetKnown = next
    this.bytesSinceLastIndexEntry = this.sizeBytes - last.position
    if (this.sizeBytes > 0) {
      this.rollingBasedTimestamp = readBatchHeader(await this.readBytes(0, RECORD_BATCH_OVERHEAD)).maxTimestamp
    } else {
      this.rollingBasedTimestamp = now
    }
  }

  /** Next offset, scanning the tail of the log if it is not known yet. */
  async readNextOffset(): Promise<number> {
    if (this.nextOffsetKnown === undefined) {
      await this.ensureIndexes()
      const last = this.offsetIndex.lastEntry()
      const location = await this.translateOffset(last.offset, last.position)
      let next = this.baseOffset
      if (location) {
        for await (const {header} of this.scanHeaders(location.position, this.sizeBytes)) next = header.lastOffset + 1
      }
      this.nextOffsetKnown = next
    }
    return this.nextOffsetKnown
  }

  /**
   * Crash recovery: validates every batch from the start (magic, lengths,
   * CRC-32C, offsets increasing and within int32 of the base), rebuilds both
   * indexes, and truncates the file at the first invalid or torn batch.
   * `onBatch` sees each valid batch (producer state, leader epochs).
   */
  async recover(
    expectedFirstOffset: number,
    onBatch?: (header: RecordBatchHeader, batch: Buffer) => void | Promise<void>,
  ): Promise<RecoveryResult> {
    this.layoutChanged()
    await this.txnIndex.reset()
    this.offsetIndex.initEmpty()
    this.timeIndex.initEmpty()
    this.maxTimestampSoFar = -1
    this.offsetOfMaxTimestampSoFar = -1
    this.bytesSinceLastIndexEntry = 0
    this.rollingBasedTimestamp = undefined
    let fileSize: number
    try {
      fileSize = await this.log.use((h) => h.size())
    } catch (error) {
      if (!isNotFound(error)) throw error
      fileSize = 0
    }
    let position = 0
    let next = Math.max(this.baseOffset, expectedFirstOffset)
    let chunk: Buffer = Buffer.alloc(0)
    let chunkStart = 0
    let reason: string | undefined
    while (position < fileSize) {
      if (fileSize - position < RECORD_BATCH_OVERHEAD) {
        reason = `torn batch header (${fileSize - position} bytes) at position ${position}`
        break
      }
      if (position + RECORD_BATCH_OVERHEAD > chunkStart + chunk.length) {
        chunkStart = position
        chunk = await this.readBytes(position, Math.min(RECOVERY_CHUNK, fileSize - position))
      }
      let header: RecordBatchHeader
      try {
        header = readBatchHeader(chunk, position - chunkStart)
        if (header.sizeInBytes < RECORD_BATCH_OVERHEAD || position + header.sizeInBytes > fileSize) {
          reason = `batch of ${header.sizeInBytes} bytes at position ${position} extends past the end of the file (${fileSize})`
          break
        }
        if (position + header.sizeInBytes > chunkStart + chunk.length) {
          chunkStart = position
          chunk = await this.readBytes(position, Math.max(header.sizeInBytes, Math.min(RECOVERY_CHUNK, fileSize - position)))
        }
        header = validateBatch(chunk, position - chunkStart)
      } catch (error) {
        if (!(error instanceof CorruptRecordError)) throw error
        reason = `${error.message} at position ${position}`
        break
      }
      if (header.baseOffset < next || header.lastOffset - this.baseOffset > MAX_RELATIVE_OFFSET) {
        reason = `batch offsets [${header.baseOffset}, ${header.lastOffset}] at position ${position} out of order (expected >= ${next})`
        break
      }
      if (position === 0) this.rollingBasedTimestamp = header.maxTimestamp
      this.indexBatch(header, position)
      if (onBatch) await onBatch(header, chunk.subarray(position - chunkStart, position - chunkStart + header.sizeInBytes))
      next = header.lastOffset + 1
      position += header.sizeInBytes
    }
    const truncatedBytes = fileSize - position
    if (truncatedBytes > 0) await this.log.use((h) => h.truncate(position))
    this.sizeBytes = position
    this.flushedBytes = 0 // what recovery read may only have been in the page cache
    this.nextOffsetKnown = next
    this.indexesReady = true
    return {validBytes: position, truncatedBytes, nextOffset: next, ...(reason ? {reason} : {})}
  }

  /**
   * Removes every batch whose last offset is >= `offset` (so a batch that
   * holds `offset` goes entirely). Returns the bytes removed.
   */
  async truncateTo(offset: number): Promise<number> {
    await this.ensureIndexes()
    const start = this.offsetIndex.lookup(offset)
    const mapping = await this.translateOffset(offset, start.position)
    if (!mapping) return 0
    this.offsetIndex.truncateTo(offset)
    this.timeIndex.truncateTo(offset)
    await this.txnIndex.truncateTo(offset)
    const removed = this.sizeBytes - mapping.position
    this.layoutChanged()
    // Synced, so that a crash cannot bring truncated batches back.
    await this.log.use(async (h) => {
      await h.truncate(mapping.position)
      await h.sync()
    })
    this.sizeBytes = mapping.position
    this.flushedBytes = Math.min(this.flushedBytes, mapping.position)
    this.nextOffsetKnown = Math.min(this.nextOffsetKnown ?? offset, mapping.baseOffset)
    this.bytesSinceLastIndexEntry = 0
    const last = this.timeIndex.lastEntry()
    this.maxTimestampSoFar = last.timestamp
    this.offsetOfMaxTimestampSoFar = this.timeIndex.entries > 0 ? last.offset : -1
    // Kafka keeps the max timestamp from the time index; rescan the (short) tail to be exact.
    for await (const {header} of this.scanHeaders(this.offsetIndex.lastEntry().position, this.sizeBytes)) {
      if (header.maxTimestamp > this.maxTimestampSoFar) {
        this.maxTimestampSoFar = header.maxTimestamp
        this.offsetOfMaxTimestampSoFar = header.lastOffset
      }
    }
    if (this.sizeBytes === 0) this.rollingBasedTimestamp = undefined
    await this.offsetIndex.flush(false)
    await this.timeIndex.flush(false)
    return removed
  }

  /** fsyncs the .log (indexes are rebuilt by recovery for the active segment). */
  async flush(): Promise<void> {
    const size = this.sizeBytes
    if (this.flushedBytes >= size) return
    await this.log.use((h) => h.sync())
    this.flushedBytes = Math.max(this.flushedBytes, size)
  }

  /** Writes the indexes to disk, optionally fsynced (an unwritten segment has none to write). */
  async flushIndexes(sync: boolean): Promise<void> {
    if (this.unwrittenFlag) return
    await this.offsetIndex.flush(sync)
    await this.timeIndex.flush(sync)
  }

  /** The segment stops being the active one: final time index entry, everything fsynced. */
  async onBecomeInactive(): Promise<void> {
    await this.ensureIndexes()
    if (this.maxTimestampSoFar >= 0) this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar, true)
    await this.flush()
    await this.flushIndexes(true)
    await this.txnIndex.sync()
  }

  /** Clean close: final time index entry, indexes written and fsynced, handle closed. */
  async close(): Promise<void> {
    if (this.indexesReady) {
      if (this.maxTimestampSoFar >= 0) this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar, true)
      await this.flushIndexes(true)
    }
    await this.flush()
    await this.txnIndex.sync()
    await this.log.close()
  }

  /** Renames all four files by adding `suffix` (e.g. '.deleted'); the handle stays valid. */
  async changeFileSuffix(suffix: string): Promise<void> {
    const logPath = logFile(this.dir, this.baseOffset, suffix)
    if (!this.unwrittenFlag) await this.fs.rename(this.log.path, logPath)
    this.log.path = logPath
    await this.offsetIndex.renameTo(offsetIndexFile(this.dir, this.baseOffset, suffix))
    await this.timeIndex.renameTo(timeIndexFile(this.dir, this.baseOffset, suffix))
    await this.txnIndex.renameTo(txnIndexFile(this.dir, this.baseOffset, suffix))
  }

  /** Closes and unlinks the files (whatever their current names). */
  async deleteFiles(): Promise<void> {
    await this.log.close()
    await unlinkIfExists(this.fs, this.log.path)
    await this.offsetIndex.deleteIfExists()
    await this.timeIndex.deleteIfExists()
    await this.txnIndex.deleteIfExists()
  }
}
