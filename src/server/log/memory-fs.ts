/**
 * MemoryFileSystem: an in-memory FileSystem for tests, with fault injection
 * and a crash model.
 *
 * Faults (set fields of `faults` at any time):
 * - capacityBytes: total bytes all files may hold; a write that would exceed it
 *   writes what fits (like a real disk filling up mid-write) and then fails
 *   with ENOSPC on the next call; a write with no room fails at once.
 * - failSyncs: the next N sync() calls fail with EIO (data stays unsynced).
 * - shortWrites: the next N write() calls write only half of what was asked.
 * - failWrites: the next N write() calls fail with EIO, writing nothing.
 *
 * Crash model: each file keeps the contents as of its last successful sync().
 * crash() throws away everything written since (open handles become invalid),
 * as a power loss would. Directory operations (create, rename, unlink) are
 * treated as immediately durable.
 *
 * Single-threaded like everything in Node; all methods may be called
 * concurrently.
 */

import * as nodePath from 'node:path'
import type {FileHandle, FileStat, FileSystem, OpenMode} from './fs.js'

export interface FaultConfig {
  capacityBytes?: number
  failSyncs?: number
  shortWrites?: number
  failWrites?: number
}

interface MemFile {
  data: Buffer
  length: number
  durable: Buffer
  mtimeMs: number
  /** Bumped by crash(): handles opened before a crash fail with EBADF. */
  generation: number
}

function errnoError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), {code})
}

export class MemoryFileSystem implements FileSystem {
  readonly faults: FaultConfig = {}
  /** Counters for tests. */
  readonly stats = {openHandles: 0, opens: 0, syncs: 0, writes: 0}
  private readonly files = new Map<string, MemFile>()
  private readonly dirs = new Set<string>(['/'])
  private generation = 0

  constructor(private readonly now: () => number = Date.now) {}

  /** Bytes held by all files (what capacityBytes limits). */
  usedBytes(): number {
    let total = 0
    for (const file of this.files.values()) total += file.length
    return total
  }

  /** Drops every unsynced write, as a power failure would. */
  crash(): void {
    this.generation++
    for (const file of this.files.values()) {
      file.data = Buffer.from(file.durable)
      file.length = file.durable.length
      file.generation = this.generation
    }
    this.stats.openHandles = 0
  }

  /** Test helper: the whole current (not necessarily durable) contents. */
  peek(path: string): Buffer | undefined {
    const file = this.files.get(nodePath.resolve(path))
    return file ? Buffer.from(file.data.subarray(0, file.length)) : undefined
  }

  /** Test helper: overwrite bytes in place (e.g. to simulate bit rot), marking them durable. */
  corrupt(path: string, position: number, bytes: Buffer): void {
    const file = this.mustGet(nodePath.resolve(path))
    bytes.copy(file.data, position, 0, Math.max(0, Math.min(bytes.length, file.length - position)))
    file.durable = Buffer.from(file.data.subarray(0, file.length))
  }

  private mustGet(path: string): MemFile {
    const file = this.files.get(path)
    if (!file) throw errnoError('ENOENT', `no such file ${path}`)
    return file
  }

  private checkParent(path: string): void {
    if (!this.dirs.has(nodePath.dirname(path))) throw errnoError('ENOENT', `no such directory ${nodePath.dirname(path)}`)
  }

  async open(path: string, mode: OpenMode): Promise<FileHandle> {
    path = nodePath.resolve(path)
    let file = this.files.get(path)
    if (!file) {
      if (mode === 'read') throw errnoError('ENOENT', `no such file ${path}`)
      if (this.dirs.has(path)) throw errnoError('EISDIR', path)
      this.checkParent(path)
      file = {data: Buffer.alloc(0), length: 0, durable: Buffer.alloc(0), mtimeMs: this.now(), generation: this.generation}
      this.files.set(path, file)
    }
    this.stats.opens++
    this.stats.openHandles++
    return new MemoryFileHandle(this, file, path, mode === 'read')
  }

  /** @internal used by MemoryFileHandle */
  writeTo(file: MemFile, buffer: Buffer, offset: number, length: number, position: number): number {
    this.stats.writes++
    if (this.faults.failWrites && this.faults.failWrites > 0) {
      this.faults.failWrites--
      throw errnoError('EIO', 'injected write failure')
    }
    let n = length
    if (this.faults.shortWrites && this.faults.shortWrites > 0 && length > 1) {
      this.faults.shortWrites--
      n = Math.floor(length / 2)
    }
    const growth = Math.max(0, position + n - file.length)
    if (this.faults.capacityBytes !== undefined && growth > 0) {
      const room = this.faults.capacityBytes - this.usedBytes()
      if (room <= 0) throw errnoError('ENOSPC', 'no space left on device')
      if (growth > room) n -= growth - room
      if (n <= 0) throw errnoError('ENOSPC', 'no space left on device')
    }
    const end = position + n
    if (end > file.data.length) {
      const grown = Buffer.alloc(Math.max(end, file.data.length * 2, 4096))
      file.data.copy(grown, 0, 0, file.length)
      file.data = grown
    }
    if (position > file.length) file.data.fill(0, file.length, position)
    buffer.copy(file.data, position, offset, offset + n)
    file.length = Math.max(file.length, end)
    file.mtimeMs = this.now()
    return n
  }

  /** @internal */
  truncateFile(file: MemFile, size: number): void {
    if (size > file.length) {
      if (this.faults.capacityBytes !== undefined && size - file.length > this.faults.capacityBytes - this.usedBytes()) {
        throw errnoError('ENOSPC', 'no space left on device')
      }
      if (size > file.data.length) {
        const grown = Buffer.alloc(size)
        file.data.copy(grown, 0, 0, file.length)
        file.data = grown
      } else {
        file.data.fill(0, file.length, size)
      }
    }
    file.length = size
    file.mtimeMs = this.now()
  }

