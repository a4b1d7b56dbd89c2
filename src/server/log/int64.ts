/**
 * Big-endian int64 fields of the log's own files (time index, producer
 * snapshots) as JS numbers: exact within the safe-integer range, NaN outside
 * it (callers treat NaN as corruption).
 */

const TWO_POW_32 = 4294967296

export function readInt64(buf: Buffer, offset: number): number {
  const value = buf.readInt32BE(offset) * TWO_POW_32 + buf.readUInt32BE(offset + 4)
  return Number.isSafeInteger(value) ? value : Number.NaN
}

export function writeInt64(buf: Buffer, offset: number, value: number): void {
  const hi = Math.floor(value / TWO_POW_32)
  buf.writeInt32BE(hi, offset)
  buf.writeUInt32BE(value - hi * TWO_POW_32, offset + 4)
}
