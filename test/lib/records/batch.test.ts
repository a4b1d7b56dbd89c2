import {crc32c} from '@node-rs/crc32'
import {describe, expect, it} from 'vitest'
import {
  CompressionType,
  CorruptRecordError,
  InvalidRecordError,
  LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD,
  RecordTooLargeError,
  TimestampType,
  computeCrc,
  iterateBatches,
  readBatchHeader,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  validateBatch,
} from '../../../src/lib/records/batch.js'
import {GOLDEN_RECORD_COUNT, goldenAvailable, goldenLogs, goldenSkipReason} from './golden.js'

interface RawBatch {
  baseOffset?: bigint
  partitionLeaderEpoch?: number
  magic?: number
  attributes?: number
  lastOffsetDelta?: number
  baseTimestamp?: bigint
  maxTimestamp?: bigint
  producerId?: bigint
  producerEpoch?: number
  baseSequence?: number
  recordCount?: number
  records?: Buffer
}

/** Lays out a batch field by field, independently of the code under test, with a correct CRC. */
function rawBatch(fields: RawBatch = {}): Buffer {
  const records = fields.records ?? Buffer.from('opaque record bytes')
  const buf = Buffer.alloc(RECORD_BATCH_OVERHEAD + records.length)
  buf.writeBigInt64BE(fields.baseOffset ?? 0n, 0)
  buf.writeInt32BE(buf.length - LOG_OVERHEAD, 8)
  buf.writeInt32BE(fields.partitionLeaderEpoch ?? 0, 12)
  buf.writeInt8(fields.magic ?? 2, 16)
  buf.writeInt16BE(fields.attributes ?? 0, 21)
  buf.writeInt32BE(fields.lastOffsetDelta ?? 2, 23)
  buf.writeBigInt64BE(fields.baseTimestamp ?? 1_700_000_000_000n, 27)
  buf.writeBigInt64BE(fields.maxTimestamp ?? 1_700_000_000_005n, 35)
  buf.writeBigInt64BE(fields.producerId ?? -1n, 43)
  buf.writeInt16BE(fields.producerEpoch ?? -1, 51)
  buf.writeInt32BE(fields.baseSequence ?? -1, 53)
  buf.writeInt32BE(fields.recordCount ?? 3, 57)
  records.copy(buf, 61)
  buf.writeUInt32BE(crc32c(buf.subarray(21)), 17)
  return buf
}

function corruptError(fn: () => unknown): CorruptRecordError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(CorruptRecordError)
    return error as CorruptRecordError
  }
  throw new Error('expected a CorruptRecordError')
}

describe('readBatchHeader', () => {
  it('reads every field and the derived helpers', () => {
    const buf = rawBatch({
      baseOffset: 42n,
      partitionLeaderEpoch: 7,
      attributes: 0x08 | 0x10 | CompressionType.Zstd,
      lastOffsetDelta: 4,
      producerId: 9_007_199_254_740_991n,
      producerEpoch: 3,
      baseSequence: 100,
      recordCount: 5,
    })
    const header = readBatchHeader(buf)
    expect(header).toEqual({
      baseOffset: 42,
      batchLength: buf.length - 12,
      partitionLeaderEpoch: 7,
      magic: 2,
      crc: buf.readUInt32BE(17),
      attributes: 0x1c,
      lastOffsetDelta: 4,
      baseTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_005,
      producerId: Number.MAX_SAFE_INTEGER,
      producerEpoch: 3,
      baseSequence: 100,
      recordCount: 5,
      compression: CompressionType.Zstd,
      timestampType: TimestampType.LogAppendTime,
      isTransactional: true,
      isControl: false,
      lastOffset: 46,
      sizeInBytes: buf.length,
    })
  })

  it('reads at a position inside a larger buffer', () => {
    const buf = Buffer.concat([Buffer.alloc(5), rawBatch({baseOffset: 3n, attributes: 0x20})])
    const header = readBatchHeader(buf, 5)
    expect(header.baseOffset).toBe(3)
    expect(header.isControl).toBe(true)
  })

  it('accepts -1 for producerId and timestamps', () => {
    const header = readBatchHeader(rawBatch({producerId: -1n, baseTimestamp: -1n, maxTimestamp: -1n}))
    expect([header.producerId, header.baseTimestamp, header.maxTimestamp]).toEqual([-1, -1, -1])
  })

  it('throws CorruptRecordError on fewer than 61 bytes', () => {
    const error = corruptError(() => readBatchHeader(rawBatch().subarray(0, 60)))
    expect(error.message).toMatch(/needs 61 bytes, only 60/)
    expect(error.position).toBe(0)
    corruptError(() => readBatchHeader(rawBatch(), 1))
  })

  it('throws CorruptRecordError on magic other than 2', () => {
    expect(corruptError(() => readBatchHeader(rawBatch({magic: 1}))).message).toMatch(/magic 1/)
  })

  it('throws CorruptRecordError on int64 fields outside the safe integer range', () => {
    expect(corruptError(() => readBatchHeader(rawBatch({baseOffset: 2n ** 53n}))).message).toMatch(
      /baseOffset 9007199254740992 is outside/,
    )
    corruptError(() => readBatchHeader(rawBatch({baseOffset: -1n})))
    corruptError(() => readBatchHeader(rawBatch({producerId: -2n})))
    corruptError(() => readBatchHeader(rawBatch({maxTimestamp: -(2n ** 63n)})))
    corruptError(() => readBatchHeader(rawBatch({baseTimestamp: 2n ** 63n - 1n})))
  })
})

