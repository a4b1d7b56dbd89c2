/**
 * LogCleaner: compaction for cleanup.policy=compact and compact,delete
 * (Kafka's LogCleaner / Cleaner).
 *
 * A log is cleanable when its dirty ratio, dirty bytes / (clean + dirty
 * bytes) over the inactive segments, is at least min.cleanable.dirty.ratio
 * (or max.compaction.lag.ms has passed for its oldest dirty batch). The
 * dirty section starts at the log's cleaner checkpoint (first dirty offset,
 * persisted in the data directory's `cleaner-offset-checkpoint`) and ends
 * before the active segment and before any segment newer than
 * min.compaction.lag.ms.
 *
 * One pass: build a map key -> last offset over the dirty section (decoding
 * records, compressed or not), then rewrite every inactive segment up to the
 * end of the dirty section, in groups of consecutive segments that fit in
 * segment.bytes, keeping a record when its key is not in the map or its
 * offset is the latest for the key; tombstones (null values) are dropped once
 * their batch is older than delete.retention.ms. Offsets never change:
 * retained records keep their offsets, rebuilt batches keep their base offset
 * and last offset delta (an emptied last batch of a group is kept as an empty
 * batch, so a segment group's offset range and the producer state survive).
 * Batches where nothing is dropped are copied byte for byte; control batches
 * are kept. Each group is written as `.cleaned` files, then swapped in under
 * the log's append lock (PartitionLog.replaceSegments; crash-safe via `.swap`).
 *
 * Transactions, as Kafka's cleaner treats them: the cleanable section ends
 * before the segment holding the first offset of an open transaction (the
 * last stable offset), since whether its records count is not known yet; the
 * records of aborted transactions (by the `.txnindex` entries: a transactional
 * batch of the producer between the transaction's first offset and its ABORT
 * marker) never enter the offset map, so an aborted newer value cannot make a
 * committed older one go, and they are dropped from the rewritten segments.
 * Transaction markers are kept. A rewritten segment's `.txnindex` starts empty:
 * every aborted transaction whose marker it holds had its records in it or in
 * earlier segments of the cleaned section, and those records are gone.
 *
 * Throttling: reads and writes are limited to ioMaxBytesPerSecond
 * (log.cleaner.io.max.bytes.per.second), and the cleaner yields to the event
 * loop after every yieldEveryBytes, so appends and fetches keep running.
 * One clean at a time (cleanOnce calls are serialized).
 */

import {setImmediate as yieldToEventLoop, setTimeout as sleep} from 'node:timers/promises'
import {type RecordBatchHeader, readBatchHeader} from '../../lib/records/batch.js'
import {buildRecordBatch, decodeRecordBatch, type Record as KafkaRecord} from '../../lib/records/record.js'
import type {AbortedTxn} from './transaction-index.js'
import {type OffsetCheckpointFile, partitionKey} from './checkpoints.js'
import type {FileSystem} from './fs.js'
import {type Clock, systemClock} from './log-config.js'
import {CLEANED_FILE_SUFFIX} from './log-files.js'
import {LogSegment} from './log-segment.js'
import type {PartitionLog} from './partition-log.js'

export interface LogCleanerOptions {
  fs?: FileSystem
  clock?: Clock
  /** Where first dirty offsets are persisted; in memory only when absent. */
  checkpoint?: OffsetCheckpointFile
  /** log.cleaner.io.max.bytes.per.second (default unlimited). */
  ioMaxBytesPerSecond?: number
  /** Keys the offset map may hold in one pass (log.cleaner.dedupe.buffer.size / 24; default 4M). */
  maxMapKeys?: number
  /** Yield to the event loop after this many bytes processed (default 1 MiB). */
  yieldEveryBytes?: number
}

export interface CleanResult {
  topic: string
  partition: number
  /** Bytes of the rewritten segments before and after. */
  bytesRead: number
  bytesWritten: number
  recordsRead: number
  recordsRetained: number
  firstDirtyOffset: number
  /** The new first dirty offset (end of the cleaned section). */
  endOffset: number
  dirtyRatio: number
}

export class LogCleaner {
  private readonly clock: Clock
  private readonly firstDirty = new Map<string, number>()
  private loaded = false
  private running: Promise<unknown> = Promise.resolve()
  private stopped = false
  private bytesThisSecond = 0
  private windowStart = 0

  constructor(private readonly opts: LogCleanerOptions = {}) {
    this.clock = opts.clock ?? systemClock
  }

  private async loadCheckpoint(): Promise<void> {
    if (this.loaded || !this.opts.checkpoint) return
    for (const [key, entry] of await this.opts.checkpoint.read()) if (!this.firstDirty.has(key)) this.firstDirty.set(key, entry.offset)
    this.loaded = true
  }

