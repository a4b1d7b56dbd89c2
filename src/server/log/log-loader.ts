/**
 * LogLoader: opens a partition directory and brings it to a consistent state
 * (Kafka's LogLoader), before the PartitionLog serves anything.
 *
 * 1. Deletes leftovers: `*.deleted` (segments already scheduled for deletion),
 *    `*.cleaned` (an interrupted compaction), `*.tmp` (an interrupted
 *    checkpoint write), and index files without a `.log`.
 * 2. Completes an interrupted compaction swap: a `<base>.log.swap` replaces the
 *    segments whose base offsets fall in [base, swap's next offset).
 * 3. After a clean shutdown: trusts the files. Only the active segment's tail
 *    (after its last index entry) is scanned to find the log end offset;
 *    indexes are loaded lazily and rebuilt if missing or corrupt.
 *    After a crash: every segment from the one holding the recovery point on
 *    is validated batch by batch (CRC-32C, lengths, offsets) with its indexes
 *    rebuilt; the log is truncated at the first invalid or torn batch and all
 *    later segments are deleted. The number of bytes cut is reported.
 * 4. Producer state: the latest snapshot at or below the recovery start, then
 *    the batch headers after it. Leader epochs: the checkpoint, trimmed to the
 *    log, plus any epochs seen by recovery. Aborted-transaction indexes
 *    (`.txnindex`) are trusted below the recovery point and rebuilt, from the
 *    ABORT markers and the producer state, for the segments recovery re-scans.
 * 5. A directory without segments (a new partition) gets an empty segment
 *    whose files appear with its first append, and no leader-epoch-checkpoint
 *    is written until there is an epoch to record (a missing file is an empty
 *    history). Opening a new partition writes nothing here.
 *
 * Directory entries created, renamed or removed here are not fsynced:
 * `changedDirectory` tells the caller to sync the directory (PartitionLog
 * does on its first flush or on close; LogManager does for a batch of new
 * partitions before CreateTopics answers).
 *
 * Runs once per partition, before any other access to the directory.
 */

import * as nodePath from 'node:path'
import type {RecordBatchHeader} from '../../lib/records/batch.js'
import type {FileHandleCache} from './file-handle-cache.js'
import type {FileSystem} from './fs.js'
import {isNotFound, unlinkIfExists} from './fs.js'
import {LEADER_EPOCH_CHECKPOINT_FILE, LeaderEpochCache} from './leader-epoch-cache.js'
import type {LogConfig} from './log-config.js'
import {
  CLEANED_FILE_SUFFIX,
  DELETED_FILE_SUFFIX,
  INDEX_FILE_SUFFIX,
  LOG_FILE_SUFFIX,
  SWAP_FILE_SUFFIX,
  TIME_INDEX_FILE_SUFFIX,
  TXN_INDEX_FILE_SUFFIX,
  logFile,
  offsetFromFilename,
  offsetIndexFile,
  timeIndexFile,
} from './log-files.js'
import {LogSegment} from './log-segment.js'
import {ProducerStateManager} from './producer-state.js'
import {controlRecordType} from './transaction-index.js'
import {ControlRecordType} from '../../lib/records/record.js'

export interface LoadOptions {
  fs: FileSystem
  dir: string
  config: LogConfig
  handleCache: FileHandleCache
  now: number
  /** From recovery-point-offset-checkpoint; recovery starts at the segment holding it. */
  recoveryPoint: number
  /** From log-start-offset-checkpoint. */
  logStartOffset: number
  hadCleanShutdown: boolean
  /** mkdir the directory first (default true; LogManager passes false for directories it listed). */
  createDir?: boolean
}

export interface RecoveryReport {
  hadCleanShutdown: boolean
  /** Segments validated batch by batch. */
  recoveredSegments: number
  /** Bytes cut from the end of the log (torn or invalid batches, and segments after them). */
  truncatedBytes: number
  /** Segments deleted because they followed the first invalid batch. */
  deletedSegments: number
  /** Why recovery cut the log, if it did. */
  reasons: string[]
  durationMs: number
}

export interface LoadedLog {
  segments: LogSegment[]
  logStartOffset: number
  logEndOffset: number
  recoveryPoint: number
  producerState: ProducerStateManager
  leaderEpochCache: LeaderEpochCache
  report: RecoveryReport
  /** Entries of the directory were created, renamed or removed and the directory is not fsynced yet. */
  changedDirectory: boolean
  /** The directory's entries as listed before loading. */
  files: readonly string[]
}

function segmentConfig(config: LogConfig): {indexIntervalBytes: number; segmentIndexBytes: number} {
  return {indexIntervalBytes: config.indexIntervalBytes, segmentIndexBytes: config.segmentIndexBytes}
}