describe('validateBatch', () => {
  it('accepts a well-formed batch, with trailing bytes after it', () => {
    const buf = Buffer.concat([rawBatch(), Buffer.alloc(7)])
    expect(validateBatch(buf).recordCount).toBe(3)
    expect(computeCrc(buf, 0)).toBe(buf.readUInt32BE(17))
  })

  it('rejects a CRC mismatch, naming both CRCs', () => {
    const buf = rawBatch()
    buf[buf.length - 1] ^= 1
    expect(corruptError(() => validateBatch(buf)).message).toMatch(/stored crc = \d+, computed crc = \d+/)
  })

  it('does not cover baseOffset or partitionLeaderEpoch with the CRC', () => {
    const buf = rawBatch()
    buf.writeInt32BE(99, 12)
    buf.writeBigInt64BE(1234n, 0)
    expect(validateBatch(buf).baseOffset).toBe(1234)
  })

  it('rejects a truncated batch and a batchLength below the minimum', () => {
    const buf = rawBatch()
    expect(corruptError(() => validateBatch(buf.subarray(0, buf.length - 1))).message).toMatch(/truncated/)
    const short = rawBatch()
    short.writeInt32BE(48, 8)
    expect(corruptError(() => validateBatch(short)).message).toMatch(/length 48 is smaller than the minimum allowed 49/)
  })

  it('rejects a batch above maxBatchSize with RecordTooLargeError (MESSAGE_TOO_LARGE)', () => {
    const buf = rawBatch()
    expect(validateBatch(buf, 0, {maxBatchSize: buf.length}).sizeInBytes).toBe(buf.length)
    const error = corruptError(() => validateBatch(buf, 0, {maxBatchSize: buf.length - 1}))
    expect(error).toBeInstanceOf(RecordTooLargeError)
    expect(error.errorCode).toBe(10)
  })

  it('rejects a negative record count and lastOffsetDelta inconsistent with it', () => {
    expect(corruptError(() => validateBatch(rawBatch({recordCount: -1}))).message).toMatch(/record count -1/)
    expect(corruptError(() => validateBatch(rawBatch({recordCount: 3, lastOffsetDelta: 1}))).message).toMatch(
      /lastOffsetDelta 1 is inconsistent with record count 3/,
    )
    corruptError(() => validateBatch(rawBatch({recordCount: 0, lastOffsetDelta: -1})))
  })

  it('accepts batches left by compaction: fewer records than the offset range, or none', () => {
    expect(validateBatch(rawBatch({recordCount: 1, lastOffsetDelta: 9})).lastOffsetDelta).toBe(9)
    expect(validateBatch(rawBatch({recordCount: 0, lastOffsetDelta: 4, records: Buffer.alloc(0)})).recordCount).toBe(0)
  })

  it('rejects unknown compression codecs 5-7', () => {
    expect(corruptError(() => validateBatch(rawBatch({attributes: 5}))).message).toMatch(/compression type id 5/)
  })

  describe("origin 'client' (LogValidator's checks on produce requests)", () => {
    const client = {origin: 'client'} as const
    it('accepts a normal idempotent batch', () => {
      expect(validateBatch(rawBatch({producerId: 5n, producerEpoch: 0, baseSequence: 0}), 0, client).producerId).toBe(5)
    })
    it.each([
      ['an empty batch', {recordCount: 0, lastOffsetDelta: 0}, /Invalid reported count for record batch: 0/],
      ['an offset range wider than the count', {recordCount: 1, lastOffsetDelta: 9}, /Inconsistent batch offset range \[0, 9\] and count of records 1/],
      ['a control batch', {attributes: 0x20}, /not allowed to write control records/],
      ['a producer id without a sequence', {producerId: 1n, baseSequence: -1}, /Invalid sequence number -1/],
    ])('rejects %s with InvalidRecordError (INVALID_RECORD)', (_name, fields, message) => {
      const error = corruptError(() => validateBatch(rawBatch(fields), 0, client))
      expect(error).toBeInstanceOf(InvalidRecordError)
      expect(error.errorCode).toBe(87)
      expect(error.message).toMatch(message)
    })
  })
})

