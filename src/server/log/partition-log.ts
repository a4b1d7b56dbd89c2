/**
 * PartitionLog: one partition's log (Kafka's UnifiedLog + LocalLog): a
 * directory `<topic>-<partition>` of segments (log-segment.ts) with
 * `leader-epoch-checkpoint`, `partition.metadata` and producer-state
 * `.snapshot` files, in Kafka 4.0's layout.
 *
 * - append(): validates each batch from its header and CRC (no record
 *   decoding; nothing is written unless every batch passes), assigns offsets
 *   by patching baseOffset in place (and the partition leader epoch, and
 *   LogAppendTime when configured), rolls the
 *   segment when needed, writes the bytes, and fsyncs per flush.messages.
 *   Amortised O(1): the work is proportional to the appended bytes only.
 * - read(): whole batches from one segment, starting with the batch that
 *   holds the requested offset, bounded by maxBytes (the first batch in full
 *   with minOneMessage).
 * - Roll on segment.bytes, segment.ms, a full index, or an offset too far
 *   from the segment base. Retention by retention.ms / retention.bytes /
 *   the log start offset; DeleteRecords; truncation for replication. Deleted
 *   segments are renamed to `.deleted` and unlinked file.delete.delay.ms later.
 * - Durability: flush() fsyncs the unflushed segments and advances the
 *   recovery point; roll fsyncs the old segment and its indexes; close() is a
 *   clean shutdown (indexes and a producer snapshot written and synced).
 *   Only what changed is synced: flush and close fsync the directory when
 *   entries were created, renamed or removed since its last sync (a new
 *   partition's files, `.deleted` renames, unlinks), close writes a producer
 *   snapshot only when the files on disk would not give the state already, and
 *   index files untouched since their last fsync are not opened. Closing a log
 *   that has not changed since it was opened writes nothing.
 *
 * Concurrency: the log is single-writer. Every mutating method (append,
 * roll, flush, truncateTo, deleteOldSegments, deleteRecordsBefore, close)
 * runs under an internal async lock, so calls from the produce path and from
 * the LogManager's background tasks are serialized; callers that need
 * in-order appends (one produce request after another) must still await
 * each append before issuing the next. Reads take no lock and may run
 * concurrently with anything: they work on a snapshot of the segment list
 * and of the log end offset, and deleted segments stay readable until their
 * files are unlinked.
 *
 * What a reader can observe of an append — the log end offset, the producer
 * state (and so the last stable offset), the aborted transactions of the
 * `.txnindex`, the leader epochs — changes in one synchronous step after all
 * of the append's I/O is done, never across an await: bytes past the log end
 * offset are not read, and an index entry written ahead stays unseen until
 * that step.
 */

import * as nodePath from 'node:path'
import {
  CorruptRecordError,
  InvalidRecordError,
  LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD,
  RecordTooLargeError,
  TimestampType,
  readBatchHeader,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  validateBatch,
  type RecordBatchHeader,
} from '../../lib/records/batch.js'
import {ControlRecordType, decodeRecordBatch, endTransactionMarkerEpoch} from '../../lib/records/record.js'
import {LogError, checkSafeInteger, storageError} from './errors.js'
import {FileHandleCache} from './file-handle-cache.js'
import type {FileSystem} from './fs.js'
import {type LeaderEpochCache} from './leader-epoch-cache.js'
import {type Clock, type LogConfig, isDeleteEnabled, systemClock} from './log-config.js'
import {DELETED_FILE_SUFFIX, SWAP_FILE_SUFFIX, parseTopicPartitionName} from './log-files.js'
import {loadLog, type RecoveryReport} from './log-loader.js'
import {LogSegment, type AppendUndo} from './log-segment.js'
import {PARTITION_METADATA_FILE, readPartitionMetadata, writePartitionMetadata} from './partition-metadata.js'
import type {ProducerStateManager} from './producer-state.js'
import {controlRecordType, type AbortedTxn} from './transaction-index.js'

const MAX_RELATIVE_OFFSET = 0x7fffffff

/** Special timestamps of ListOffsets. */
export const LATEST_TIMESTAMP = -1
export const EARLIEST_TIMESTAMP = -2
export const MAX_TIMESTAMP = -3

export interface PartitionLogOptions {
  fs: FileSystem
  /** The partition directory, `<dataDir>/<topic>-<partition>`. */
  dir: string
  config: LogConfig
  clock?: Clock
  /** Shared across partitions to cap open files; a private unbounded one by default. */
  handleCache?: FileHandleCache
  /** From the data directory's recovery-point-offset-checkpoint (default 0: recover everything). */
  recoveryPoint?: number
  /** From log-start-offset-checkpoint (default: the first segment's base offset). */
  logStartOffset?: number
  /** The data directory had a clean-shutdown marker (default false). */
  hadCleanShutdown?: boolean
  /**
   * Topic id for partition.metadata; written if the file is missing (fsynced
   * before its rename, as Kafka's PartitionMetadataFile; the directory entry
   * is synced with the rest of the directory, see syncDirectory()).
   */
  topicId?: string
  /** mkdir the directory first (default true; false for directories the caller listed). */
  createDir?: boolean
  /** Told the ms of every fsync of the log's data (issue 16: Kafka's LogFlushRateAndTimeMs). */
  onFlush?: (ms: number) => void
}

export type AppendOrigin = 'client' | 'replication' | 'coordinator'