export async function loadLog(opts: LoadOptions): Promise<LoadedLog> {
  const started = performance.now()
  const {fs, dir, config, handleCache, now} = opts
  // A directory mkdir just made has nothing in it to list.
  const created = (opts.createDir ?? true) && (await fs.mkdir(dir))
  let changedDirectory = false
  const report: RecoveryReport = {
    hadCleanShutdown: opts.hadCleanShutdown,
    recoveredSegments: 0,
    truncatedBytes: 0,
    deletedSegments: 0,
    reasons: [],
    durationMs: 0,
  }

  // 1. Leftovers.
  const names = created ? [] : await fs.readdir(dir)
  const swaps: number[] = []
  const logs = new Set<number>()
  for (const name of names) {
    const path = nodePath.join(dir, name)
    if (name.endsWith(DELETED_FILE_SUFFIX) || name.endsWith(CLEANED_FILE_SUFFIX) || name.endsWith('.tmp')) {
      await unlinkIfExists(fs, path)
      changedDirectory = true
    } else if (name.endsWith(LOG_FILE_SUFFIX + SWAP_FILE_SUFFIX)) {
      const offset = offsetFromFilename(name)
      if (offset !== undefined) swaps.push(offset)
    } else if (name.endsWith(LOG_FILE_SUFFIX)) {
      const offset = offsetFromFilename(name)
      if (offset !== undefined) logs.add(offset)
    }
  }
  for (const name of names) {
    const offset = offsetFromFilename(name)
    if (offset === undefined || logs.has(offset) || swaps.includes(offset)) continue
    if ([INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX, TXN_INDEX_FILE_SUFFIX].some((s) => name.endsWith(s))) {
      await unlinkIfExists(fs, nodePath.join(dir, name))
      changedDirectory = true
    }
  }
  if (swaps.length > 0) changedDirectory = true

  // 2. Interrupted compaction: install swap segments over the segments they replace.
  for (const base of swaps.sort((a, b) => a - b)) {
    const swap = LogSegment.existing(fs, dir, base, segmentConfig(config), handleCache, 0, now)
    swap.log.path = logFile(dir, base, SWAP_FILE_SUFFIX)
    const result = await swap.recover(base)
    await swap.log.close()
    for (const old of [...logs].filter((o) => o >= base && o < result.nextOffset)) {
      await unlinkIfExists(fs, logFile(dir, old))
      await unlinkIfExists(fs, offsetIndexFile(dir, old))
      await unlinkIfExists(fs, timeIndexFile(dir, old))
      logs.delete(old)
    }
    await fs.rename(logFile(dir, base, SWAP_FILE_SUFFIX), logFile(dir, base))
    for (const [swapPath, finalPath] of [
      [offsetIndexFile(dir, base, SWAP_FILE_SUFFIX), offsetIndexFile(dir, base)],
      [timeIndexFile(dir, base, SWAP_FILE_SUFFIX), timeIndexFile(dir, base)],
    ] as const) {
      try {
        await fs.rename(swapPath, finalPath)
      } catch (error) {
        if (!isNotFound(error)) throw error
      }
    }
    logs.add(base)
  }

  // 3. Segments.
  const segments: LogSegment[] = []
  for (const base of [...logs].sort((a, b) => a - b)) {
    const stat = await fs.stat(logFile(dir, base))
    segments.push(LogSegment.existing(fs, dir, base, segmentConfig(config), handleCache, stat?.size ?? 0, now))
  }

  const producerState = new ProducerStateManager(fs, dir)
  producerState.setDirectoryListing(names)
  const leaderEpochCache = new LeaderEpochCache(fs, dir)
  await leaderEpochCache.load(names.includes(LEADER_EPOCH_CHECKPOINT_FILE))
  const replayProducerState = async (from: number, to: number): Promise<void> => {
    for (const segment of segments) {
      const next = segments[segments.indexOf(segment) + 1]
      if (segment.baseOffset >= to || (next && next.baseOffset <= from)) continue
      const start = segment.offsetIndex.loaded ? segment.offsetIndex.lookup(from).position : 0
      for await (const {header} of segment.scanHeaders(start, segment.size)) {
        if (header.lastOffset >= from && header.baseOffset < to) producerState.update(header)
      }
    }
  }

  let logStartOffset = Math.max(opts.logStartOffset, segments[0]?.baseOffset ?? opts.logStartOffset)
  let logEndOffset: number
  let cleanOk = opts.hadCleanShutdown && segments.length > 0
  if (cleanOk) {
    try {
      await segments[segments.length - 1]!.loadActiveState(now)
    } catch (error) {
      report.reasons.push(`clean shutdown marker present but the active segment is unreadable: ${(error as Error).message}`)
      cleanOk = false
    }
  }
  if (cleanOk) {
    logEndOffset = segments[segments.length - 1]!.nextOffsetKnown!
    const snapshot = await producerState.loadLatestSnapshot(logEndOffset, logStartOffset)
    if (snapshot === undefined || snapshot < logEndOffset) await replayProducerState(snapshot ?? logStartOffset, logEndOffset)
  } else {
    // Recovery may truncate, delete and rewrite indexes; the directory is synced before the recovery point moves.
    if (segments.length > 0) changedDirectory = true
    // Recover from the segment holding the recovery point.
    let first = 0
    for (let i = 0; i < segments.length; i++) if (segments[i]!.baseOffset <= opts.recoveryPoint) first = i
    const recoveryStart = segments[first]?.baseOffset ?? logStartOffset
    const snapshot = await producerState.loadLatestSnapshot(recoveryStart, logStartOffset)
    if ((snapshot ?? logStartOffset) < recoveryStart) {
      // Segments below the recovery point are trusted; replay their headers.
      for (const segment of segments.slice(0, first)) await segment.ensureIndexes()
      await replayProducerState(snapshot ?? logStartOffset, recoveryStart)
    }
    producerState.mapEndOffset = recoveryStart
    let expected = first > 0 ? await segments[first - 1]!.readNextOffset() : 0
    let recovering: LogSegment | undefined
    const onBatch = async (header: RecordBatchHeader, batch: Buffer): Promise<void> => {
      // Rebuilds the segment's .txnindex (reset by recover()) as the log does on append.
      const [aborted] = producerState.abortedTransactions([{header, position: 0}], () => controlRecordType(batch) === ControlRecordType.Abort)
      if (aborted) await recovering!.txnIndex.append(aborted)
      producerState.update(header)
      if (header.partitionLeaderEpoch >= 0) await leaderEpochCache.assign(header.partitionLeaderEpoch, header.baseOffset)
    }
    for (let i = first; i < segments.length; i++) {
      const segment = segments[i]!
      if (segment.baseOffset < expected) {
        report.reasons.push(`segment ${segment.baseOffset} overlaps the previous segment, which ends at ${expected}`)
        await deleteFrom(i)
        break
      }
      recovering = segment
      const result = await segment.recover(expected, onBatch)
      await segment.flush()
      // The recovery point will cover this segment: its rebuilt indexes must be durable too.
      if (i < segments.length - 1 && !result.reason) await segment.onBecomeInactive()
      report.recoveredSegments++
      report.truncatedBytes += result.truncatedBytes
      expected = result.nextOffset
      if (result.reason) {
        report.reasons.push(`segment ${segment.baseOffset}: ${result.reason}`)
        await deleteFrom(i + 1)
        break
      }
    }
    logEndOffset = segments.length > 0 ? expected : logStartOffset
    async function deleteFrom(index: number): Promise<void> {
      for (const segment of segments.splice(index)) {
        report.truncatedBytes += segment.size
        report.deletedSegments++
        await segment.deleteFiles()
      }
    }
    if (segments.length > 0) logEndOffset = await segments[segments.length - 1]!.readNextOffset()
  }

  if (segments.length === 0 || logStartOffset > logEndOffset) {
    // Nothing usable (new partition, or recovery cut below the log start offset).
    for (const segment of segments.splice(0)) {
      await segment.deleteFiles()
      changedDirectory = true
    }
    const start = logStartOffset
    // Every segment file of this base offset is gone (step 1 removed orphan indexes): a fresh
    // segment, whose files appear with its first append.
    segments.push(await LogSegment.create(fs, dir, start, segmentConfig(config), handleCache, now, '', true))
    logStartOffset = start
    logEndOffset = start
    producerState.reset(start)
    await producerState.deleteSnapshots('above', -1)
    await leaderEpochCache.clear()
  }

  await leaderEpochCache.truncateFromEnd(logEndOffset)
  await leaderEpochCache.truncateFromStart(logStartOffset)
  if ((await producerState.deleteSnapshots('above', logEndOffset)) > 0) changedDirectory = true
  if ((await producerState.deleteSnapshots('below', segments[0]!.baseOffset)) > 0) changedDirectory = true
  producerState.mapEndOffset = logEndOffset
  await leaderEpochCache.sync() // the recovery point will be the log end offset

  report.durationMs = performance.now() - started
  return {
    segments,
    logStartOffset,
    logEndOffset,
    recoveryPoint: logEndOffset,
    producerState,
    leaderEpochCache,
    report,
    changedDirectory,
    files: names,
  }
}
