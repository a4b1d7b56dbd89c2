/**
 * The file system the log layer uses, behind a small interface so tests can
 * swap in MemoryFileSystem (memory-fs.ts) and inject faults: failed fsync,
 * short writes, a full disk.
 *
 * Everything is positional (pread/pwrite style): the log never relies on a
 * file cursor, so a failed or short write can always be retried or overwritten
 * at the same position. Errors are Node-style: an Error with `code` ('ENOENT',
 * 'ENOSPC', 'EIO', ...).
 *
 * Concurrency: a FileHandle may be used by concurrent reads; writes to one file
 * are serialized by its owner (the log is single-writer).
 */

import * as fsp from 'node:fs/promises'
import {constants, readSync, writeSync} from 'node:fs'
import * as nodePath from 'node:path'

export interface FileHandle {
  /** Reads up to `length` bytes at file `position` into buffer[offset..]; returns bytes read (0 at EOF). */
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number>
  /**
   * read() on the calling thread, for bytes the page cache very likely holds (see readAt's `hot`);
   * a file system without it reads them as any other.
   */
  readNow?(buffer: Buffer, offset: number, length: number, position: number): number
  /** Writes buffer[offset, offset+length) at file `position`; may write fewer bytes (a short write). */
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<number>
  truncate(size: number): Promise<void>
  /** fsync: the data written so far survives a crash once this resolves. */
  sync(): Promise<void>
  size(): Promise<number>
  close(): Promise<void>
}

export interface FileStat {
  size: number
  mtimeMs: number
  isDirectory: boolean
}

/** 'read': must exist; 'readWrite': created if missing, never truncated. */
export type OpenMode = 'read' | 'readWrite'

export interface FileSystem {
  open(path: string, mode: OpenMode): Promise<FileHandle>
  /** Whole file; rejects with ENOENT when missing. */
  readFile(path: string): Promise<Buffer>
  /** Creates or replaces the file's contents (not atomic, not synced; see writeFileAtomic). */
  writeFile(path: string, data: Buffer): Promise<void>
  rename(from: string, to: string): Promise<void>
  unlink(path: string): Promise<void>
  /** Names (not paths) of the entries of a directory. */
  readdir(path: string): Promise<string[]>
  /** mkdir -p; true when `path` itself was created (it did not exist). */
  mkdir(path: string): Promise<boolean>
  /** rm -rf */
  rmrf(path: string): Promise<void>
  stat(path: string): Promise<FileStat | undefined>
  /** fsync of a directory, making creates/renames/unlinks in it durable. */
  syncDir(path: string): Promise<void>
}

/** Writes all of buffer[offset, offset+length) at `position`, looping over short writes. */
export async function writeFully(
  handle: FileHandle,
  buffer: Buffer,
  position: number,
  offset = 0,
  length = buffer.length - offset,
): Promise<void> {
  let done = 0
  while (done < length) {
    const n = await handle.write(buffer, offset + done, length - done, position + done)
    if (n <= 0) throw Object.assign(new Error(`write returned ${n}`), {code: 'EIO'})
    done += n
  }
}

/**
 * Reads up to `length` bytes at `position`; returns a buffer shorter than `length` only at EOF.
 * `hot`: the bytes were written recently (the active segment's), so the read runs on the calling
 * thread (FileHandle.readNow) unless logReads says otherwise.
 */
export async function readAt(handle: FileHandle, position: number, length: number, allocate: (size: number) => Buffer = Buffer.allocUnsafe, hot = false): Promise<Buffer> {
  const buffer = allocate(length)
  let done = 0
  const now = hot && handle.readNow !== undefined && !logReads.onPool()
  while (done < length) {
    const n = now ? logReads.timed(() => handle.readNow!(buffer, done, length - done, position + done)) : await handle.read(buffer, done, length - done, position + done)
    if (n === 0) break
    done += n
  }
  return done === length ? buffer : buffer.subarray(0, done)
}

/**
 * Replaces `path` atomically: write `path.tmp`, fsync it, rename over `path`,
 * fsync the directory. A crash leaves either the old or the new contents
 * (plus possibly a stray .tmp, which loaders delete). Kafka's checkpoint files
 * are written this way. With sync: false the rename still replaces the file in
 * one step, but the new contents are durable only after a later fsync. With
 * syncDir: false the contents are fsynced before the rename but the rename is
 * durable only after the caller's later fsync of the directory (a batch of
 * files in one directory, or new directories synced together).
 */
export async function writeFileAtomic(fs: FileSystem, path: string, data: Buffer, opts: {sync?: boolean; syncDir?: boolean} = {}): Promise<void> {
  const sync = opts.sync ?? true
  const tmp = `${path}.tmp`
  const handle = await fs.open(tmp, 'readWrite')
  try {
    await handle.truncate(0)
    await writeFully(handle, data, 0)
    if (sync) await handle.sync()
  } finally {
    await handle.close()
  }
  await fs.rename(tmp, path)
  if (sync && (opts.syncDir ?? true)) await fs.syncDir(nodePath.dirname(path))
}

export function isNotFound(error: unknown): boolean {
  return (error as {code?: string} | undefined)?.code === 'ENOENT'
}

/** Unlinks `path`; a file that is already gone is not an error. */
export async function unlinkIfExists(fs: FileSystem, path: string): Promise<void> {
  try {
    await fs.unlink(path)
  } catch (error) {
    if (!isNotFound(error)) throw error
  }
}

/** Renames `from` to `to`; a file that is not there is not an error. */
export async function renameIfExists(fs: FileSystem, from: string, to: string): Promise<void> {
  try {
    await fs.rename(from, to)
  } catch (error) {
    if (!isNotFound(error)) throw error
  }
}