export interface AppendOptions {
  /**
   * 'client' (produce request, the default) and 'coordinator': the leader
   * assigns offsets and checks timestamps and producer sequences.
   * 'replication': a follower appends the leader's batches with their offsets.
   */
  origin?: AppendOrigin
  /** Stamped into each batch's partitionLeaderEpoch by a leader (default: the latest epoch known, else 0). */
  leaderEpoch?: number
}

export interface AppendResult {
  /** First offset assigned (-1 for an empty append). */
  baseOffset: number
  lastOffset: number
  /** The broker time stamped into the batches with LogAppendTime, else -1. */
  logAppendTime: number
  logStartOffset: number
  /** The batch was a retry of one already in the log (idempotent producer); nothing was written. */
  duplicate: boolean
  /** Bytes appended. */
  sizeInBytes: number
}

export interface ReadOptions {
  /** Return the first batch even if larger than maxBytes (Kafka's minOneMessage; default true). */
  minOneMessage?: boolean
  /** Exclusive upper bound (e.g. the high watermark): stop before batches whose base offset is >= it. */
  maxOffset?: number
  /** Where the bytes read go (default Buffer.allocUnsafe; Fetch takes buffers from a pool). */
  allocate?: (size: number) => Buffer
}

export interface ReadResult {
  /** Whole batches, back to back; empty when there is nothing to return. */
  records: Buffer
  /** baseOffset of the first returned batch (it may be below the requested offset). */
  firstOffset: number
  /** Offset after the last returned batch (the requested offset when empty). */
  nextOffset: number
  logStartOffset: number
  logEndOffset: number
}

export interface TimestampAndOffset {
  timestamp: number
  offset: number
  leaderEpoch: number
}

interface PendingDelete {
  segment: LogSegment
  dueAt: number
}

function mapBatchError(error: unknown): LogError {
  if (error instanceof RecordTooLargeError) return new LogError('MESSAGE_TOO_LARGE', error.message, {cause: error})
  if (error instanceof InvalidRecordError) return new LogError('INVALID_RECORD', error.message, {cause: error})
  if (error instanceof CorruptRecordError) return new LogError('CORRUPT_MESSAGE', error.message, {cause: error})
  throw error
}

export class PartitionLog {
  readonly topic: string
  readonly partition: number
  private segments: LogSegment[]
  private nextOffset: number
  private startOffset: number
  private recoveryPointOffset: number
  private unflushedMessages = 0
  private lastFlushTime: number
  private pendingDeletes: PendingDelete[] = []
  private lock: Promise<unknown> = Promise.resolve()
  private closed = false
  /** Entries of the directory changed since its last fsync. */
  private dirChanged: boolean
  private onFlush?: (ms: number) => void

