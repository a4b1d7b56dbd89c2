/**
 * ProducerStateManager: per-partition state of idempotent/transactional
 * producers (Kafka's ProducerStateManager), and its `.snapshot` files.
 *
 * State per producer id: epoch, the metadata of its last (up to 5) batches
 * (sequence range, offset range, timestamp) for duplicate detection, the
 * coordinator epoch and the first offset of an open transaction.
 *
 * Snapshot file `<20-digit offset>.snapshot`: the state after every batch
 * below `offset`, in Kafka's format (src/lib/records/producer-snapshot.ts).
 * Snapshots are taken on roll (at the new segment's base offset) and on clean
 * shutdown (at the log end offset) unless the files on disk already give the
 * state (Kafka's takeSnapshot skips an offset it has: here, a snapshot written
 * or loaded since the last change, or an empty state with nothing to replay,
 * so an empty or unchanged partition writes nothing on close). On load the log
 * replays batch headers from the latest snapshot at or below the recovery point.
 *
 * Owned by one PartitionLog; mutated only under its append lock.
 */

import * as nodePath from 'node:path'
import type {AbortedTxn} from '../../lib/records/aborted-transactions.js'
import type {RecordBatchHeader} from '../../lib/records/batch.js'
import {type BatchMetadata, CorruptSnapshotError, decodeSnapshot, encodeSnapshot, NUM_BATCHES_TO_RETAIN, type ProducerStateEntry, SNAPSHOT_SUFFIX} from '../../lib/records/producer-snapshot.js'
import {LogError} from './errors.js'
import type {FileSystem} from './fs.js'
import {isNotFound, unlinkIfExists, writeFileAtomic} from './fs.js'
import {filenamePrefixFromOffset, offsetFromFilename} from './log-files.js'

export {CorruptSnapshotError, decodeSnapshot, encodeSnapshot, NUM_BATCHES_TO_RETAIN, SNAPSHOT_SUFFIX}
export type {BatchMetadata, ProducerStateEntry}

export function snapshotFilename(offset: number): string {
  return filenamePrefixFromOffset(offset) + SNAPSHOT_SUFFIX
}

/** Sequence numbers wrap at Int32.MAX_VALUE back to 0 (Kafka's DefaultRecordBatch.incrementSequence). */
function nextSequence(seq: number): number {
  return seq === 0x7fffffff ? 0 : seq + 1
}

export class ProducerStateManager {
  private producers = new Map<number, ProducerStateEntry>()
  /**
   * Open transactions: producer id -> first offset, in first-offset order
   * (appends start transactions in offset order; loading sorts).
   */
  private ongoing = new Map<number, number>()
  private mapEnd = 0
  /** The state changed since the last snapshot written or loaded. */
  private changedSinceSnapshot = true

  /** The state reflects every batch below this offset. */
  get mapEndOffset(): number {
    return this.mapEnd
  }

