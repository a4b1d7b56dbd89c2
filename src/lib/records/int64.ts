/**
 * Big-endian int64 fields as JS numbers.
 *
 * Kafka's offsets, timestamps and producer ids are int64 on the wire; within
 * [-(2^53 - 1), 2^53 - 1] a double holds them exactly, so the record code reads
 * them as `hi * 2^32 + lo` (two 32-bit reads, no BigInt) and rejects anything
 * outside the safe range rather than silently rounding.
 */

const TWO_POW_32 = 4294967296

/**
 * Reads the int64 at `offset`. Returns NaN (never throws) when the value is not
 * a safe integer, so the caller can report a CorruptRecordError naming the field.
 */
export function readInt64(buf: Buffer, offset: number): number {
  const value = buf.readInt32BE(offset) * TWO_POW_32 + buf.readUInt32BE(offset + 4)
  return value >= -Number.MAX_SAFE_INTEGER && value <= Number.MAX_SAFE_INTEGER ? value : Number.NaN
}

/** Writes a safe integer (may be negative) as a big-endian int64 at `offset`. */
export function writeInt64(buf: Buffer, offset: number, value: number): void {
  const hi = Math.floor(value / TWO_POW_32)
  buf.writeInt32BE(hi, offset)
  buf.writeUInt32BE(value - hi * TWO_POW_32, offset + 4)
}
