import {ProtocolDecodeError} from './errors.js'
import {uuidFromBytes} from './uuid.js'

/** A tagged field the decoder did not know, kept byte for byte so re-encoding is exact. */
export interface UnknownTaggedField {
  tag: number
  data: Buffer
}

/**
 * Reads Kafka protocol primitives from one buffer, checking every length against what is left
 * before it reads or allocates anything. Every method takes the dotted path of the field it
 * reads, so that a failure is one ProtocolDecodeError with the offset and the field.
 *
 * Variable-length values (bytes, records) are returned as slices of the input: no copy. The
 * `flexible` argument selects the compact encodings of flexible versions (unsigned varint
 * length + 1) over the classic ones (int16/int32 length).
 */
export class Reader {
  offset: number
  /** Reads may not go past this offset (the end of a tagged field's payload, or of the buffer). */
  end: number

  constructor(readonly buf: Buffer, offset = 0, end = buf.length) {
    this.offset = offset
    this.end = end
  }

  get remaining(): number {
    return this.end - this.offset
  }

  fail(reason: string, field: string, offset = this.offset): never {
    throw new ProtocolDecodeError(reason, offset, field)
  }

  private need(n: number, field: string): number {
    const at = this.offset
    if (n > this.end - at) this.fail(`needs ${n} bytes, ${this.end - at} left`, field)
    this.offset = at + n
    return at
  }

  int8(field: string): number {
    return this.buf.readInt8(this.need(1, field))
  }

  int16(field: string): number {
    return this.buf.readInt16BE(this.need(2, field))
  }

  uint16(field: string): number {
    return this.buf.readUInt16BE(this.need(2, field))
  }

  int32(field: string): number {
    return this.buf.readInt32BE(this.need(4, field))
  }

  uint32(field: string): number {
    return this.buf.readUInt32BE(this.need(4, field))
  }

  int64(field: string): bigint {
    return this.buf.readBigInt64BE(this.need(8, field))
  }

  float64(field: string): number {
    return this.buf.readDoubleBE(this.need(8, field))
  }

  bool(field: string): boolean {
    const at = this.need(1, field)
    const b = this.buf[at]!
    // Kafka's readers accept any non-zero byte as true; so do we, to decode what they decode.
    return b !== 0
  }

  uuid(field: string): string {
    return uuidFromBytes(this.buf, this.need(16, field))
  }

  /** An unsigned varint of at most 5 bytes (32 bits), as Kafka's ByteUtils.readUnsignedVarint. */
  uvarint(field: string): number {
    const start = this.offset
    let value = 0
    for (let shift = 0; shift <= 28; shift += 7) {
      if (this.offset >= this.end) this.fail('varint runs past the end', field, start)
      const b = this.buf[this.offset++]!
      value += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) {
        if (value > 0xffffffff) this.fail('varint does not fit in 32 bits', field, start)
        return value
      }
    }
    this.fail('varint longer than 5 bytes', field, start)
  }

  /** Length of a string, bytes or array: classic int16/int32, or compact uvarint - 1; -1 is null. */
  private readLength(field: string, flexible: boolean, classicBytes: 2 | 4): number {
    if (flexible) return this.uvarint(field) - 1
    return classicBytes === 2 ? this.int16(field) : this.int32(field)
  }

  private nonNull(length: number, field: string, at: number): number {
    if (length < 0) this.fail(length === -1 ? 'null where the field is not nullable' : `negative length ${length}`, field, at)
    return length
  }

  string(field: string, flexible: boolean): string {
    const at = this.offset
    const n = this.nonNull(this.readLength(field, flexible, 2), field, at)
    const start = this.need(n, field)
    return this.buf.toString('utf8', start, start + n)
  }

  nullableString(field: string, flexible: boolean): string | null {
    const at = this.offset
    const n = this.readLength(field, flexible, 2)
    if (n === -1) return null
    this.nonNull(n, field, at)
    const start = this.need(n, field)
    return this.buf.toString('utf8', start, start + n)
  }

  bytes(field: string, flexible: boolean): Buffer {
    const at = this.offset
    const n = this.nonNull(this.readLength(field, flexible, 4), field, at)
    return this.raw(n, field)
  }

  nullableBytes(field: string, flexible: boolean): Buffer | null {
    const at = this.offset
    const n = this.readLength(field, flexible, 4)
    if (n === -1) return null
    return this.raw(this.nonNull(n, field, at), field)
  }

  /** `n` bytes as a slice of the input (no copy). */
  raw(n: number, field: string): Buffer {
    const start = this.need(n, field)
    return this.buf.subarray(start, start + n)
  }

  /**
   * The element count of an array; -1 for a null array when `nullable`. The count is checked
   * against the bytes left (each element takes at least `minElementSize` bytes), so a huge count
   * fails here instead of allocating.
   */
  arrayLength(field: string, flexible: boolean, nullable: boolean, minElementSize: number): number {
    const at = this.offset
    const n = this.readLength(field, flexible, 4)
    if (n === -1 && nullable) return -1
    this.nonNull(n, field, at)
    if (n * minElementSize > this.end - this.offset) {
      this.fail(`array of ${n} elements cannot fit in the ${this.end - this.offset} bytes left`, field, at)
    }
    return n
  }

  /**
   * Reads the tagged-field section of a flexible struct. `readKnown` decodes a tag it knows and
   * returns true; unknown tags are kept raw. Each field must consume exactly its declared size.
   */
  taggedFields(field: string, readKnown: (tag: number, r: Reader) => boolean): UnknownTaggedField[] | undefined {
    const count = this.uvarint(field)
    let unknown: UnknownTaggedField[] | undefined
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint(field)
      const size = this.uvarint(field)
      const payloadEnd = this.offset + size
      if (size > this.end - this.offset) this.fail(`tagged field ${tag} of ${size} bytes runs past the end`, field)
      const outerEnd = this.end
      this.end = payloadEnd
      const known = readKnown(tag, this)
      this.end = outerEnd
      if (!known) {
        ;(unknown ??= []).push({tag, data: this.raw(size, field)})
      } else if (this.offset !== payloadEnd) {
        this.fail(`tagged field ${tag} declared ${size} bytes but its value took ${size - (payloadEnd - this.offset)}`, field)
      }
    }
    return unknown
  }
}