  private async saveCheckpoint(): Promise<void> {
    if (!this.opts.checkpoint) return
    const entries = [...this.firstDirty.entries()].map(([key, offset]) => {
      const dash = key.lastIndexOf('-')
      return {topic: key.slice(0, dash), partition: Number(key.slice(dash + 1)), offset}
    })
    await this.opts.checkpoint.write(entries)
  }

  forget(log: PartitionLog): void {
    this.firstDirty.delete(partitionKey(log.topic, log.partition))
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.running.catch(() => undefined)
  }

  /** Dirty ratio of the inactive segments and the section bounds. */
  async dirtyRatio(log: PartitionLog): Promise<{ratio: number; firstDirty: number; end: number; cleanBytes: number; dirtyBytes: number}> {
    await this.loadCheckpoint()
    const segments = log.liveSegments()
    const inactive = segments.slice(0, -1)
    const firstDirty = Math.max(this.firstDirty.get(partitionKey(log.topic, log.partition)) ?? 0, log.logStartOffset)
    const now = this.clock.now()
    let end = segments[segments.length - 1]!.baseOffset
    let cleanBytes = 0
    let dirtyBytes = 0
    for (let i = 0; i < inactive.length; i++) {
      const segment = inactive[i]!
      const next = segments[i + 1]!
      if (next.baseOffset <= firstDirty) {
        cleanBytes += segment.size
        continue
      }
      if (log.config.minCompactionLagMs > 0 && now - (await segment.largestTimestamp()) < log.config.minCompactionLagMs) {
        end = segment.baseOffset
        break
      }
      dirtyBytes += segment.size
    }
    const total = cleanBytes + dirtyBytes
    return {ratio: total === 0 ? 0 : dirtyBytes / total, firstDirty, end, cleanBytes, dirtyBytes}
  }

  /** Cleans the dirtiest log whose ratio reaches its min.cleanable.dirty.ratio; undefined if none. */
  cleanOnce(logs: readonly PartitionLog[]): Promise<CleanResult | undefined> {
    const run = this.running.then(async () => {
      let best: {log: PartitionLog; ratio: number} | undefined
      for (const log of logs) {
        const {ratio, firstDirty, end} = await this.dirtyRatio(log)
        if (end <= firstDirty) continue
        if (ratio >= log.config.minCleanableDirtyRatio && (!best || ratio > best.ratio)) best = {log, ratio}
      }
      return best ? this.cleanLocked(best.log) : undefined
    })
    this.running = run.catch(() => undefined)
    return run
  }

  /** Cleans `log` now, whatever its dirty ratio. */
  clean(log: PartitionLog): Promise<CleanResult | undefined> {
    const run = this.running.then(() => this.cleanLocked(log))
    this.running = run.catch(() => undefined)
    return run
  }

  private async throttle(bytes: number): Promise<void> {
    const limit = this.opts.ioMaxBytesPerSecond ?? Infinity
    this.bytesThisSecond += bytes
    if (limit !== Infinity) {
      const now = performance.now()
      if (now - this.windowStart >= 1000) {
        this.windowStart = now
        this.bytesThisSecond = bytes
      } else if (this.bytesThisSecond > limit) {
        await sleep(1000 - (now - this.windowStart))
        this.windowStart = performance.now()
        this.bytesThisSecond = 0
      }
    }
    if (this.bytesThisSecond % (this.opts.yieldEveryBytes ?? 1 << 20) < bytes) await yieldToEventLoop()
  }

  private async *batches(segment: LogSegment): AsyncGenerator<{header: RecordBatchHeader; bytes: Buffer}> {
    for await (const {position, header} of segment.scanHeaders(0, segment.size)) {
      const bytes = await segment.readBytes(position, header.sizeInBytes)
      await this.throttle(bytes.length)
      yield {header, bytes}
    }
  }