  set mapEndOffset(offset: number) {
    if (offset !== this.mapEnd) this.changedSinceSnapshot = true
    this.mapEnd = offset
  }

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
  ) {}

  get producerIdCount(): number {
    return this.producers.size
  }

  activeProducers(): ReadonlyMap<number, ProducerStateEntry> {
    return this.producers
  }

  /** First offset of the earliest open transaction (Kafka's firstUnstableOffset), undefined if none. */
  firstUnstableOffset(): number | undefined {
    for (const first of this.ongoing.values()) return first
    return undefined
  }

  /** First offset of `producerId`'s open transaction, -1 if none. */
  openTransactionFirstOffset(producerId: number): number {
    return this.ongoing.get(producerId) ?? -1
  }

  /** Open transactions: producer id -> first offset, earliest first. */
  openTransactions(): ReadonlyMap<number, number> {
    return this.ongoing
  }

  private rebuildOngoing(): void {
    const open = [...this.producers.values()].filter((e) => e.currentTxnFirstOffset >= 0).sort((a, b) => a.currentTxnFirstOffset - b.currentTxnFirstOffset)
    this.ongoing = new Map(open.map((e) => [e.producerId, e.currentTxnFirstOffset]))
  }

  /**
   * The idempotent producer checks for a client batch (Kafka's
   * ProducerAppendInfo.checkProducerEpoch / checkSequence). Returns the
   * metadata of an identical earlier batch when this one is a retry
   * (the caller answers with the original offsets and does not append);
   * throws INVALID_PRODUCER_EPOCH or OUT_OF_ORDER_SEQUENCE_NUMBER.
   */
  checkClientBatch(header: RecordBatchHeader): BatchMetadata | undefined {
    if (header.producerId < 0) return undefined
    const entry = this.producers.get(header.producerId)
    if (!entry) return undefined
    if (header.producerEpoch < entry.producerEpoch) {
      throw new LogError(
        'INVALID_PRODUCER_EPOCH',
        `Epoch ${header.producerEpoch} of producer ${header.producerId} is older than the current epoch ${entry.producerEpoch}`,
      )
    }
    const firstSeq = header.baseSequence
    const lastSeq = (firstSeq + header.lastOffsetDelta) % 0x80000000
    if (header.producerEpoch > entry.producerEpoch) {
      if (firstSeq !== 0) {
        throw new LogError(
          'OUT_OF_ORDER_SEQUENCE_NUMBER',
          `New epoch ${header.producerEpoch} of producer ${header.producerId} must start at sequence 0, not ${firstSeq}`,
        )
      }
      return undefined
    }
    const duplicate = entry.batches.find((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq)
    if (duplicate) return duplicate
    const last = entry.batches[entry.batches.length - 1]
    if (last && firstSeq !== nextSequence(last.lastSeq)) {
      throw new LogError(
        'OUT_OF_ORDER_SEQUENCE_NUMBER',
        `Out of order sequence ${firstSeq} for producer ${header.producerId} (last sequence ${last.lastSeq})`,
      )
    }
    return undefined
  }

  /**
   * The check Kafka's ProducerAppendInfo makes of a data batch a coordinator writes for a producer
   * (AppendOrigin.COORDINATOR: the transactional offsets of TxnOffsetCommit): its epoch must not be
   * older than the producer's, so a fenced (zombie) producer cannot add offsets to the log after
   * its successor started; sequences are not checked (coordinator batches carry none). Throws
   * INVALID_PRODUCER_EPOCH.
   *
   * A transaction marker (`markerCoordinatorEpoch`: the epoch in its value) is refused
   * TRANSACTION_COORDINATOR_FENCED when a marker from a newer coordinator epoch already ended a
   * transaction of this producer (Kafka's checkCoordinatorEpoch): a coordinator paused past its
   * leadership of __transaction_state cannot end, with a late marker, the next transaction its
   * successor let the producer open. Its producer epoch is left to the transaction coordinator,
   * which writes markers with the epoch it holds (a bumped one after a timeout).
   */
  checkCoordinatorBatch(header: RecordBatchHeader, markerCoordinatorEpoch?: number): void {
    if (header.producerId < 0) return
    const entry = this.producers.get(header.producerId)
    if (!entry) return
    if (header.isControl) {
      if (markerCoordinatorEpoch !== undefined && entry.coordinatorEpoch > markerCoordinatorEpoch) {
        throw new LogError(
          'TRANSACTION_COORDINATOR_FENCED',
          `Marker of coordinator epoch ${markerCoordinatorEpoch} for producer ${header.producerId} is older than the coordinator epoch ${entry.coordinatorEpoch} of its last marker`,
        )
      }
      return
    }
    if (header.producerEpoch < entry.producerEpoch) {
      throw new LogError(
        'INVALID_PRODUCER_EPOCH',
        `Epoch ${header.producerEpoch} of producer ${header.producerId} is older than the current epoch ${entry.producerEpoch}`,
      )
    }
  }

  /**
   * The transactions that appending `batches` (in this order, offsets assigned) aborts: the
   * `.txnindex` entries their ABORT markers add, each with the last stable offset once its marker
   * is in. Computed without changing the state, so that the log can write the entries before it
   * applies the batches with update() (Kafka's completed transactions of a ProducerAppendInfo).
   */
  abortedTransactions(batches: ReadonlyArray<{header: RecordBatchHeader; position: number}>, isAbortMarker: (position: number) => boolean): AbortedTxn[] {
    let ongoing: Map<number, number> | undefined
    const aborted: AbortedTxn[] = []
    for (const {header, position} of batches) {
      if (!header.isTransactional || header.producerId < 0) continue
      ongoing ??= new Map(this.ongoing)
      if (!header.isControl) {
        if (!ongoing.has(header.producerId)) ongoing.set(header.producerId, header.baseOffset)
        continue
      }
      const firstOffset = ongoing.get(header.producerId)
      ongoing.delete(header.producerId)
      if (firstOffset === undefined || !isAbortMarker(position)) continue
      let lastStableOffset = header.lastOffset + 1
      for (const first of ongoing.values()) {
        lastStableOffset = first
        break
      }
      aborted.push({producerId: header.producerId, firstOffset, lastOffset: header.baseOffset, lastStableOffset})
    }
    return aborted
  }

  /**
   * Applies one appended batch (offsets already assigned). `markerCoordinatorEpoch`: for a
   * transaction marker, the coordinator epoch in its value, when the caller read it (appends do;
   * a replay of headers does not, and keeps the epoch of the snapshot).
   */
  update(header: RecordBatchHeader, markerCoordinatorEpoch?: number): void {
    this.mapEndOffset = Math.max(this.mapEndOffset, header.lastOffset + 1)
    this.changedSinceSnapshot = true
    if (header.producerId < 0) return
    let entry = this.producers.get(header.producerId)
    if (!entry) {
      entry = {
        producerId: header.producerId,
        producerEpoch: header.producerEpoch,
        coordinatorEpoch: -1,
        lastTimestamp: header.maxTimestamp,
        currentTxnFirstOffset: -1,
        batches: [],
      }
      this.producers.set(header.producerId, entry)
    }
    if (header.producerEpoch > entry.producerEpoch) {
      entry.producerEpoch = header.producerEpoch
      entry.batches = []
    }
    entry.lastTimestamp = header.maxTimestamp
    if (header.isControl) {
      // An end-transaction marker closes the open transaction.
      if (markerCoordinatorEpoch !== undefined) entry.coordinatorEpoch = markerCoordinatorEpoch
      entry.currentTxnFirstOffset = -1
      this.ongoing.delete(header.producerId)
      return
    }
    if (header.isTransactional && entry.currentTxnFirstOffset < 0) {
      entry.currentTxnFirstOffset = header.baseOffset
      this.ongoing.set(header.producerId, header.baseOffset)
    }
    if (header.baseSequence < 0) return
    entry.batches.push({
      firstSeq: header.baseSequence,
      lastSeq: (header.baseSequence + header.lastOffsetDelta) % 0x80000000,
      firstOffset: header.baseOffset,
      lastOffset: header.lastOffset,
      timestamp: header.maxTimestamp,
    })
    if (entry.batches.length > NUM_BATCHES_TO_RETAIN) entry.batches.shift()
  }

  /** Drops producers idle for producer.id.expiration.ms without an open transaction. */
  removeExpiredProducers(now: number, expirationMs: number): void {
    for (const [id, entry] of this.producers) {
      if (entry.currentTxnFirstOffset < 0 && now - entry.lastTimestamp >= expirationMs) {
        this.producers.delete(id)
        this.changedSinceSnapshot = true
      }
    }
  }

  /** Forgets everything; the state restarts at `offset`. */
  reset(offset: number): void {
    this.producers = new Map()
    this.ongoing = new Map()
    this.mapEndOffset = offset
    this.changedSinceSnapshot = true
  }

  /** Snapshot offsets on disk; read from the directory once, then maintained here (this manager owns the files). */
  private snapshotOffsets: Set<number> | undefined

  /** Seeds the snapshot list from a directory listing the caller already has. */
  setDirectoryListing(names: readonly string[]): void {
    this.snapshotOffsets = new Set(
      names.filter((n) => n.endsWith(SNAPSHOT_SUFFIX)).map((n) => offsetFromFilename(n)).filter((o): o is number => o !== undefined),
    )
  }

  async listSnapshotOffsets(): Promise<number[]> {
    if (!this.snapshotOffsets) this.setDirectoryListing(await this.fs.readdir(this.dir))
    return [...this.snapshotOffsets!].sort((a, b) => a - b)
  }

  /** Writes `<mapEndOffset>.snapshot` (fsynced, and its directory). */
  async takeSnapshot(): Promise<void> {
    const path = nodePath.join(this.dir, snapshotFilename(this.mapEndOffset))
    await writeFileAtomic(this.fs, path, encodeSnapshot(this.producers.values()))
    this.snapshotOffsets?.add(this.mapEndOffset)
    this.changedSinceSnapshot = false
  }

  /**
   * Whether a load of the files as they are (the latest snapshot at or below
   * mapEndOffset, then the batches after it, from `logStartOffset` when there is
   * none) would miss this state: false after a snapshot was written or loaded
   * with no change since, and for an empty state with no snapshot and nothing to
   * replay (a new partition).
   */
  async needsSnapshot(logStartOffset: number): Promise<boolean> {
    if (!this.changedSinceSnapshot) return false
    if (this.producers.size > 0 || this.mapEndOffset > logStartOffset) return true
    return (await this.listSnapshotOffsets()).some((o) => o <= this.mapEndOffset)
  }

  /**
   * Loads the latest readable snapshot at or below `maxOffset`, deleting
   * corrupt ones. Returns the snapshot offset, or undefined if none (state reset to `fallbackOffset`).
   */
  async loadLatestSnapshot(maxOffset: number, fallbackOffset: number): Promise<number | undefined> {
    const offsets = (await this.listSnapshotOffsets()).filter((o) => o <= maxOffset).reverse()
    for (const offset of offsets) {
      const path = nodePath.join(this.dir, snapshotFilename(offset))
      try {
        const entries = decodeSnapshot(await this.fs.readFile(path))
        this.producers = new Map(entries.map((e) => [e.producerId, e]))
        this.rebuildOngoing()
        this.mapEndOffset = offset
        this.changedSinceSnapshot = false
        return offset
      } catch (error) {
        if (!(error instanceof CorruptSnapshotError) && !isNotFound(error)) throw error
        await this.deleteSnapshot(offset)
      }
    }
    this.reset(fallbackOffset)
    return undefined
  }

  async deleteSnapshot(offset: number): Promise<void> {
    if (offset === this.mapEndOffset) this.changedSinceSnapshot = true
    this.snapshotOffsets?.delete(offset)
    await unlinkIfExists(this.fs, nodePath.join(this.dir, snapshotFilename(offset)))
  }

  /** Deletes snapshots with offset < `offset` (retention) or > `offset` (truncation), per `which`; returns how many. */
  async deleteSnapshots(which: 'below' | 'above', offset: number): Promise<number> {
    let deleted = 0
    for (const o of await this.listSnapshotOffsets()) {
      if (which === 'below' ? o < offset : o > offset) {
        await this.deleteSnapshot(o)
        deleted++
      }
    }
    return deleted
  }
}
