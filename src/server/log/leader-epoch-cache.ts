/**
 * LeaderEpochCache: the partition's leader epoch history (Kafka's
 * LeaderEpochFileCache), persisted as `leader-epoch-checkpoint` in the
 * partition directory (format: checkpoints.ts, entries `<epoch> <startOffset>`).
 *
 * Each entry says: from startOffset on, batches were written by the leader of
 * `epoch`. Epochs and start offsets both strictly increase. Appends call
 * assign() with each batch's partitionLeaderEpoch; truncation and log start
 * offset changes trim the history. endOffsetFor() answers OffsetForLeaderEpoch.
 *
 * Owned by one PartitionLog and mutated only under its append lock. Every
 * change replaces the file (tmp + rename) before the mutating call resolves,
 * without fsync (as Kafka since 3.7, KAFKA-15046: no fsync on the produce
 * path); the log calls sync() when it flushes, before advancing its recovery
 * point. A file lost in a crash is rebuilt by recovery from the batches'
 * partitionLeaderEpoch fields after the recovery point; load() drops a corrupt file.
 * A new partition has no file until its first epoch (a missing file is an empty
 * history; Kafka creates an empty one).
 */

import * as nodePath from 'node:path'
import {CorruptCheckpointError, formatCheckpoint, parseCheckpoint, parseOffset} from './checkpoints.js'
import type {FileSystem} from './fs.js'
import {isNotFound, writeFileAtomic} from './fs.js'

export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint'

export interface EpochEntry {
  epoch: number
  startOffset: number
}

export class LeaderEpochCache {
  private entries: EpochEntry[] = []
  readonly path: string
  /** The file may exist (false only after load() found none and nothing was written since). */
  private fileExists = true

  constructor(
    private readonly fs: FileSystem,
    dir: string,
  ) {
    this.path = nodePath.join(dir, LEADER_EPOCH_CHECKPOINT_FILE)
  }

  /**
   * Reads the file; a missing file is an empty history, a corrupt one is discarded (returns false).
   * `exists: false` (from a directory listing the caller has) skips the read.
   */
  async load(exists = true): Promise<boolean> {
    let data: Buffer | undefined
    if (exists) {
      try {
        data = await this.fs.readFile(this.path)
      } catch (error) {
        if (!isNotFound(error)) throw error
      }
    }
    if (data === undefined) {
      this.fileExists = false
      return true
    }
    try {
      const rows = parseCheckpoint(data, 2, this.path).map(([e, o]) => ({
        epoch: parseOffset(e!, this.path),
        startOffset: parseOffset(o!, this.path),
      }))
      for (let i = 1; i < rows.length; i++) {
        if (rows[i]!.epoch <= rows[i - 1]!.epoch || rows[i]!.startOffset < rows[i - 1]!.startOffset) {
          throw new CorruptCheckpointError('Epochs or start offsets are not increasing', this.path)
        }
      }
      this.entries = rows
      return true
    } catch (error) {
      if (!(error instanceof CorruptCheckpointError)) throw error
      this.entries = []
      return false
    }
  }

  epochEntries(): readonly EpochEntry[] {
    return this.entries
  }

  latestEpoch(): number | undefined {
    return this.entries[this.entries.length - 1]?.epoch
  }

  /** Records that `epoch` starts at `startOffset`, if it is newer than the latest epoch. Returns whether it changed. */
  async assign(epoch: number, startOffset: number): Promise<boolean> {
    if (!this.assignInMemory(epoch, startOffset)) return false
    await this.persist()
    return true
  }

  /**
   * assign() without writing the file, for the log's append, which publishes every change of one
   * append in one synchronous step and writes the file after it with persist(). Returns whether
   * the history changed.
   */
  assignInMemory(epoch: number, startOffset: number): boolean {
    if (epoch < 0) return false
    const latest = this.entries[this.entries.length - 1]
    if (latest && (epoch <= latest.epoch || startOffset < latest.startOffset)) return false
    // A new epoch at the same start offset as the previous one replaces it (Kafka does the same).
    if (latest && latest.startOffset === startOffset) this.entries.pop()
    this.entries.push({epoch, startOffset})
    this.unpersisted = true
    return true
  }

  /** In memory only since the last persist() (the log's next append writes the file). */
  get needsPersist(): boolean {
    return this.unpersisted
  }

  private unpersisted = false

  /** Removes entries starting at or after `endOffset` (log truncated to endOffset). */
  async truncateFromEnd(endOffset: number): Promise<void> {
    const before = this.entries.length
    this.entries = this.entries.filter((e) => e.startOffset < endOffset)
    if (this.entries.length !== before) await this.persist()
  }

  /** The log now starts at `startOffset`: drop older epochs, moving the first kept one's start up. */
  async truncateFromStart(startOffset: number): Promise<void> {
    let i = 0
    while (i + 1 < this.entries.length && this.entries[i + 1]!.startOffset <= startOffset) i++
    const first = this.entries[i]
    if (!first || (i === 0 && first.startOffset >= startOffset)) return
    this.entries = [{epoch: first.epoch, startOffset: Math.max(first.startOffset, startOffset)}, ...this.entries.slice(i + 1)]
    await this.persist()
  }

  async clear(): Promise<void> {
    if (this.entries.length === 0 && !this.fileExists) return
    this.entries = []
    await this.persist()
  }

  /**
   * OffsetForLeaderEpoch, as Kafka's LeaderEpochFileCache.endOffsetFor: the largest epoch <=
   * requestedEpoch and the offset at which the next epoch starts (logEndOffset for the latest
   * epoch); for an epoch older than the whole history, that epoch and the first start offset;
   * {-1, -1} for an epoch newer than the latest (or no history).
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): {epoch: number; endOffset: number} {
    const latest = this.entries[this.entries.length - 1]
    if (!latest || requestedEpoch < 0 || requestedEpoch > latest.epoch) return {epoch: -1, endOffset: -1}
    if (requestedEpoch === latest.epoch) return {epoch: latest.epoch, endOffset: logEndOffset}
    if (requestedEpoch < this.entries[0]!.epoch) return {epoch: requestedEpoch, endOffset: this.entries[0]!.startOffset}
    let i = 0
    while (this.entries[i + 1]!.epoch <= requestedEpoch) i++
    return {epoch: this.entries[i]!.epoch, endOffset: this.entries[i + 1]!.startOffset}
  }

  private unsynced = false

  /** Replaces the file with the history in memory (not fsynced: see sync()). */
  async persist(): Promise<void> {
    await writeFileAtomic(this.fs, this.path, formatCheckpoint(this.entries.map((e) => [e.epoch, e.startOffset])), {sync: false})
    this.unpersisted = false
    this.fileExists = true
    this.unsynced = true
  }

  /** fsyncs the file (and its directory) if it changed since the last sync. */
  async sync(): Promise<void> {
    if (!this.unsynced) return
    const handle = await this.fs.open(this.path, 'readWrite')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
    await this.fs.syncDir(nodePath.dirname(this.path))
    this.unsynced = false
  }
}
