import type {UnknownTaggedField} from './reader.js'
import {uuidToBytes} from './uuid.js'

/** Byte slices this large are kept by reference instead of being copied into the writer. */
const ZERO_COPY_THRESHOLD = 16 * 1024

/**
 * Writes Kafka protocol primitives into a growing buffer. Large byte slices (record batches) are
 * not copied: they become chunks of their own, so a 1 MiB Produce request or Fetch response is
 * written without moving its records; `toChunks()` hands the pieces to a socket as they are.
 */
export class Writer {
  private buf: Buffer
  private pos = 0
  private readonly chunks: Buffer[] = []
  private chunkedBytes = 0

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize)
  }

  /** Bytes written so far. */
  get length(): number {
    return this.chunkedBytes + this.pos
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n))
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  int8(v: number): void {
    this.ensure(1)
    this.pos = this.buf.writeInt8(v, this.pos)
  }

  int16(v: number): void {
    this.ensure(2)
    this.pos = this.buf.writeInt16BE(v, this.pos)
  }

  uint16(v: number): void {
    this.ensure(2)
    this.pos = this.buf.writeUInt16BE(v, this.pos)
  }

  int32(v: number): void {
    this.ensure(4)
    this.pos = this.buf.writeInt32BE(v, this.pos)
  }

  uint32(v: number): void {
    this.ensure(4)
    this.pos = this.buf.writeUInt32BE(v, this.pos)
  }

  int64(v: bigint): void {
    this.ensure(8)
    this.pos = this.buf.writeBigInt64BE(v, this.pos)
  }

  float64(v: number): void {
    this.ensure(8)
    this.pos = this.buf.writeDoubleBE(v, this.pos)
  }

  bool(v: boolean): void {
    this.ensure(1)
    this.buf[this.pos++] = v ? 1 : 0
  }

  uuid(v: string): void {
    this.raw(uuidToBytes(v))
  }

  uvarint(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`unsigned varint out of range: ${v}`)
    this.ensure(5)
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80
      v = Math.floor(v / 128)
    }
    this.buf[this.pos++] = v
  }

  private writeLength(n: number, flexible: boolean, classicBytes: 2 | 4): void {
    if (flexible) this.uvarint(n + 1)
    else if (classicBytes === 2) this.int16(n)
    else this.int32(n)
  }

  string(v: string, flexible: boolean): void {
    if (typeof v !== 'string') throw new TypeError(`a non-nullable string field was ${v}`)
    const n = Buffer.byteLength(v, 'utf8')
    if (n > 0x7fff) throw new RangeError(`string of ${n} bytes is longer than 32767`)
    this.writeLength(n, flexible, 2)
    this.ensure(n)
    this.pos += this.buf.write(v, this.pos, n, 'utf8')
  }

  nullableString(v: string | null, flexible: boolean): void {
    if (v === null) this.writeLength(-1, flexible, 2)
    else this.string(v, flexible)
  }

  bytes(v: Buffer, flexible: boolean): void {
    if (!Buffer.isBuffer(v)) throw new TypeError(`a non-nullable bytes field was ${v}`)
    this.writeLength(v.length, flexible, 4)
    this.raw(v)
  }

  nullableBytes(v: Buffer | null, flexible: boolean): void {
    if (v === null) this.writeLength(-1, flexible, 4)
    else this.bytes(v, flexible)
  }

  /** An array's element count; null writes the null marker (-1). */
  arrayLength(v: readonly unknown[] | null, flexible: boolean): void {
    this.writeLength(v === null ? -1 : v.length, flexible, 4)
  }

  /** Appends bytes as they are; large slices are kept by reference (zero copy). */
  raw(v: Buffer): void {
    if (v.length >= ZERO_COPY_THRESHOLD) {
      this.flushScratch()
      this.chunks.push(v)
      this.chunkedBytes += v.length
      return
    }
    this.ensure(v.length)
    v.copy(this.buf, this.pos)
    this.pos += v.length
  }

  private flushScratch(): void {
    if (this.pos === 0) return
    const done = this.buf.subarray(0, this.pos)
    this.chunks.push(done)
    this.chunkedBytes += this.pos
    // Keep writing into the rest of the scratch buffer; `done` stays valid because we never
    // write below `pos` again.
    this.buf = this.buf.subarray(this.pos)
    this.pos = 0
  }

  /**
   * The tagged-field section of a flexible struct: known fields (ascending tags, each a writer
   * callback) merged in tag order with the unknown fields kept from decoding.
   */
  taggedFields(known: ReadonlyArray<readonly [number, (w: Writer) => void]>, unknown: readonly UnknownTaggedField[] | undefined): void {
    const fields: Array<readonly [number, Buffer]> = []
    for (const [tag, write] of known) {
      const w = new Writer(64)
      write(w)
      fields.push([tag, w.toBuffer()])
    }
    if (unknown) for (const f of unknown) fields.push([f.tag, f.data])
    if (unknown && known.length > 0) fields.sort((a, b) => a[0] - b[0])
    this.uvarint(fields.length)
    for (const [tag, data] of fields) {
      this.uvarint(tag)
      this.uvarint(data.length)
      this.raw(data)
    }
  }

  /** The common case of a flexible struct with no known tagged fields set. */
  unknownTaggedFields(unknown: readonly UnknownTaggedField[] | undefined): void {
    if (!unknown || unknown.length === 0) {
      this.ensure(1)
      this.buf[this.pos++] = 0
      return
    }
    this.taggedFields([], unknown)
  }

  /** The written bytes as a list of buffers, in order, without copying large slices. */
  toChunks(): Buffer[] {
    this.flushScratch()
    return this.chunks
  }

  /** The written bytes as one buffer (one copy when large slices were kept by reference). */
  toBuffer(): Buffer {
    if (this.chunks.length === 0) return this.buf.subarray(0, this.pos)
    const chunks = this.toChunks()
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.chunkedBytes)
  }
}
