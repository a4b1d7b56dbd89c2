/**
 * FileHandleCache: a process-wide cap on open segment files, closing the
 * least recently used ones (so 10,000 partitions with many segments fit
 * within the OS's open-file limit). A CachedFile reopens itself on next use.
 *
 * use() pins the handle for the duration of the callback, so a handle is
 * never closed under a read or write in progress; pinned handles do not
 * count as evictable and the cap may be exceeded briefly while more than
 * `maxOpenFiles` are pinned. All operations are safe to call concurrently
 * (Node's single thread; opens of the same file are de-duplicated).
 */

import type {FileHandle, FileSystem, OpenMode} from './fs.js'

export class FileHandleCache {
  /** Insertion order is recency order: the first entry is the least recently used. */
  private readonly lru = new Map<CachedFile, true>()

  constructor(readonly maxOpenFiles = Infinity) {}

  get openFiles(): number {
    return this.lru.size
  }

  /** @internal */
  touch(file: CachedFile): void {
    this.lru.delete(file)
    this.lru.set(file, true)
  }

  /** @internal */
  forget(file: CachedFile): void {
    this.lru.delete(file)
  }

  /** @internal closes unpinned least-recently-used files until within the cap. */
  async evict(): Promise<void> {
    if (this.lru.size <= this.maxOpenFiles) return
    const victims: CachedFile[] = []
    let excess = this.lru.size - this.maxOpenFiles
    for (const file of this.lru.keys()) {
      if (excess <= 0) break
      if (file.pinned) continue
      victims.push(file)
      excess--
    }
    for (const file of victims) {
      this.lru.delete(file)
      await file.closeHandle()
    }
  }
}

/** One file whose handle the cache may close while idle. */
export class CachedFile {
  private handle: FileHandle | undefined
  private opening: Promise<FileHandle> | undefined
  private pins = 0
  /** Called after the cache closed this file (e.g. to drop in-memory indexes). */
  onEvict: (() => void) | undefined

  constructor(
    private readonly fs: FileSystem,
    public path: string,
    private readonly mode: OpenMode,
    private readonly cache: FileHandleCache,
  ) {}

  get pinned(): boolean {
    return this.pins > 0
  }

  get isOpen(): boolean {
    return this.handle !== undefined
  }

  async use<T>(fn: (handle: FileHandle) => Promise<T>): Promise<T> {
    this.pins++
    try {
      let handle = this.handle
      if (!handle) {
        this.opening ??= this.fs.open(this.path, this.mode)
        try {
          handle = await this.opening
        } finally {
          this.opening = undefined
        }
        if (this.handle) {
          // A concurrent use() opened it first; keep one.
          if (handle !== this.handle) await handle.close()
          handle = this.handle
        } else {
          this.handle = handle
        }
        this.cache.touch(this)
        await this.cache.evict()
      } else {
        this.cache.touch(this)
      }
      return await fn(handle)
    } finally {
      this.pins--
    }
  }

  /** @internal closes the handle if open (the next use() reopens it). */
  async closeHandle(): Promise<void> {
    const handle = this.handle
    this.handle = undefined
    if (handle) {
      await handle.close()
      this.onEvict?.()
    }
  }

  /** Closes for good (segment deleted or log closed). */
  async close(): Promise<void> {
    this.cache.forget(this)
    const handle = this.handle
    this.handle = undefined
    if (handle) await handle.close()
  }
}