  private constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    private configValue: LogConfig,
    private readonly clock: Clock,
    private readonly handleCache: FileHandleCache,
    loaded: Awaited<ReturnType<typeof loadLog>>,
    /** What opening the log found and did. */
    readonly recoveryReport: RecoveryReport,
  ) {
    const name = parseTopicPartitionName(nodePath.basename(dir))
    this.topic = name?.topic ?? nodePath.basename(dir)
    this.partition = name?.partition ?? 0
    this.segments = loaded.segments
    this.nextOffset = loaded.logEndOffset
    this.startOffset = loaded.logStartOffset
    this.recoveryPointOffset = loaded.recoveryPoint
    this.producerState = loaded.producerState
    this.leaderEpochCache = loaded.leaderEpochCache
    this.dirChanged = loaded.changedDirectory
    this.lastFlushTime = clock.now()
  }

  readonly producerState: ProducerStateManager
  readonly leaderEpochCache: LeaderEpochCache

  /** Opens (creating if needed) and recovers the partition directory. */
  static async open(opts: PartitionLogOptions): Promise<PartitionLog> {
    const clock = opts.clock ?? systemClock
    const handleCache = opts.handleCache ?? new FileHandleCache()
    let loaded
    try {
      loaded = await loadLog({
        fs: opts.fs,
        dir: opts.dir,
        config: opts.config,
        handleCache,
        now: clock.now(),
        recoveryPoint: opts.recoveryPoint ?? 0,
        logStartOffset: opts.logStartOffset ?? 0,
        hadCleanShutdown: opts.hadCleanShutdown ?? false,
        createDir: opts.createDir ?? true,
      })
      if (opts.topicId !== undefined) {
        const path = nodePath.join(opts.dir, PARTITION_METADATA_FILE)
        const existing = loaded.files.includes(PARTITION_METADATA_FILE) ? await readPartitionMetadata(opts.fs, path) : undefined
        if (existing === undefined) {
          await writePartitionMetadata(opts.fs, path, opts.topicId)
          loaded.changedDirectory = true
        } else if (existing !== opts.topicId) {
          throw new LogError('UNKNOWN_SERVER_ERROR', `Partition directory ${opts.dir} belongs to topic id ${existing}, not ${opts.topicId}`)
        }
      }
    } catch (error) {
      throw storageError(`Loading log ${opts.dir}`, error)
    }
    const log = new PartitionLog(opts.fs, opts.dir, opts.config, clock, handleCache, loaded, loaded.report)
    log.onFlush = opts.onFlush
    return log
  }

  get config(): LogConfig {
    return this.configValue
  }

  /** Applies new topic configs (takes effect on the next append/roll/retention pass). */
  updateConfig(config: LogConfig): void {
    this.configValue = config
  }

  get logStartOffset(): number {
    return this.startOffset
  }

  get logEndOffset(): number {
    return this.nextOffset
  }

  /** Every offset below this is fsynced. */
  get recoveryPoint(): number {
    return this.recoveryPointOffset
  }

  get numberOfSegments(): number {
    return this.segments.length
  }

  /** Base offsets of the live segments, oldest first. */
  segmentBaseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset)
  }

  /** Total bytes of the live segments' .log files. */
  get size(): number {
    let total = 0
    for (const segment of this.segments) total += segment.size
    return total
  }

  get activeSegment(): LogSegment {
    return this.segments[this.segments.length - 1]!
  }

  /** @internal the shared open-file cache, for segments the cleaner creates */
  get fileHandleCache(): FileHandleCache {
    return this.handleCache
  }

  /** @internal the live segments, for the cleaner */
  liveSegments(): readonly LogSegment[] {
    return this.segments
  }

  /** Runs `fn` after every mutation queued before it. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(() => {
      if (this.closed) throw new LogError('KAFKA_STORAGE_ERROR', `Log ${this.dir} is closed`)
      return fn()
    })
    this.lock = run.catch(() => undefined)
    return run
  }

  /** @internal runs `fn` under the append lock (the cleaner swaps segments this way). */
  withLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.exclusive(fn)
  }

  /**
   * Appends one or more batches (`records` is modified in place: base offsets,
   * leader epoch, LogAppendTime). Throws LogError with CORRUPT_MESSAGE,
   * INVALID_RECORD, MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE,
   * INVALID_TIMESTAMP, INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER
   * (nothing written) or KAFKA_STORAGE_ERROR (nothing visible: a failed write
   * or fsync is rolled back, and the log stays appendable).
   */
  append(records: Buffer, opts: AppendOptions = {}): Promise<AppendResult> {
    return this.exclusive(() => this.appendLocked(records, opts))
  }

  /**
   * The cheap, header-only checks that must pass before offsets are assigned
   * and the bytes written: whole v2 batches back to back, sizes, offsets
   * deltas, timestamps. Record contents and CRCs are checked next, by
   * verifyBatches().
   */
  private checkHeaders(records: Buffer, origin: AppendOrigin): Array<{position: number; header: RecordBatchHeader}> {
    const config = this.configValue
    if (records.length > config.segmentBytes) {
      throw new LogError(
        'RECORD_LIST_TOO_LARGE',
        `Message batch size is ${records.length} bytes in append to partition ${this.topic}-${this.partition} which exceeds the maximum configured segment size of ${config.segmentBytes}`,
      )
    }
    const batches: Array<{position: number; header: RecordBatchHeader}> = []
    const now = this.clock.now()
    let position = 0
    while (position < records.length) {
      let header: RecordBatchHeader
      try {
        header = readBatchHeader(records, position)
      } catch (error) {
        throw mapBatchError(error)
      }
      if (header.sizeInBytes < RECORD_BATCH_OVERHEAD || header.sizeInBytes > records.length - position) {
        throw new LogError('CORRUPT_MESSAGE', `Batch at position ${position} has length ${header.batchLength}, ${records.length - position - LOG_OVERHEAD} bytes available`)
      }
      if (header.sizeInBytes > config.maxMessageBytes) {
        throw new LogError('MESSAGE_TOO_LARGE', `Record batch size ${header.sizeInBytes} exceeds max.message.bytes ${config.maxMessageBytes}`)
      }
      if (header.lastOffsetDelta < 0 || header.recordCount < 0) {
        throw new LogError('CORRUPT_MESSAGE', `Batch at position ${position} has lastOffsetDelta ${header.lastOffsetDelta} and ${header.recordCount} records`)
      }
      if (origin !== 'replication' && header.recordCount !== header.lastOffsetDelta + 1) {
        throw new LogError('INVALID_RECORD', `Batch at position ${position} has ${header.recordCount} records but lastOffsetDelta ${header.lastOffsetDelta}`)
      }
      if (origin !== 'replication' && config.messageTimestampType === 'CreateTime' && !header.isControl) {
        // Header-level check: the batch's first and max timestamps (no record decoding).
        for (const timestamp of [header.baseTimestamp, header.maxTimestamp]) {
          if (timestamp >= 0 && (timestamp < now - config.messageTimestampBeforeMaxMs || timestamp > now + config.messageTimestampAfterMaxMs)) {
            throw new LogError(
              'INVALID_TIMESTAMP',
              `Timestamp ${timestamp} of batch at position ${position} is out of range: must be within [${now - config.messageTimestampBeforeMaxMs}, ${now + config.messageTimestampAfterMaxMs}]`,
            )
          }
        }
      }
      batches.push({position, header})
      position += header.sizeInBytes
    }
    return batches
  }

  /** Full validation of every batch (batch.ts validateBatch: CRC-32C, counts, codec, client rules). */
  private verifyBatches(records: Buffer, batches: ReadonlyArray<{position: number}>, origin: AppendOrigin): void {
    const opts = {
      maxBatchSize: this.configValue.maxMessageBytes,
      origin: origin === 'client' ? ('client' as const) : origin === 'coordinator' ? ('coordinator' as const) : ('replication' as const),
    }
    for (const {position} of batches) {
      try {
        validateBatch(records, position, opts)
      } catch (error) {
        throw mapBatchError(error)
      }
    }
  }

  private async appendLocked(records: Buffer, opts: AppendOptions): Promise<AppendResult> {
    const origin = opts.origin ?? 'client'
    const config = this.configValue
    if (records.length === 0) {
      return {baseOffset: -1, lastOffset: -1, logAppendTime: -1, logStartOffset: this.startOffset, duplicate: false, sizeInBytes: 0}
    }
    const batches = this.checkHeaders(records, origin)
    // Every batch whole (CRC-32C, counts, codec) before anything is assigned or written, as Kafka's
    // LogValidator runs before the duplicate check (LogAppendTime then rewrites the CRC).
    this.verifyBatches(records, batches, origin)

    // Idempotent producers: a retried batch is answered with its original offsets.
    if (origin === 'client') {
      for (const {header} of batches) {
        const duplicate = this.producerState.checkClientBatch(header)
        if (duplicate) {
          if (batches.length !== 1) {
            throw new LogError('OUT_OF_ORDER_SEQUENCE_NUMBER', 'A duplicate batch in a multi-batch append')
          }
          return {
            baseOffset: duplicate.firstOffset,
            lastOffset: duplicate.lastOffset,
            logAppendTime: -1,
            logStartOffset: this.startOffset,
            duplicate: true,
            sizeInBytes: 0,
          }
        }
      }
    } else if (origin === 'coordinator') {
      for (const {header, position} of batches) this.producerState.checkCoordinatorBatch(header, header.isControl ? endTransactionMarkerEpoch(records, position) : undefined)
    }

    const now = this.clock.now()
    let logAppendTime = -1
    if (origin !== 'replication') {
      const epoch = opts.leaderEpoch ?? this.leaderEpochCache.latestEpoch() ?? 0
      const useLogAppendTime = config.messageTimestampType === 'LogAppendTime'
      let offset = this.nextOffset
      for (const batch of batches) {
        const {position, header} = batch
        setBaseOffset(records, position, offset)
        setPartitionLeaderEpoch(records, position, epoch)
        header.baseOffset = offset
        header.lastOffset = offset + header.lastOffsetDelta
        header.partitionLeaderEpoch = epoch
        if (useLogAppendTime) {
          setLogAppendTime(records, position, now)
          header.maxTimestamp = now
          header.timestampType = TimestampType.LogAppendTime
        }
        offset = header.lastOffset + 1
      }
      if (useLogAppendTime) logAppendTime = now
    } else {
      let expected = this.nextOffset
      for (const {header} of batches) {
        if (header.baseOffset < expected) {
          throw new LogError(
            'UNKNOWN_SERVER_ERROR',
            `Follower append at offset ${header.baseOffset} is below the expected offset ${expected} of ${this.topic}-${this.partition}`,
          )
        }
        expected = header.lastOffset + 1
      }
    }
    const first = batches[0]!.header
    const last = batches[batches.length - 1]!.header

    const segment = await this.maybeRoll(records.length, first, last.lastOffset)
    if (segment.unwritten) this.dirChanged = true // the write creates the segment's .log
    let undo: AppendUndo
    try {
      undo = await segment.append(records, batches)
    } catch (error) {
      await segment.discardTail().catch(() => undefined)
      throw storageError(`Append to ${segment.log.path}`, error)
    }
    let messages = 0
    for (const {header} of batches) messages += header.lastOffsetDelta + 1
    const flushNow = this.unflushedMessages + messages >= config.flushMessages
    // The transactions this append aborts go into the segment's .txnindex file first, unseen.
    const aborted = this.producerState.abortedTransactions(batches, (position) => controlRecordType(records, position) === ControlRecordType.Abort)
    if (aborted.length > 0) {
      this.dirChanged = true // the segment's .txnindex may be new
      try {
        await segment.txnIndex.write(aborted)
      } catch (error) {
        await segment.rollback(undo)
        throw storageError(`Writing the transaction index of ${segment.log.path}`, error)
      }
    }
    if (flushNow) {
      const flushStarted = this.onFlush && performance.now()
      try {
        await segment.flush()
        await this.syncDirIfChanged()
        if (flushStarted) this.onFlush!(performance.now() - flushStarted)
      } catch (error) {
        await segment.rollback(undo)
        throw storageError(`fsync of ${segment.log.path}`, error)
      }
    }
    // One synchronous step publishes everything a reader can observe of this append: the log end
    // offset (and so the high watermark), the producer state (and so the last stable offset), the
    // aborted transactions and the leader epochs. No await in between: a fetch that saw the last
    // stable offset pass an aborted batch and not yet its aborted transaction handed the batch to
    // read_committed consumers (issue 12).
    segment.txnIndex.publish(aborted)
    let epochChanged = false
    for (const {header, position} of batches) {
      this.producerState.update(header, header.isControl && header.isTransactional ? endTransactionMarkerEpoch(records, position) : undefined)
      if (header.partitionLeaderEpoch >= 0) epochChanged = this.leaderEpochCache.assignInMemory(header.partitionLeaderEpoch, header.baseOffset) || epochChanged
    }
    this.nextOffset = last.lastOffset + 1
    if (flushNow) {
      this.unflushedMessages = 0
      this.recoveryPointOffset = this.nextOffset
      this.lastFlushTime = now
    } else {
      this.unflushedMessages += messages
    }
    try {
      if (epochChanged || this.leaderEpochCache.needsPersist) await this.leaderEpochCache.persist()
      if (flushNow) await this.leaderEpochCache.sync()
    } catch (error) {
      throw storageError('Writing leader-epoch-checkpoint', error)
    }
    return {
      baseOffset: first.baseOffset,
      lastOffset: last.lastOffset,
      logAppendTime,
      logStartOffset: this.startOffset,
      duplicate: false,
      sizeInBytes: records.length,
    }
  }

  /** First offset of the earliest open transaction (Kafka's firstUnstableOffset), undefined if none. */
  get firstUnstableOffset(): number | undefined {
    return this.producerState.firstUnstableOffset()
  }

  /**
   * The last stable offset (LSO): no offset below it belongs to an open
   * transaction. The earliest open transaction's first offset, capped by the
   * high watermark (the log end offset by default).
   */
  lastStableOffset(highWatermark = this.nextOffset): number {
    return Math.min(this.producerState.firstUnstableOffset() ?? highWatermark, highWatermark)
  }

  /**
   * The aborted transactions a read_committed fetch of [fetchOffset,
   * upperBoundOffset) must be told about (Kafka's collectAbortedTransactions):
   * those whose range overlaps it, from the `.txnindex` of the segment holding
   * fetchOffset and every later one, ordered by marker offset.
   */
  async collectAbortedTransactions(fetchOffset: number, upperBoundOffset: number): Promise<AbortedTxn[]> {
    const segments = this.segments
    const found: AbortedTxn[] = []
    try {
      for (let i = this.floorSegmentIndex(segments, fetchOffset); i < segments.length; i++) {
        found.push(...(await segments[i]!.txnIndex.collect(fetchOffset, upperBoundOffset)))
      }
    } catch (error) {
      throw storageError(`Reading the transaction index of ${this.dir}`, error)
    }
    return found
  }

  /** Rolls first if the active segment cannot take `size` more bytes ending at `lastOffset`. */
  private async maybeRoll(size: number, first: RecordBatchHeader, lastOffset: number): Promise<LogSegment> {
    const segment = this.activeSegment
    const config = this.configValue
    if (segment.size === 0) {
      if (lastOffset - segment.baseOffset > MAX_RELATIVE_OFFSET || first.baseOffset < segment.baseOffset) {
        return this.rollLocked(first.baseOffset)
      }
      return segment
    }
    await segment.ensureIndexes()
    const rollingBase = segment.rollingBasedTimestamp
    const waited = rollingBase !== undefined && rollingBase >= 0 ? first.maxTimestamp - rollingBase : this.clock.now() - segment.created
    if (
      segment.size > config.segmentBytes - size ||
      waited > config.segmentMs ||
      segment.offsetIndex.isFull() ||
      segment.timeIndex.isFull() ||
      lastOffset - segment.baseOffset > MAX_RELATIVE_OFFSET
    ) {
      return this.rollLocked(first.baseOffset)
    }
    return segment
  }

  /** Starts a new segment at the log end offset (no-op if the active segment is empty). */
  roll(): Promise<void> {
    return this.exclusive(async () => {
      await this.rollLocked(this.nextOffset)
    })
  }

  private async rollLocked(newBaseOffset: number): Promise<LogSegment> {
    const old = this.activeSegment
    if (old.size === 0 && old.baseOffset === newBaseOffset) return old
    try {
      if (old.size === 0) {
        // An empty active segment below the new base (follower gap): replace it.
        const created = await LogSegment.create(this.fs, this.dir, newBaseOffset, this.segmentConfig(), this.handleCache, this.clock.now())
        await old.deleteFiles()
        this.segments = [...this.segments.slice(0, -1), created]
        if (this.segments.length === 1) this.startOffset = Math.max(this.startOffset, newBaseOffset)
        await this.fs.syncDir(this.dir)
        return created
      }
      const flushStarted = this.onFlush && performance.now()
      await old.onBecomeInactive()
      await this.leaderEpochCache.sync()
      if (flushStarted) this.onFlush!(performance.now() - flushStarted)
      const created = await LogSegment.create(this.fs, this.dir, newBaseOffset, this.segmentConfig(), this.handleCache, this.clock.now())
      this.segments = [...this.segments, created]
      this.recoveryPointOffset = Math.max(this.recoveryPointOffset, newBaseOffset)
      this.unflushedMessages = 0
      this.producerState.mapEndOffset = newBaseOffset
      await this.producerState.takeSnapshot()
      await this.fs.syncDir(this.dir)
      return created
    } catch (error) {
      throw storageError(`Rolling ${this.dir} at offset ${newBaseOffset}`, error)
    }
  }

  private segmentConfig(): {indexIntervalBytes: number; segmentIndexBytes: number} {
    return {indexIntervalBytes: this.configValue.indexIntervalBytes, segmentIndexBytes: this.configValue.segmentIndexBytes}
  }

  /** Index of the last segment with baseOffset <= offset (0 if none). */
  private floorSegmentIndex(segments: readonly LogSegment[], offset: number): number {
    let lo = 0
    let hi = segments.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (segments[mid]!.baseOffset <= offset) lo = mid
      else hi = mid - 1
    }
    return lo
  }

  /**
   * Reads whole batches from the one holding `offset` on (OFFSET_OUT_OF_RANGE
   * outside [logStartOffset, logEndOffset]). Never decodes records.
   */
  async read(offset: number, maxBytes: number, opts: ReadOptions = {}): Promise<ReadResult> {
    checkSafeInteger('offset', offset, -Number.MAX_SAFE_INTEGER)
    const segments = this.segments
    const logEndOffset = this.nextOffset
    const logStartOffset = this.startOffset
    if (offset < logStartOffset || offset > logEndOffset) {
      throw new LogError(
        'OFFSET_OUT_OF_RANGE',
        `Offset ${offset} is out of range for ${this.topic}-${this.partition}: [${logStartOffset}, ${logEndOffset}]`,
      )
    }
    const empty = {records: Buffer.alloc(0), firstOffset: offset, nextOffset: offset, logStartOffset, logEndOffset}
    // Never past the log end offset this read started with: an append in flight has bytes in the
    // active segment that are not published yet.
    const maxOffset = Math.min(opts.maxOffset ?? logEndOffset, logEndOffset)
    if (offset >= maxOffset) return empty
    const minOneMessage = opts.minOneMessage ?? true
    try {
      for (let i = this.floorSegmentIndex(segments, offset); i < segments.length; i++) {
        const segment = segments[i]!
        const active = segment === segments[segments.length - 1]
        // The active segment's bytes were written recently: read on the calling thread (fs.ts readAt).
        const result = await segment.read(offset, maxBytes, {minOneMessage, maxOffset, maxPosition: active ? undefined : segment.size, allocate: opts.allocate, hot: active})
        if (result) {
          if (result.records.length === 0) return {...empty, firstOffset: result.firstOffset}
          return {records: result.records, firstOffset: result.firstOffset, nextOffset: result.nextOffset, logStartOffset, logEndOffset}
        }
      }
    } catch (error) {
      throw storageError(`Reading ${this.dir} at offset ${offset}`, error)
    }
    return empty
  }

  /**
   * ListOffsets: EARLIEST_TIMESTAMP (-2), LATEST_TIMESTAMP (-1),
   * MAX_TIMESTAMP (-3: the first record with the largest timestamp), or the
   * first record with timestamp >= `timestamp` (undefined if none): time
   * index lookup, header scan to the batch, then that one batch is decoded.
   */
  async offsetForTimestamp(timestamp: number): Promise<TimestampAndOffset | undefined> {
    const latestEpoch = this.leaderEpochCache.latestEpoch() ?? -1
    if (timestamp === EARLIEST_TIMESTAMP) return {timestamp: -1, offset: this.startOffset, leaderEpoch: this.epochForOffset(this.startOffset)}
    if (timestamp === LATEST_TIMESTAMP) return {timestamp: -1, offset: this.nextOffset, leaderEpoch: latestEpoch}
    const segments = this.segments
    try {
      const startOffset = this.startOffset
      if (timestamp === MAX_TIMESTAMP) {
        let best: {segment: LogSegment; timestamp: number} | undefined
        for (const segment of segments) {
          const largest = await segment.largestTimestamp()
          if (largest >= 0 && (!best || largest > best.timestamp) && segment.offsetOfMaxTimestampSoFar >= startOffset) {
            best = {segment, timestamp: largest}
          }
        }
        if (!best) return undefined
        const batch = await best.segment.findOffsetByTimestamp(best.timestamp, startOffset)
        if (!batch) return undefined
        const found = await this.firstRecordAtOrAfter(best.segment, batch, best.timestamp, startOffset)
        return {timestamp: best.timestamp, offset: found.offset, leaderEpoch: this.epochForOffset(found.offset)}
      }
      for (const segment of segments) {
        if ((await segment.largestTimestamp()) < timestamp) continue
        const batch = await segment.findOffsetByTimestamp(timestamp, startOffset)
        if (batch) {
          const found = await this.firstRecordAtOrAfter(segment, batch, timestamp, startOffset)
          return {...found, leaderEpoch: this.epochForOffset(found.offset)}
        }
      }
    } catch (error) {
      throw storageError(`Searching ${this.dir} by timestamp`, error)
    }
    return undefined
  }

  /**
   * ListOffsets is record-granular: decodes the one batch found by the time
   * index (the only place outside compaction that decodes records) and
   * returns its first record with timestamp >= `timestamp` at or after `startOffset`.
   */
  private async firstRecordAtOrAfter(
    segment: LogSegment,
    batch: {position: number; size: number; baseOffset: number; maxTimestamp: number},
    timestamp: number,
    startOffset: number,
  ): Promise<{timestamp: number; offset: number}> {
    const {records} = await decodeRecordBatch(await segment.readBytes(batch.position, batch.size))
    const record = records.find((r) => r.offset >= startOffset && r.timestamp >= timestamp)
    if (record) return {timestamp: record.timestamp, offset: record.offset}
    return {timestamp: batch.maxTimestamp, offset: Math.max(batch.baseOffset, startOffset)}
  }

  private epochForOffset(offset: number): number {
    let epoch = -1
    for (const entry of this.leaderEpochCache.epochEntries()) if (entry.startOffset <= offset) epoch = entry.epoch
    return epoch
  }

  /** fsyncs everything appended so far; the recovery point becomes the log end offset. */
  flush(): Promise<void> {
    return this.exclusive(() => this.flushLocked())
  }

  private async flushLocked(): Promise<void> {
    const upTo = this.nextOffset
    const flushStarted = this.onFlush && performance.now()
    try {
      for (let i = this.floorSegmentIndex(this.segments, this.recoveryPointOffset); i < this.segments.length; i++) {
        await this.segments[i]!.flush()
      }
      await this.syncDirIfChanged()
      await this.leaderEpochCache.sync()
      if (flushStarted) this.onFlush!(performance.now() - flushStarted)
    } catch (error) {
      throw storageError(`fsync of ${this.dir}`, error)
    }
    this.recoveryPointOffset = Math.max(this.recoveryPointOffset, upTo)
    this.unflushedMessages = 0
    this.lastFlushTime = this.clock.now()
  }

  /** Flushes if flush.ms has passed since the last flush and there is something to flush. */
  maybeFlushOnTime(): Promise<boolean> {
    return this.exclusive(async () => {
      const now = this.clock.now()
      if (now - this.lastFlushTime < this.configValue.flushMs) return false
      if (this.recoveryPointOffset >= this.nextOffset) {
        this.lastFlushTime = now
        return false
      }
      await this.flushLocked()
      return true
    })
  }

  /**
   * Retention: deletes the oldest segments past retention.ms or
   * retention.bytes (cleanup.policy with delete) and those wholly below the
   * log start offset. The active segment is rolled first if it must go too.
   * Returns how many segments were deleted.
   */
  deleteOldSegments(): Promise<number> {
    return this.exclusive(async () => {
      let deleted = 0
      const config = this.configValue
      if (isDeleteEnabled(config)) {
        if (config.retentionMs >= 0) {
          const now = this.clock.now()
          deleted += await this.deleteSegmentsWhile(async (segment) => now - (await segment.largestTimestamp()) > config.retentionMs, 'retention.ms')
        }
        if (config.retentionBytes >= 0) {
          let excess = this.size - config.retentionBytes
          deleted += await this.deleteSegmentsWhile(async (segment) => {
            if (excess - segment.size < 0) return false
            excess -= segment.size
            return true
          }, 'retention.bytes')
        }
      }
      deleted += await this.deleteSegmentsWhile(async (segment, next) => next !== undefined && next.baseOffset <= this.startOffset, 'log start offset')
      await this.deleteExpiredFiles()
      this.producerState.removeExpiredProducers(this.clock.now(), config.producerIdExpirationMs)
      return deleted
    })
  }

  private async deleteSegmentsWhile(
    predicate: (segment: LogSegment, next: LogSegment | undefined) => Promise<boolean>,
    _reason: string,
  ): Promise<number> {
    const deletable: LogSegment[] = []
    for (let i = 0; i < this.segments.length; i++) {
      const segment = this.segments[i]!
      const next = this.segments[i + 1]
      if (next === undefined && segment.size === 0) break
      if (!(await predicate(segment, next))) break
      deletable.push(segment)
    }
    if (deletable.length === 0) return 0
    if (deletable.length === this.segments.length) await this.rollLocked(this.nextOffset)
    this.segments = this.segments.slice(deletable.length)
    const newStart = this.segments[0]!.baseOffset
    if (newStart > this.startOffset) this.startOffset = newStart
    this.dirChanged = true
    try {
      await this.leaderEpochCache.truncateFromStart(this.startOffset)
      const dueAt = this.clock.now() + this.configValue.fileDeleteDelayMs
      for (const segment of deletable) {
        await segment.changeFileSuffix(DELETED_FILE_SUFFIX)
        this.pendingDeletes.push({segment, dueAt})
      }
      await this.producerState.deleteSnapshots('below', newStart)
    } catch (error) {
      throw storageError(`Deleting segments of ${this.dir}`, error)
    }
    return deletable.length
  }

  /**
   * @internal The cleaner's swap, under the append lock: `replacement` (a
   * finished segment with suffix `.cleaned`, flushed) takes the place of
   * `old` (consecutive live segments, not the active one). Steps, each
   * crash-safe with log-loader.ts: rename `.cleaned` -> `.swap`; rename the old
   * segments to `.deleted`; rename `.swap` -> final names. Returns false (and
   * deletes the replacement) if `old` is no longer live.
   */
  async replaceSegments(old: readonly LogSegment[], replacement: LogSegment): Promise<boolean> {
    return this.exclusive(async () => {
      const start = this.segments.indexOf(old[0]!)
      const live =
        start >= 0 &&
        start + old.length < this.segments.length &&
        old.every((segment, i) => this.segments[start + i] === segment)
      if (!live) {
        await replacement.deleteFiles()
        return false
      }
      try {
        await replacement.changeFileSuffix(SWAP_FILE_SUFFIX)
        await this.fs.syncDir(this.dir)
        const dueAt = this.clock.now() + this.configValue.fileDeleteDelayMs
        for (const segment of old) {
          await segment.changeFileSuffix(DELETED_FILE_SUFFIX)
          this.pendingDeletes.push({segment, dueAt})
        }
        await replacement.changeFileSuffix('')
        await this.fs.syncDir(this.dir)
      } catch (error) {
        throw storageError(`Swapping cleaned segment into ${this.dir}`, error)
      }
      this.segments = [...this.segments.slice(0, start), replacement, ...this.segments.slice(start + old.length)]
      return true
    })
  }

  /** Unlinks `.deleted` files whose file.delete.delay.ms has passed. */
  private async deleteExpiredFiles(force = false): Promise<void> {
    const now = this.clock.now()
    const keep: PendingDelete[] = []
    for (const pending of this.pendingDeletes) {
      if (force || pending.dueAt <= now) {
        this.dirChanged = true
        await pending.segment.deleteFiles()
      } else {
        keep.push(pending)
      }
    }
    this.pendingDeletes = keep
  }

  /** Background task hook: unlink due `.deleted` files. */
  deletePendingFiles(): Promise<void> {
    return this.exclusive(() => this.deleteExpiredFiles())
  }

  /**
   * DeleteRecords: raises the log start offset to `offset` (at most the log
   * end offset, or `maxOffset`, e.g. the high watermark) and deletes segments
   * wholly below it. Returns the new log start offset (the low watermark).
   */
  deleteRecordsBefore(offset: number, maxOffset = this.nextOffset): Promise<number> {
    return this.exclusive(async () => {
      if (offset < 0 || offset > Math.min(maxOffset, this.nextOffset)) {
        throw new LogError('OFFSET_OUT_OF_RANGE', `Cannot delete records before ${offset}: beyond ${Math.min(maxOffset, this.nextOffset)}`)
      }
      if (offset <= this.startOffset) return this.startOffset
      this.startOffset = offset
      try {
        await this.leaderEpochCache.truncateFromStart(offset)
      } catch (error) {
        throw storageError('Writing leader-epoch-checkpoint', error)
      }
      await this.deleteSegmentsWhile(async (_segment, next) => next !== undefined && next.baseOffset <= this.startOffset, 'delete records')
      return this.startOffset
    })
  }

  /**
   * Replication: removes everything at offsets >= targetOffset (a batch that
   * straddles it goes entirely; the log end offset becomes targetOffset).
   * Below the log start offset the log is emptied and restarts at targetOffset.
   */
  truncateTo(targetOffset: number): Promise<void> {
    return this.exclusive(async () => {
      checkSafeInteger('targetOffset', targetOffset)
      if (targetOffset >= this.nextOffset) return
      if (targetOffset < this.startOffset) {
        await this.truncateFullyAndStartAtLocked(targetOffset)
        return
      }
      try {
        // Readers stop at the new end before any byte goes: the log end offset (and with it the
        // high watermark and the LSO) moves down first, in the same step as the segment list.
        const keep = this.segments.filter((s) => s.baseOffset <= targetOffset)
        const drop = this.segments.slice(keep.length)
        this.segments = keep
        this.nextOffset = targetOffset
        this.recoveryPointOffset = Math.min(this.recoveryPointOffset, targetOffset)
        for (const segment of drop) await segment.deleteFiles()
        const active = this.activeSegment
        await active.truncateTo(targetOffset)
        await this.leaderEpochCache.truncateFromEnd(targetOffset)
        await this.leaderEpochCache.sync()
        await this.producerState.deleteSnapshots('above', targetOffset)
        await this.rebuildProducerState()
        await this.fs.syncDir(this.dir)
      } catch (error) {
        throw storageError(`Truncating ${this.dir} to ${targetOffset}`, error)
      }
    })
  }

  /** Deletes every segment and restarts the log, empty, at `offset`. */
  truncateFullyAndStartAt(offset: number): Promise<void> {
    return this.exclusive(() => this.truncateFullyAndStartAtLocked(offset))
  }

  private async truncateFullyAndStartAtLocked(offset: number): Promise<void> {
    try {
      const created = await LogSegment.create(this.fs, this.dir, offset, this.segmentConfig(), this.handleCache, this.clock.now())
      const old = this.segments
      this.segments = [created]
      for (const segment of old) if (segment.baseOffset !== offset) await segment.deleteFiles()
      this.nextOffset = offset
      this.startOffset = offset
      this.recoveryPointOffset = offset
      this.unflushedMessages = 0
      await this.leaderEpochCache.clear()
      await this.producerState.deleteSnapshots('above', -1)
      this.producerState.reset(offset)
      await this.fs.syncDir(this.dir)
    } catch (error) {
      throw storageError(`Truncating ${this.dir} fully to ${offset}`, error)
    }
  }

  /** Reloads producer state from the latest snapshot and replays batch headers after it. */
  private async rebuildProducerState(): Promise<void> {
    const snapshot = await this.producerState.loadLatestSnapshot(this.nextOffset, this.startOffset)
    const from = snapshot ?? this.startOffset
    for (let i = this.floorSegmentIndex(this.segments, from); i < this.segments.length; i++) {
      const segment = this.segments[i]!
      await segment.ensureIndexes()
      const start = segment.offsetIndex.lookup(from).position
      for await (const {header} of segment.scanHeaders(start, segment.size)) {
        if (header.lastOffset >= from) this.producerState.update(header)
      }
    }
    this.producerState.mapEndOffset = this.nextOffset
  }

  /**
   * Clean shutdown: flushes, writes indexes and a producer snapshot at the log
   * end offset, closes files. The caller (LogManager) then writes the
   * clean-shutdown marker and the checkpoints.
   */
  close(): Promise<void> {
    return this.exclusive(async () => {
      try {
        await this.deleteExpiredFiles(true)
        for (const segment of this.segments) await segment.close()
        await this.leaderEpochCache.sync()
        this.producerState.mapEndOffset = this.nextOffset
        if (await this.producerState.needsSnapshot(this.startOffset)) {
          await this.producerState.takeSnapshot() // syncs the directory
          this.dirChanged = false
        }
        await this.syncDirIfChanged()
        this.recoveryPointOffset = this.nextOffset
      } catch (error) {
        throw storageError(`Closing ${this.dir}`, error)
      } finally {
        this.closed = true
      }
    })
  }

  /**
   * fsyncs the directory if entries were created, renamed or removed since its
   * last sync. LogManager calls it for each new partition before CreateTopics
   * answers, after creating a batch of them without fsyncs.
   */
  syncDirectory(): Promise<void> {
    return this.exclusive(() => this.syncDirIfChanged())
  }

  private async syncDirIfChanged(): Promise<void> {
    if (!this.dirChanged) return
    this.dirChanged = false
    try {
      await this.fs.syncDir(this.dir)
    } catch (error) {
      this.dirChanged = true
      throw error
    }
  }

  /** Closes file handles without flushing anything (simulates a crash in tests; used after a fatal error). */
  async closeHandlesUnclean(): Promise<void> {
    this.closed = true
    for (const segment of [...this.segments, ...this.pendingDeletes.map((p) => p.segment)]) await segment.log.close()
  }

  /** Closes and removes the whole partition directory. */
  delete(): Promise<void> {
    return this.exclusive(async () => {
      for (const segment of [...this.segments, ...this.pendingDeletes.map((p) => p.segment)]) await segment.log.close()
      this.closed = true
      await this.fs.rmrf(this.dir)
    })
  }
}
