/**
 * Persistent key-value stores on disk (LMDB through the `lmdb` package), one per store and task in
 * `<state.dir>/<application.id>/<task id>/lmdb/<store>` (Kafka Streams puts RocksDB under
 * `.../<task id>/rocksdb/<store>`). Writes are kept in memory until flush(), which writes them in
 * one LMDB transaction: a commit flushes after the offsets (and, under exactly_once_v2, the
 * transaction) are committed, so the store on disk never holds writes of records whose offsets
 * are not committed except after a crash, when it is wiped and restored from the changelog.
 * A stored value is the record timestamp (8 bytes, big-endian) followed by the value bytes, as
 * Kafka's timestamped stores keep them.
 */
import {mkdirSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {open, type Database, type RootDatabase} from 'lmdb'

export class PersistentKeyValueStore {
  private readonly root: RootDatabase<Buffer, Buffer>
  private readonly db: Database<Buffer, Buffer>
  /** Writes since the last flush, by hex key (null: delete). */
  private readonly dirty = new Map<string, {key: Buffer; value: Buffer | null; timestamp: number}>()

  constructor(
    readonly name: string,
    readonly dir: string,
  ) {
    mkdirSync(dir, {recursive: true})
    this.root = open<Buffer, Buffer>({encoding: 'binary', keyEncoding: 'binary', path: join(dir, 'data.mdb'), noSubdir: true, compression: false}) as RootDatabase<Buffer, Buffer>
    this.db = this.root
  }

  /** LMDB keys cannot be empty: every key is stored behind a 0x00 byte. */
  private static storeKey(key: Buffer): Buffer {
    return Buffer.concat([Buffer.alloc(1), key])
  }

  get(key: Buffer): {value: Buffer; timestamp: number} | undefined {
    const d = this.dirty.get(key.toString('hex'))
    if (d) return d.value === null ? undefined : {timestamp: d.timestamp, value: d.value}
    const raw = this.db.getBinary(PersistentKeyValueStore.storeKey(key)) as Buffer | undefined
    if (!raw) return undefined
    return {timestamp: Number(raw.readBigInt64BE(0)), value: Buffer.from(raw.subarray(8))}
  }

  put(key: Buffer, value: Buffer | null, timestamp: number): void {
    this.dirty.set(key.toString('hex'), {key: Buffer.from(key), timestamp, value: value === null ? null : Buffer.from(value)})
  }

  /** Every row (flushed and not), for interactive queries and tests. */
  *all(): Generator<{key: Buffer; value: Buffer; timestamp: number}> {
    for (const {key, value} of this.db.getRange({})) {
      const k = (key as Buffer).subarray(1)
      if (this.dirty.has(k.toString('hex'))) continue
      const raw = value as Buffer
      yield {key: Buffer.from(k), timestamp: Number(raw.readBigInt64BE(0)), value: Buffer.from(raw.subarray(8))}
    }
    for (const d of this.dirty.values()) if (d.value !== null) yield {key: d.key, timestamp: d.timestamp, value: d.value}
  }

  /**
   * The rows with from <= key < to (either bound optional), flushed and pending merged, in key
   * order (byte order: a big-endian timestamp in a key sorts by time).
   */
  range(from?: Buffer, to?: Buffer): {key: Buffer; value: Buffer; timestamp: number}[] {
    const start = from ? PersistentKeyValueStore.storeKey(from) : undefined
    const end = to ? PersistentKeyValueStore.storeKey(to) : undefined
    const rows: {key: Buffer; value: Buffer; timestamp: number}[] = []
    for (const {key, value} of this.db.getRange({end, start})) {
      const k = (key as Buffer).subarray(1)
      if (this.dirty.has(k.toString('hex'))) continue
      const raw = value as Buffer
      rows.push({key: Buffer.from(k), timestamp: Number(raw.readBigInt64BE(0)), value: Buffer.from(raw.subarray(8))})
    }
    let pending = false
    for (const d of this.dirty.values()) {
      if (d.value === null || (from && Buffer.compare(d.key, from) < 0) || (to && Buffer.compare(d.key, to) >= 0)) continue
      rows.push({key: d.key, timestamp: d.timestamp, value: d.value})
      pending = true
    }
    if (pending) rows.sort((a, b) => Buffer.compare(a.key, b.key))
    return rows
  }

  get pendingWrites(): number {
    return this.dirty.size
  }

  /** Writes the pending writes in one transaction. */
  flush(): void {
    if (this.dirty.size === 0) return
    const entries = [...this.dirty.values()]
    this.dirty.clear()
    this.write(entries)
  }

  /**
   * Writes rows straight to disk in one transaction, in order (null deletes), past the pending
   * writes: for restores and standbys, which apply a changelog to a store nothing else writes.
   */
  write(entries: readonly {key: Buffer; value: Buffer | null; timestamp: number}[]): void {
    if (entries.length === 0) return
    this.db.transactionSync(() => {
      for (const e of entries) {
        const k = PersistentKeyValueStore.storeKey(e.key)
        if (e.value === null) this.db.removeSync(k)
        else {
          const raw = Buffer.allocUnsafe(8 + e.value.length)
          raw.writeBigInt64BE(BigInt(e.timestamp), 0)
          e.value.copy(raw, 8)
          this.db.putSync(k, raw)
        }
      }
    })
  }

  /** Drops the pending writes (a task closed dirty). */
  discard(): void {
    this.dirty.clear()
  }

  async close(): Promise<void> {
    this.dirty.clear()
    await this.root.close()
  }

  /** Removes a store's files (before a restore from the changelog's beginning). */
  static wipe(dir: string): void {
    rmSync(dir, {force: true, recursive: true})
  }
}