  private async cleanLocked(log: PartitionLog): Promise<CleanResult | undefined> {
    if (this.stopped) return undefined
    const {ratio, firstDirty, end: sectionEnd} = await this.dirtyRatio(log)
    const segments = log.liveSegments().slice(0, -1)
    if (sectionEnd <= firstDirty || segments.length === 0) return undefined
    const config = log.config
    const now = this.clock.now()

    // 1. Offset map over the dirty section, whole segments while they fit, below the last stable
    // offset, leaving out aborted transactions.
    const stable = log.lastStableOffset()
    const aborted = await abortedBatches(log, stable)
    const map = new Map<string, number>()
    const maxKeys = this.opts.maxMapKeys ?? 4_000_000
    let end = firstDirty
    for (const segment of segments) {
      const segmentEnd = await segment.readNextOffset()
      if (segmentEnd <= firstDirty) continue
      if (segment.baseOffset >= sectionEnd || segmentEnd > stable) break
      if (map.size >= maxKeys && end > firstDirty) break
      for await (const {header, bytes} of this.batches(segment)) {
        if (header.isControl || header.lastOffset < firstDirty || aborted(header)) continue
        const {records} = await decodeRecordBatch(bytes)
        for (const record of records) {
          if (record.key !== null && record.offset >= firstDirty) map.set(record.key.toString('latin1'), record.offset)
        }
      }
      end = segmentEnd
    }
    if (end <= firstDirty) return undefined

    // 2. Rewrite the segments below `end`, in groups.
    const result: CleanResult = {
      topic: log.topic,
      partition: log.partition,
      bytesRead: 0,
      bytesWritten: 0,
      recordsRead: 0,
      recordsRetained: 0,
      firstDirtyOffset: firstDirty,
      endOffset: end,
      dirtyRatio: ratio,
    }
    const toClean = segments.filter((s) => s.baseOffset < end)
    const groups: LogSegment[][] = []
    for (const segment of toClean) {
      const group = groups[groups.length - 1]
      const next = toClean[toClean.indexOf(segment) + 1]
      const groupSize = group?.reduce((n, s) => n + s.size, 0) ?? 0
      const lastOffset = next ? next.baseOffset - 1 : end - 1
      if (group && groupSize + segment.size <= config.segmentBytes && lastOffset - group[0]!.baseOffset <= 0x7fffffff) group.push(segment)
      else groups.push([segment])
    }
    const fs = this.opts.fs
    if (!fs) throw new Error('LogCleaner needs a file system')
    const tombstoneHorizon = now - config.deleteRetentionMs
    for (const group of groups) {
      if (this.stopped) return result
      const cleaned = await LogSegment.create(
        fs,
        log.dir,
        group[0]!.baseOffset,
        {indexIntervalBytes: config.indexIntervalBytes, segmentIndexBytes: config.segmentIndexBytes},
        log.fileHandleCache,
        now,
        CLEANED_FILE_SUFFIX,
      )
      try {
        for (let g = 0; g < group.length; g++) {
          const segment = group[g]!
          const all: {header: RecordBatchHeader; bytes: Buffer}[] = []
          for await (const batch of this.batches(segment)) all.push(batch)
          for (let b = 0; b < all.length; b++) {
            const {header, bytes} = all[b]!
            const isLastOfGroup = g === group.length - 1 && b === all.length - 1
            result.bytesRead += bytes.length
            let output: Buffer | undefined = bytes
            if (!header.isControl) {
              const {records} = await decodeRecordBatch(bytes)
              result.recordsRead += records.length
              const retained = aborted(header) ? [] : records.filter((r) => this.shouldRetain(r, map, header, tombstoneHorizon))
              result.recordsRetained += retained.length
              if (retained.length < records.length) {
                output = retained.length > 0 || isLastOfGroup ? await this.rebuild(header, retained) : undefined
              }
            }
            if (output) {
              await cleaned.append(output, [{position: 0, header: readBatchHeader(output)}])
              result.bytesWritten += output.length
            }
          }
        }
        await cleaned.onBecomeInactive()
      } catch (error) {
        await cleaned.deleteFiles().catch(() => undefined)
        throw error
      }
      if (!(await log.replaceSegments(group, cleaned))) return result
    }

    // 3. Everything below `end` is clean now.
    this.firstDirty.set(partitionKey(log.topic, log.partition), end)
    await this.saveCheckpoint()
    return result
  }

  private shouldRetain(record: KafkaRecord, map: Map<string, number>, header: RecordBatchHeader, tombstoneHorizon: number): boolean {
    if (record.key === null) return true
    const latest = map.get(record.key.toString('latin1'))
    if (latest !== undefined && record.offset < latest) return false
    if (record.value === null && header.maxTimestamp < tombstoneHorizon) return false
    return true
  }

  private rebuild(header: RecordBatchHeader, records: KafkaRecord[]): Promise<Buffer> {
    return buildRecordBatch({
      baseOffset: header.baseOffset,
      records: records.map((r) => ({offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers})),
      compression: header.compression,
      producerId: header.producerId,
      producerEpoch: header.producerEpoch,
      baseSequence: header.baseSequence,
      isTransactional: header.isTransactional,
      partitionLeaderEpoch: header.partitionLeaderEpoch,
      timestampType: header.timestampType,
      logAppendTime: header.maxTimestamp,
      lastOffsetDelta: header.lastOffsetDelta,
    })
  }
}

/**
 * Whether a batch below `upTo` belongs to an aborted transaction: transactional, not a marker,
 * and between the first offset and the ABORT marker of one of its producer's aborted transactions.
 */
async function abortedBatches(log: PartitionLog, upTo: number): Promise<(header: RecordBatchHeader) => boolean> {
  const byProducer = new Map<number, AbortedTxn[]>()
  for (const txn of await log.collectAbortedTransactions(log.logStartOffset, upTo)) {
    byProducer.set(txn.producerId, [...(byProducer.get(txn.producerId) ?? []), txn])
  }
  return (header) => {
    if (!header.isTransactional || header.isControl) return false
    return byProducer.get(header.producerId)?.some((t) => t.firstOffset <= header.baseOffset && header.lastOffset <= t.lastOffset) ?? false
  }
}
