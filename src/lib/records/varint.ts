/**
 * The variable-length integers of Kafka records (protobuf encoding): 7 bits per
 * byte, least significant group first, high bit set on every byte but the last,
 * zigzag-mapped so small negative numbers stay short. varint is a zigzag int32
 * (at most 5 bytes), varlong a zigzag int64 (at most 10 bytes); varlongs are
 * limited here to safe JS integers.
 *
 * Decoding goes through RecordReader, which checks every read against the end of
 * its window and reports failures as CorruptRecordError with the byte position.
 */

import {CorruptRecordError} from './batch.js'

/** Bytes needed to encode `value` (an int32) as a zigzag varint. */
export function sizeOfVarint(value: number): number {
  let raw = ((value << 1) ^ (value >> 31)) >>> 0
  let size = 1
  while (raw >= 0x80) {
    raw >>>= 7
    size++
  }
  return size
}

/** Bytes needed to encode `value` (a safe integer) as a zigzag varlong. */
export function sizeOfVarlong(value: number): number {
  if (value === (value | 0)) return sizeOfVarint(value)
  // zigzag raw = 2 * magnitude + sign; its first byte holds 6 bits of magnitude
  let rest = Math.floor((value >= 0 ? value : -value - 1) / 64)
  let size = 1
  while (rest > 0) {
    rest = Math.floor(rest / 128)
    size++
  }
  return size
}

/** Writes `value` (an int32) as a zigzag varint at `offset`; returns the offset after it. */
export function writeVarint(buf: Buffer, offset: number, value: number): number {
  let raw = ((value << 1) ^ (value >> 31)) >>> 0
  while (raw >= 0x80) {
    buf[offset++] = (raw & 0x7f) | 0x80
    raw >>>= 7
  }
  buf[offset++] = raw
  return offset
}

/**
 * Writes `value` (a safe integer) as a zigzag varlong at `offset`; returns the
 * offset after it. Works on the magnitude (< 2^53, exact) rather than on the
 * zigzag value, which could need 54 bits.
 */
export function writeVarlong(buf: Buffer, offset: number, value: number): number {
  if (value === (value | 0)) return writeVarint(buf, offset, value)
  const magnitude = value >= 0 ? value : -value - 1
  let group = (magnitude % 64) * 2 + (value >= 0 ? 0 : 1)
  let rest = Math.floor(magnitude / 64)
  while (rest > 0) {
    buf[offset++] = group | 0x80
    group = rest % 128
    rest = Math.floor(rest / 128)
  }
  buf[offset++] = group
  return offset
}

/**
 * A bounds-checked cursor over buf[position, end) for decoding records.
 * Every read throws CorruptRecordError (with the absolute position) instead of
 * reading past `end`; lengths are checked against what is left before slicing.
 */
export class RecordReader {
  constructor(
    readonly buf: Buffer,
    public position: number,
    public end: number,
    /**
     * For decompressed data, whose offsets mean nothing in the caller's buffer:
     * the position to report instead (the batch's records), with the offset
     * within the decompressed data added to the message.
     */
    private readonly errorPosition?: number,
  ) {}

  get remaining(): number {
    return this.end - this.position
  }

  fail(message: string, at = this.position): never {
    if (this.errorPosition === undefined) throw new CorruptRecordError(message, at)
    throw new CorruptRecordError(`${message} (at byte ${at} of the decompressed records)`, this.errorPosition)
  }

  readInt8(): number {
    if (this.position >= this.end) this.fail('Unexpected end of record data')
    return this.buf.readInt8(this.position++)
  }

  readVarint(): number {
    const start = this.position
    let raw = 0
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.position >= this.end) this.fail('Unexpected end of record data in varint', start)
      const byte = this.buf[this.position++]!
      raw |= (byte & 0x7f) << shift
      if (byte < 0x80) return (raw >>> 1) ^ -(raw & 1)
    }
    return this.fail('Varint is too long (more than 5 bytes)', start)
  }

  readVarlong(): number {
    const start = this.position
    let sign = 0
    let magnitude = 0 // raw >>> 1, accumulated exactly while below 2^53
    for (let i = 0; i < 10; i++) {
      if (this.position >= this.end) this.fail('Unexpected end of record data in varlong', start)
      const byte = this.buf[this.position++]!
      const group = byte & 0x7f
      if (i === 0) {
        sign = group & 1
        magnitude = group >>> 1
      } else {
        magnitude += group * 2 ** (7 * i - 1)
      }
      if (byte < 0x80) {
        // the result must be a safe integer: magnitude <= 2^53 - 1, or 2^53 - 2 when negative
        if (magnitude > Number.MAX_SAFE_INTEGER - sign) this.fail('Varlong is outside the safe integer range', start)
        return sign === 0 ? magnitude : -magnitude - 1
      }
    }
    return this.fail('Varlong is too long (more than 10 bytes)', start)
  }

  /** A slice (not a copy) of the next `length` bytes. */
  readBytes(length: number): Buffer {
    if (length > this.end - this.position) {
      this.fail(`Length ${length} exceeds the ${this.end - this.position} bytes remaining`)
    }
    const bytes = this.buf.subarray(this.position, this.position + length)
    this.position += length
    return bytes
  }

  /** varint length + bytes; length -1 is null, other negative lengths are corrupt. */
  readNullableBytes(field: string): Buffer | null {
    const start = this.position
    const length = this.readVarint()
    if (length === -1) return null
    if (length < 0) this.fail(`Invalid ${field} length ${length}`, start)
    return this.readBytes(length)
  }
}