/**
 * Where the log's page-cache I/O runs: on the calling thread while it is fast; after an operation
 * slower than `slowMs` (the kernel throttling dirty pages, a read that missed the page cache, a
 * slow disk), on libuv's pool for `poolMs`, so that the disk holds pool threads rather than the
 * event loop that serves every connection. Handing an operation to a pool thread and back costs a
 * futex wake and an event-loop wake-up, which on this kind of VM is more than copying a megabyte
 * (BENCHMARKS.md). One for writes and one for reads per process: the page cache and the disk are
 * shared.
 */
export class IoPlacement {
  private poolUntil: number

  constructor(
    readonly slowMs: number,
    readonly poolMs: number,
    /** Everything on the pool (KCLI_LOG_WRITES=pool, KCLI_LOG_READS=pool: the old paths, for A/B benchmarks and as escape hatches). */
    pinnedToPool = false,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.poolUntil = pinnedToPool ? Infinity : 0
  }

  /** Whether the next operation goes to the pool. */
  onPool(): boolean {
    if (this.poolUntil === 0) return false
    if (this.clock() < this.poolUntil) return true
    this.poolUntil = 0
    return false
  }

  /** Runs a synchronous operation and notes whether it was slow. */
  timed<T>(operation: () => T): T {
    const started = this.clock()
    const result = operation()
    const now = this.clock()
    if (now - started > this.slowMs) this.poolUntil = now + this.poolMs
    return result
  }
}

/** Appends (NodeFileHandle.write). */
export const logWrites = new IoPlacement(5, 1000, process.env.KCLI_LOG_WRITES === 'pool')
/** Fetch reads of the active segment (readAt with `hot`); all other reads are on the pool. */
export const logReads = new IoPlacement(5, 1000, process.env.KCLI_LOG_READS === 'pool')

class NodeFileHandle implements FileHandle {
  constructor(private readonly handle: fsp.FileHandle) {}

  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return (await this.handle.read(buffer, offset, length, position)).bytesRead
  }

  /**
   * A pread on the calling thread. Fetches of the active segment's bytes (consumers at the tail,
   * followers) read this way: 10% less broker CPU per consumed record than through the pool
   * (BENCHMARKS.md, issue 19 sitting 8), as Kafka's network threads read (sendfile) the same bytes.
   */
  readNow(buffer: Buffer, offset: number, length: number, position: number): number {
    return readSync(this.handle.fd, buffer, offset, length, position)
  }

  /**
   * On the calling thread (a pwrite into the page cache), not libuv's pool: handing each write to
   * a pool thread and back costs a futex wake and an event-loop wake-up, which on this kind of VM
   * was half of the broker's CPU per produced record with 84 KB requests and two thirds with 16 KB
   * ones (BENCHMARKS.md, "Log writes on the event loop"). Kafka writes from its request threads the
   * same way; after a slow write they go to the pool for a while (IoPlacement). fsync stays
   * asynchronous.
   */
  async write(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    if (logWrites.onPool()) return (await this.handle.write(buffer, offset, length, position)).bytesWritten
    return logWrites.timed(() => writeSync(this.handle.fd, buffer, offset, length, position))
  }

  truncate(size: number): Promise<void> {
    return this.handle.truncate(size)
  }

  sync(): Promise<void> {
    return this.handle.sync()
  }

  async size(): Promise<number> {
    return (await this.handle.stat()).size
  }

  close(): Promise<void> {
    return this.handle.close()
  }
}

/** The real file system (node:fs/promises). */
export class NodeFileSystem implements FileSystem {
  async open(path: string, mode: OpenMode): Promise<FileHandle> {
    const flags = mode === 'read' ? constants.O_RDONLY : constants.O_RDWR | constants.O_CREAT
    return new NodeFileHandle(await fsp.open(path, flags, 0o644))
  }

  /**
   * Reads exactly the size fstat reports (fs/promises' readFile reads an empty file in 64 KiB
   * chunks it allocates first: 20,000 empty index files cost 1.3 GB of garbage at a restart).
   */
  async readFile(path: string): Promise<Buffer> {
    const handle = await fsp.open(path, constants.O_RDONLY)
    try {
      const {size} = await handle.stat()
      const buffer = Buffer.allocUnsafe(size)
      let done = 0
      while (done < size) {
        const {bytesRead} = await handle.read(buffer, done, size - done, done)
        if (bytesRead === 0) break
        done += bytesRead
      }
      return done === size ? buffer : buffer.subarray(0, done)
    } finally {
      await handle.close()
    }
  }

  writeFile(path: string, data: Buffer): Promise<void> {
    return fsp.writeFile(path, data)
  }

  rename(from: string, to: string): Promise<void> {
    return fsp.rename(from, to)
  }

  unlink(path: string): Promise<void> {
    return fsp.unlink(path)
  }

  readdir(path: string): Promise<string[]> {
    return fsp.readdir(path)
  }

  async mkdir(path: string): Promise<boolean> {
    // fs.mkdir with recursive gives the first directory it created, undefined when none.
    return (await fsp.mkdir(path, {recursive: true})) !== undefined
  }

  rmrf(path: string): Promise<void> {
    return fsp.rm(path, {recursive: true, force: true})
  }

  async stat(path: string): Promise<FileStat | undefined> {
    try {
      const s = await fsp.stat(path)
      return {size: s.size, mtimeMs: s.mtimeMs, isDirectory: s.isDirectory()}
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw error
    }
  }

  async syncDir(path: string): Promise<void> {
    const handle = await fsp.open(path, constants.O_RDONLY)
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  }
}
