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
 * its append lock. Reads (collect) are synchronous over the loaded entries.
 */

import {ABORTED_TXN_ENTRY_SIZE, type AbortedTxn, decodeAbortedTxns, encodeAbortedTxn} from '../../lib/records/aborted-transactions.js'
import type {FileSystem} from './fs.js'
import {isNotFound, renameIfExists, unlinkIfExists, writeFully} from './fs.js'

export {ABORTED_TXN_ENTRY_SIZE, decodeAbortedTxns, encodeAbortedTxn}
export type {AbortedTxn}

export {controlRecordType} from '../../lib/records/record.js'

export class TransactionIndex {
  private list: AbortedTxn[] | undefined

  constructor(
    private readonly fs: FileSystem,
    public path: string,
  ) {}

  /** The entries, loaded from the file the first time. */
  entries(): Promise<readonly AbortedTxn[]> {
    return this.load()
  }

  private async load(): Promise<AbortedTxn[]> {
    if (!this.list) {
      try {
        this.list = decodeAbortedTxns(await this.fs.readFile(this.path), this.path)
      } catch (error) {
        if (!isNotFound(error)) throw error
        this.list = []
      }
    }
    return this.list
  }

  /** Appends one entry to the file (created if missing). */
  async append(txn: AbortedTxn): Promise<void> {
    const list = await this.load()
    const last = list[list.length - 1]
    if (last && txn.lastOffset <= last.lastOffset) {
      throw new Error(`Aborted transaction ending at ${txn.lastOffset} is not after the last one (${last.lastOffset}) in ${this.path}`)
    }
    const handle = await this.fs.open(this.path, 'readWrite')
    try {
      const bytes = list.length * ABORTED_TXN_ENTRY_SIZE
      await writeFully(handle, encodeAbortedTxn(txn), bytes)
      const size = await handle.size()
      if (size > bytes + ABORTED_TXN_ENTRY_SIZE) await handle.truncate(bytes + ABORTED_TXN_ENTRY_SIZE)
    } finally {
      await handle.close()
    }
    list.push(txn)
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
