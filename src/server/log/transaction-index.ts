/**
 * TransactionIndex: a segment's index of aborted transactions (Kafka's
 * TransactionIndex), the file `<20-digit base offset>.txnindex`.
 *
 * Format (Kafka's AbortedTxn, big-endian, 34 bytes per entry, no header):
 *   int16 version = 0
 *   int64 producer_id
 *   int64 first_offset       first offset of the aborted transaction
 *   int64 last_offset        offset of its ABORT marker
 *   int64 last_stable_offset the partition's LSO once the marker was written
 * An entry lives in the segment that holds its ABORT marker, so a fetch from
 * offset `o` finds every aborted transaction ending at or after `o` in the
 * segments from the one holding `o` on.
 *
 * Like the other indexes this is derived data: crash recovery rebuilds it for
 * the segments it re-validates (from the control batches and the producer
 * state), a trailing partial entry is dropped on load. Entries are appended
 * to the file as markers are written (not fsynced: the segment flush syncs
 * it, and a segment that was not flushed is re-scanned by recovery).
 *
 * Not safe for concurrent mutation; the owning log serializes writes under
 * its append lock. An append is two steps so that a reader never sees an
 * aborted transaction before or after the log state it belongs to: write()
 * puts the entries in the file (invisible: collect() reads the in-memory
 * list), publish() adds them to the list synchronously, in the same step in
 * which the log moves its end offset and producer state past their markers.
 * The file is read once (single flight), on the first use.
 */

import {ABORTED_TXN_ENTRY_SIZE, type AbortedTxn, decodeAbortedTxns, encodeAbortedTxn} from '../../lib/records/aborted-transactions.js'
import type {FileSystem} from './fs.js'
import {isNotFound, renameIfExists, unlinkIfExists, writeFully} from './fs.js'

export {ABORTED_TXN_ENTRY_SIZE, decodeAbortedTxns, encodeAbortedTxn}
export type {AbortedTxn}

export {controlRecordType} from '../../lib/records/record.js'

export class TransactionIndex {
  private list: AbortedTxn[] | undefined
  private loading: Promise<AbortedTxn[]> | undefined

  constructor(
    private readonly fs: FileSystem,
    public path: string,
  ) {}

  /** The entries, loaded from the file the first time. */
  entries(): Promise<readonly AbortedTxn[]> {
    return this.load()
  }

  private load(): Promise<AbortedTxn[]> {
    if (this.list) return Promise.resolve(this.list)
    this.loading ??= this.readFile().then(
      (list) => {
        // A rewrite() while the file was read wins: it is newer.
        this.list ??= list
        this.loading = undefined
        return this.list
      },
      (error: unknown) => {
        this.loading = undefined
        throw error
      },
    )
    return this.loading
  }

  private async readFile(): Promise<AbortedTxn[]> {
    try {
      return decodeAbortedTxns(await this.fs.readFile(this.path), this.path)
    } catch (error) {
      if (!isNotFound(error)) throw error
      return []
    }
  }

  /**
   * Writes `txns` (in marker order, after every published entry) to the file,
   * not yet visible to collect(); publish() makes them visible. A write that is
   * never published is overwritten by the next one (and dropped on load only
   * if torn: derived data, rebuilt by recovery).
   */
  async write(txns: readonly AbortedTxn[]): Promise<void> {
    if (txns.length === 0) return
    const list = await this.load()
    let previous = list[list.length - 1]?.lastOffset ?? -1
    for (const txn of txns) {
      if (txn.lastOffset <= previous) {
        throw new Error(`Aborted transaction ending at ${txn.lastOffset} is not after the last one (${previous}) in ${this.path}`)
      }
      previous = txn.lastOffset
    }
    const handle = await this.fs.open(this.path, 'readWrite')
    try {
      const bytes = list.length * ABORTED_TXN_ENTRY_SIZE
      const end = bytes + txns.length * ABORTED_TXN_ENTRY_SIZE
      await writeFully(handle, Buffer.concat(txns.map(encodeAbortedTxn)), bytes)
      const size = await handle.size()
      if (size > end) await handle.truncate(end)
    } finally {
      await handle.close()
    }
  }

  /** Makes entries that write() put in the file visible to collect(); synchronous. */
  publish(txns: readonly AbortedTxn[]): void {
    if (txns.length === 0) return
    if (!this.list) throw new Error(`publish() before write() in ${this.path}`)
    this.list.push(...txns)
  }

  /** write() and publish() in one go (recovery, where nothing reads concurrently). */
  async append(txn: AbortedTxn): Promise<void> {
    await this.write([txn])
    this.publish([txn])
  }

  /** Aborted transactions overlapping [fetchOffset, upperBoundOffset). */
  async collect(fetchOffset: number, upperBoundOffset: number): Promise<AbortedTxn[]> {
    return (await this.entries()).filter((t) => t.lastOffset >= fetchOffset && t.firstOffset < upperBoundOffset)
  }

  /** Drops entries whose marker is at or after `offset` (log truncation). */
  async truncateTo(offset: number): Promise<void> {
    const list = await this.load()
    const keep = list.filter((t) => t.lastOffset < offset)
    if (keep.length === list.length) return
    await this.rewrite(keep)
  }

  /** Empties the index (recovery rebuilds it). */
  async reset(): Promise<void> {
    await this.rewrite([])
  }

  async sync(): Promise<void> {
    if ((this.list?.length ?? 0) === 0) return
    try {
      const handle = await this.fs.open(this.path, 'readWrite')
      try {
        await handle.sync()
      } finally {
        await handle.close()
      }
    } catch (error) {
      if (!isNotFound(error)) throw error
    }
  }

  async renameTo(path: string): Promise<void> {
    await renameIfExists(this.fs, this.path, path)
    this.path = path
  }

  async deleteIfExists(): Promise<void> {
    await unlinkIfExists(this.fs, this.path)
    this.list = []
  }

  private async rewrite(entries: AbortedTxn[]): Promise<void> {
    this.list = entries
    if (entries.length === 0) {
      try {
        await this.fs.unlink(this.path)
      } catch (error) {
        if (!isNotFound(error)) throw error
      }
      return
    }
    const handle = await this.fs.open(this.path, 'readWrite')
    try {
      await handle.truncate(0)
      await writeFully(handle, Buffer.concat(entries.map(encodeAbortedTxn)), 0)
      await handle.sync()
    } finally {
      await handle.close()
    }
  }
}
