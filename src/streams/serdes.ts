/**
 * Serdes: how keys and values become bytes, with Kafka's encodings (the bytes a Java Kafka
 * Streams application or a Java client reads and writes): String as UTF-8, Integer as a 4-byte
 * big-endian int32, Long as an 8-byte big-endian int64, Double as an 8-byte IEEE 754 double, JSON
 * as UTF-8 JSON text, Bytes as themselves. null is null in both directions (a tombstone).
 */

/** Thrown by a deserializer that cannot read the bytes (Kafka's SerializationException). */
export class SerializationException extends Error {
  override name = 'SerializationException'
}

export interface Serde<T> {
  serialize(topic: string, data: T | null): Buffer | null
  deserialize(topic: string, data: Buffer | null): T | null
}

function sized(bytes: Buffer, size: number, name: string): Buffer {
  if (bytes.length !== size) throw new SerializationException(`Size of data received by ${name} is not ${size}`)
  return bytes
}

const stringSerde: Serde<string> = {
  deserialize: (_t, data) => (data === null ? null : data.toString('utf8')),
  serialize: (_t, data) => (data === null ? null : Buffer.from(data, 'utf8')),
}

/** Kafka's IntegerSerde: int32 big-endian. */
const integerSerde: Serde<number> = {
  deserialize: (_t, data) => (data === null ? null : sized(data, 4, 'IntegerDeserializer').readInt32BE(0)),
  serialize(_t, data) {
    if (data === null) return null
    const b = Buffer.allocUnsafe(4)
    b.writeInt32BE(data, 0)
    return b
  },
}

/** Kafka's LongSerde as a JavaScript number (a count, a sum: safe integers). */
const longSerde: Serde<number> = {
  deserialize(_t, data) {
    if (data === null) return null
    const v = sized(data, 8, 'LongDeserializer').readBigInt64BE(0)
    const n = Number(v)
    if (!Number.isSafeInteger(n)) throw new SerializationException(`LongDeserializer: ${v} is not a safe integer; use Serdes.BigLong()`)
    return n
  },
  serialize(_t, data) {
    if (data === null) return null
    const b = Buffer.allocUnsafe(8)
    b.writeBigInt64BE(BigInt(data), 0)
    return b
  },
}

/** Kafka's LongSerde as a bigint (the whole int64 range). */
const bigLongSerde: Serde<bigint> = {
  deserialize: (_t, data) => (data === null ? null : sized(data, 8, 'LongDeserializer').readBigInt64BE(0)),
  serialize(_t, data) {
    if (data === null) return null
    const b = Buffer.allocUnsafe(8)
    b.writeBigInt64BE(data, 0)
    return b
  },
}

const doubleSerde: Serde<number> = {
  deserialize: (_t, data) => (data === null ? null : sized(data, 8, 'DoubleDeserializer').readDoubleBE(0)),
  serialize(_t, data) {
    if (data === null) return null
    const b = Buffer.allocUnsafe(8)
    b.writeDoubleBE(data, 0)
    return b
  },
}

const bytesSerde: Serde<Buffer> = {
  deserialize: (_t, data) => data,
  serialize: (_t, data) => data,
}

function jsonSerde<T>(): Serde<T> {
  return {
    deserialize(_t, data) {
      if (data === null) return null
      try {
        return JSON.parse(data.toString('utf8')) as T
      } catch (error) {
        throw new SerializationException(`JSON deserializer: ${(error as Error).message}`)
      }
    },
    serialize: (_t, data) => (data === null ? null : Buffer.from(JSON.stringify(data), 'utf8')),
  }
}

export const Serdes = {
  BigLong: (): Serde<bigint> => bigLongSerde,
  ByteArray: (): Serde<Buffer> => bytesSerde,
  Bytes: (): Serde<Buffer> => bytesSerde,
  Double: (): Serde<number> => doubleSerde,
  Integer: (): Serde<number> => integerSerde,
  JSON: <T = unknown>(): Serde<T> => jsonSerde<T>(),
  Long: (): Serde<number> => longSerde,
  String: (): Serde<string> => stringSerde,
}