describe('iterateBatches', () => {
  const a = rawBatch({baseOffset: 0n})
  const b = rawBatch({baseOffset: 3n, records: Buffer.alloc(100, 1)})
  const c = rawBatch({baseOffset: 6n})

  it('walks consecutive batches', () => {
    const buf = Buffer.concat([a, b, c])
    expect([...iterateBatches(buf)].map(({position, header}) => [position, header.baseOffset])).toEqual([
      [0, 0],
      [a.length, 3],
      [a.length + b.length, 6],
    ])
  })

  it('stops cleanly at a partial trailing batch, however it is cut', () => {
    const whole = Buffer.concat([a, b])
    for (let cut = a.length; cut < whole.length; cut++) {
      expect([...iterateBatches(whole.subarray(0, cut))]).toHaveLength(1)
      expect([...iterateBatches(whole, 0, cut)]).toHaveLength(1)
    }
  })

  it('starts at an offset', () => {
    const buf = Buffer.concat([a, b, c])
    expect([...iterateBatches(buf, a.length)].map(({header}) => header.baseOffset)).toEqual([3, 6])
  })

  it('throws on a batchLength below the minimum instead of looping', () => {
    const buf = Buffer.concat([a, Buffer.alloc(70)])
    expect(() => [...iterateBatches(buf)]).toThrow(CorruptRecordError)
  })
})

describe('in-place patches', () => {
  it('setBaseOffset and setPartitionLeaderEpoch keep the CRC valid', () => {
    const buf = rawBatch()
    setBaseOffset(buf, 0, 2 ** 40 + 5)
    setPartitionLeaderEpoch(buf, 0, 17)
    const header = validateBatch(buf)
    expect(header.baseOffset).toBe(2 ** 40 + 5)
    expect(header.lastOffset).toBe(2 ** 40 + 7)
    expect(header.partitionLeaderEpoch).toBe(17)
  })

  it('setBaseOffset rejects offsets that are not safe non-negative integers', () => {
    expect(() => setBaseOffset(rawBatch(), 0, -1)).toThrow(RangeError)
    expect(() => setBaseOffset(rawBatch(), 0, 2 ** 53)).toThrow(RangeError)
  })

  it('setLogAppendTime sets the timestamp type and maxTimestamp and recomputes the CRC', () => {
    const buf = Buffer.concat([Buffer.alloc(3), rawBatch({attributes: CompressionType.Gzip | 0x10})])
    setLogAppendTime(buf, 3, 1_800_000_000_000)
    const header = validateBatch(buf, 3)
    expect(header.timestampType).toBe(TimestampType.LogAppendTime)
    expect(header.maxTimestamp).toBe(1_800_000_000_000)
    expect(header.compression).toBe(CompressionType.Gzip)
    expect(header.isTransactional).toBe(true)
  })

  it('setLogAppendTime refuses a truncated batch without writing', () => {
    const buf = rawBatch()
    const truncated = Buffer.from(buf.subarray(0, buf.length - 1))
    corruptError(() => setLogAppendTime(truncated, 0, 1))
    expect(truncated.equals(buf.subarray(0, buf.length - 1))).toBe(true)
  })
})

describe.skipIf(!goldenAvailable)('golden segments written by Kafka 4.0', () => {
  it('every batch has a valid header and CRC; offsets are contiguous; 18,003 records', () => {
    let records = 0
    let nextOffset = 0
    for (const {name, data} of goldenLogs()) {
      let end = 0
      for (const {position, header} of iterateBatches(data)) {
        validateBatch(data, position)
        expect(header.baseOffset).toBe(nextOffset)
        nextOffset = header.lastOffset + 1
        records += header.recordCount
        end = position + header.sizeInBytes
      }
      expect(end, `${name} ends on a batch boundary`).toBe(data.length)
    }
    expect(records).toBe(GOLDEN_RECORD_COUNT)
    expect(nextOffset).toBe(GOLDEN_RECORD_COUNT)
  })

  it('mutated or truncated golden batches only ever throw CorruptRecordError', () => {
    const data = goldenLogs()[0]!.data
    const batches = [...iterateBatches(data)].slice(0, 8)
    let rejected = 0
    let seed = 12345
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed % n
    }
    for (let i = 0; i < 3000; i++) {
      const {position, header} = batches[random(batches.length)]!
      const copy = Buffer.from(data.subarray(position, position + header.sizeInBytes))
      const flips = 1 + random(3)
      for (let f = 0; f < flips; f++) copy[random(copy.length)] ^= 1 << random(8)
      const input = random(4) === 0 ? copy.subarray(0, random(copy.length)) : copy
      try {
        validateBatch(input)
        for (const _ of iterateBatches(input));
      } catch (error) {
        expect(error).toBeInstanceOf(CorruptRecordError)
        rejected++
      }
    }
    expect(rejected).toBeGreaterThan(2900) // a bit flip outside the CRC (baseOffset, epoch) is undetectable
  })
})

if (!goldenAvailable) {
  describe('golden segments written by Kafka 4.0', () => {
    it.skip(goldenSkipReason, () => {})
  })
}
