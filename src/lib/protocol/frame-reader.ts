/**
 * Splits a byte stream into Kafka frames (int32 size + that many bytes), for both ends of a
 * connection: the broker reading requests and the client reading responses.
 *
 * Bytes arrive in one of two ways:
 * - push(chunk): a chunk the socket allocated ('data' events; the broker's accepted sockets).
 *   While nothing is buffered, frames wholly inside the chunk are handed over as views of it,
 *   without a copy; the rest goes through the scratch buffer as below;
 * - readBuffer() / didRead(n): the socket reads straight into memory this reader owns (net.Socket's
 *   `onread` option; the client). Small frames are read into a reusable scratch buffer and copied
 *   out; a frame larger than the scratch buffer gets a buffer of its exact size, and once its first
 *   bytes are in, later reads go straight into it. A 1 MiB fetch response then costs one allocation
 *   and no copy, where 'data' events cost sixteen 64 KiB allocations and a copy to join them.
 *
 * Every frame handed to onFrame is a Buffer of its own or a view of a pushed chunk (never of the
 * scratch buffer), so callers may keep slices of it. A size outside 0..maxFrameSize throws FrameSizeError before
 * anything of that frame is allocated.
 */

export class FrameSizeError extends Error {
  constructor(readonly size: number, readonly maxFrameSize: number) {
    super(`frame size ${size} is outside 0..${maxFrameSize}`)
  }
}

export interface FrameReaderOptions {
  /** Largest frame accepted (the bytes after the size). */
  maxFrameSize: number
  onFrame(frame: Buffer): void
  /** Size of the scratch buffer; frames larger than this minus 4 get buffers of their own. Default 64 KiB. */
  scratchSize?: number
  /** Where a frame too large for the scratch buffer gets its buffer (e.g. a pool). Default Buffer.allocUnsafe. */
  allocate?: (size: number) => Buffer
}

const SIZE_BYTES = 4

export class FrameReader {
  private readonly scratch: Buffer
  /** Unread bytes are scratch[start, end). */
  private start = 0
  private end = 0
  /** A frame too large for the scratch buffer, being filled; `filled` bytes are in. */
  private frame: Buffer | undefined
  private filled = 0

  constructor(private readonly options: FrameReaderOptions) {
    this.scratch = Buffer.allocUnsafe(options.scratchSize ?? 64 * 1024)
  }

  /** Bytes received that are not yet part of a whole frame. */
  get buffered(): number {
    return this.frame ? this.filled : this.end - this.start
  }

  /** Where the next read should put its bytes (never empty). */
  readBuffer(): Buffer {
    return this.frame ? this.frame.subarray(this.filled) : this.scratch.subarray(this.end)
  }

  /** `n` bytes were read into the buffer readBuffer() returned. */
  didRead(n: number): void {
    if (this.frame) {
      this.filled += n
      if (this.filled < this.frame.length) return
      const frame = this.frame
      this.frame = undefined
      this.options.onFrame(frame)
      return
    }
    this.end += n
    this.parse()
  }

  /** A chunk received by other means (never reused by its owner): whole frames as views of it, the rest copied through readBuffer()/didRead(). */
  push(chunk: Buffer): void {
    let at = 0
    while (this.frame === undefined && this.end === this.start && chunk.length - at >= SIZE_BYTES) {
      const size = this.checkSize(chunk.readInt32BE(at))
      if (chunk.length - at - SIZE_BYTES < size) break
      this.options.onFrame(chunk.subarray(at + SIZE_BYTES, at + SIZE_BYTES + size))
      at += SIZE_BYTES + size
    }
    while (at < chunk.length) {
      const target = this.readBuffer()
      const n = chunk.copy(target, 0, at, Math.min(chunk.length, at + target.length))
      at += n
      this.didRead(n)
    }
  }

  private parse(): void {
    const {scratch} = this
    while (this.end - this.start >= SIZE_BYTES) {
      const size = this.checkSize(scratch.readInt32BE(this.start))
      const bodyStart = this.start + SIZE_BYTES
      const available = this.end - bodyStart
      if (available >= size) {
        const frame = Buffer.allocUnsafe(size)
        scratch.copy(frame, 0, bodyStart, bodyStart + size)
        this.start = bodyStart + size
        this.options.onFrame(frame)
        continue
      }
      if (SIZE_BYTES + size > scratch.length) {
        // Too large for the scratch buffer: later reads go straight into a buffer of its own.
        this.frame = this.options.allocate ? this.options.allocate(size) : Buffer.allocUnsafe(size)
        this.filled = scratch.copy(this.frame, 0, bodyStart, this.end)
        this.start = this.end = 0
        return
      }
      break
    }
    // Keep the unread bytes (part of one frame that fits) at the front, so the next read has room.
    if (this.start > 0) {
      scratch.copyWithin(0, this.start, this.end)
      this.end -= this.start
      this.start = 0
    }
  }

  private checkSize(size: number): number {
    if (size < 0 || size > this.options.maxFrameSize) throw new FrameSizeError(size, this.options.maxFrameSize)
    return size
  }
}