  /** @internal */
  syncFile(file: MemFile): void {
    this.stats.syncs++
    if (this.faults.failSyncs && this.faults.failSyncs > 0) {
      this.faults.failSyncs--
      throw errnoError('EIO', 'injected fsync failure')
    }
    file.durable = Buffer.from(file.data.subarray(0, file.length))
  }

  /** @internal */
  checkGeneration(file: MemFile, path: string): void {
    if (file.generation !== this.generation || this.files.get(path) === undefined) {
      // A crash happened or the file was unlinked; unlinked files stay usable on POSIX,
      // so only the crash case is an error.
      if (file.generation !== this.generation) throw errnoError('EBADF', `handle predates crash: ${path}`)
    }
  }

  /** @internal */
  closed(): void {
    this.stats.openHandles--
  }

  async readFile(path: string): Promise<Buffer> {
    const file = this.mustGet(nodePath.resolve(path))
    return Buffer.from(file.data.subarray(0, file.length))
  }

  async writeFile(path: string, data: Buffer): Promise<void> {
    const handle = await this.open(path, 'readWrite')
    try {
      await handle.truncate(0)
      let done = 0
      while (done < data.length) done += await handle.write(data, done, data.length - done, done)
    } finally {
      await handle.close()
    }
  }

  async rename(from: string, to: string): Promise<void> {
    from = nodePath.resolve(from)
    to = nodePath.resolve(to)
    if (this.dirs.has(from)) {
      this.checkParent(to)
      for (const [p, f] of [...this.files]) {
        if (p.startsWith(from + '/')) {
          this.files.delete(p)
          this.files.set(to + p.slice(from.length), f)
        }
      }
      for (const d of [...this.dirs]) {
        if (d === from || d.startsWith(from + '/')) {
          this.dirs.delete(d)
          this.dirs.add(to + d.slice(from.length))
        }
      }
      return
    }
    const file = this.mustGet(from)
    this.checkParent(to)
    this.files.delete(from)
    this.files.set(to, file)
  }

  async unlink(path: string): Promise<void> {
    path = nodePath.resolve(path)
    this.mustGet(path)
    this.files.delete(path)
  }

  async readdir(path: string): Promise<string[]> {
    path = nodePath.resolve(path)
    if (!this.dirs.has(path)) throw errnoError('ENOENT', `no such directory ${path}`)
    const names = new Set<string>()
    const prefix = path === '/' ? '/' : path + '/'
    for (const p of [...this.files.keys(), ...this.dirs]) {
      if (p !== path && p.startsWith(prefix)) names.add(p.slice(prefix.length).split('/')[0]!)
    }
    return [...names].sort()
  }

  async mkdir(path: string): Promise<boolean> {
    path = nodePath.resolve(path)
    const created = !this.dirs.has(path)
    while (!this.dirs.has(path)) {
      if (this.files.has(path)) throw errnoError('EEXIST', path)
      this.dirs.add(path)
      path = nodePath.dirname(path)
    }
    return created
  }

  async rmrf(path: string): Promise<void> {
    path = nodePath.resolve(path)
    this.files.delete(path)
    for (const p of [...this.files.keys()]) if (p.startsWith(path + '/')) this.files.delete(p)
    for (const d of [...this.dirs]) if (d === path || d.startsWith(path + '/')) this.dirs.delete(d)
  }

  async stat(path: string): Promise<FileStat | undefined> {
    path = nodePath.resolve(path)
    if (this.dirs.has(path)) return {size: 0, mtimeMs: 0, isDirectory: true}
    const file = this.files.get(path)
    return file ? {size: file.length, mtimeMs: file.mtimeMs, isDirectory: false} : undefined
  }

  async syncDir(path: string): Promise<void> {
    path = nodePath.resolve(path)
    if (!this.dirs.has(path)) throw errnoError('ENOENT', `no such directory ${path}`)
    this.stats.syncs++
    if (this.faults.failSyncs && this.faults.failSyncs > 0) {
      this.faults.failSyncs--
      throw errnoError('EIO', 'injected fsync failure')
    }
  }
}

class MemoryFileHandle implements FileHandle {
  private open = true

  constructor(
    private readonly fs: MemoryFileSystem,
    private readonly file: MemFile,
    private readonly path: string,
    private readonly readOnly: boolean,
  ) {}

  private check(): void {
    if (!this.open) throw errnoError('EBADF', `handle closed: ${this.path}`)
    this.fs.checkGeneration(this.file, this.path)
  }

  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return this.readNow(buffer, offset, length, position)
  }

  /** As NodeFileHandle's: hot fetch reads come here without a hop (the same bytes, at once). */
  readNow(buffer: Buffer, offset: number, length: number, position: number): number {
    this.check()
    const n = Math.max(0, Math.min(length, this.file.length - position))
    this.file.data.copy(buffer, offset, position, position + n)
    return n
  }

  async write(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    this.check()
    if (this.readOnly) throw errnoError('EBADF', `read-only handle: ${this.path}`)
    return this.fs.writeTo(this.file, buffer, offset, length, position)
  }

  async truncate(size: number): Promise<void> {
    this.check()
    this.fs.truncateFile(this.file, size)
  }

  async sync(): Promise<void> {
    this.check()
    this.fs.syncFile(this.file)
  }

  async size(): Promise<number> {
    this.check()
    return this.file.length
  }

  async close(): Promise<void> {
    if (!this.open) return
    this.open = false
    this.fs.closed()
  }
}
