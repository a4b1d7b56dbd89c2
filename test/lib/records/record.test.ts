import {gzipSync} from 'node:zlib'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {
  CompressionType,
  CorruptRecordError,
  LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD,
  TimestampType,
  iterateBatches,
  readBatchHeader,
  validateBatch,
  writeCrc,
} from '../../../src/lib/records/batch.js'
import {
  type Record,
  type RecordBatchInput,
  ControlRecordType,
  buildRecordBatch,
  decodeControlRecordKey,
  decodeEndTransactionMarker,
  decodeRecordBatch,
  decodeRecordBatches,
  endTransactionMarkerRecord,
} from '../../../src/lib/records/record.js'
import {
  GOLDEN_RECORD_COUNT,
  capturedBatches,
  capturesAvailable,
  goldenAvailable,
  goldenLogs,
  goldenSkipReason,
} from './golden.js'

const CODECS = [
  CompressionType.None,
  CompressionType.Gzip,
  CompressionType.Snappy,
  CompressionType.Lz4,
  CompressionType.Zstd,
] as const

/** Builds a batch from decoded records and their header, as Kafka wrote it. */
function rebuild(header: Awaited<ReturnType<typeof decodeRecordBatch>>['header'], records: Record[]): Promise<Buffer> {
  return buildRecordBatch({
    baseOffset: header.baseOffset,
    records,
    compression: header.compression,
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    isTransactional: header.isTransactional,
    isControl: header.isControl,
    partitionLeaderEpoch: header.partitionLeaderEpoch,
    timestampType: header.timestampType,
    logAppendTime: header.maxTimestamp,
  })
}

/** Rewrites the records of an uncompressed batch (fixing batchLength and CRC) to reach the record decoder. */
function withRecords(batch: Buffer, records: Buffer, recordCount?: number): Buffer {
  const out = Buffer.concat([batch.subarray(0, RECORD_BATCH_OVERHEAD), records])
  out.writeInt32BE(out.length - LOG_OVERHEAD, 8)
  if (recordCount !== undefined) {
    out.writeInt32BE(recordCount, 57)
    out.writeInt32BE(Math.max(0, recordCount - 1), 23) // lastOffsetDelta
  }
  writeCrc(out, 0)
  return out
}

async function corrupt(promise: Promise<unknown>): Promise<CorruptRecordError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(CorruptRecordError)
    return error as CorruptRecordError
  }
  throw new Error('expected a CorruptRecordError')
}

describe('buildRecordBatch / decodeRecordBatch', () => {
  const records = [
    {key: Buffer.from('k1'), value: Buffer.from('v1'), timestamp: 1000, headers: [{key: 'h', value: Buffer.from('x')}]},
    {key: null, value: null, timestamp: 990, headers: [{key: 'ü', value: null}]},
    {key: Buffer.alloc(0), value: Buffer.alloc(300, 7), timestamp: 1005},
  ]

  it.each(CODECS)('round-trips records with codec %i', async (compression) => {
    const batch = await buildRecordBatch({baseOffset: 100, records, compression, producerId: 7, producerEpoch: 2, baseSequence: 40})
    const header = validateBatch(batch)
    expect(header).toMatchObject({
      baseOffset: 100,
      lastOffsetDelta: 2,
      recordCount: 3,
      compression,
      baseTimestamp: 1000, // the first record's, as MemoryRecordsBuilder does
      maxTimestamp: 1005,
      producerId: 7,
      producerEpoch: 2,
      baseSequence: 40,
      partitionLeaderEpoch: -1,
      timestampType: TimestampType.CreateTime,
    })
    const decoded = await decodeRecordBatch(batch)
    expect(decoded.records).toEqual([
      {offset: 100, timestamp: 1000, key: Buffer.from('k1'), value: Buffer.from('v1'), headers: [{key: 'h', value: Buffer.from('x')}]},
      {offset: 101, timestamp: 990, key: null, value: null, headers: [{key: 'ü', value: null}]},
      {offset: 102, timestamp: 1005, key: Buffer.alloc(0), value: Buffer.alloc(300, 7), headers: []},
    ])
  })

  it('keeps explicit offsets with gaps and a larger lastOffsetDelta (compaction)', async () => {
    const batch = await buildRecordBatch({
      baseOffset: 10,
      records: [{offset: 11, timestamp: 5}, {offset: 15, timestamp: 6}],
      lastOffsetDelta: 9,
    })
    const {header, records: decoded} = await decodeRecordBatch(batch)
    expect(header.lastOffset).toBe(19)
    expect(decoded.map((r) => r.offset)).toEqual([11, 15])
  })

  it('builds an empty batch when lastOffsetDelta is given (a batch emptied by compaction)', async () => {
    const batch = await buildRecordBatch({baseOffset: 3, records: [], lastOffsetDelta: 4, producerId: 1, producerEpoch: 0, baseSequence: 0})
    expect((await decodeRecordBatch(batch)).records).toEqual([])
    expect(validateBatch(batch).lastOffset).toBe(7)
  })

  it('gives every record the batch maxTimestamp in a LogAppendTime batch', async () => {
    const batch = await buildRecordBatch({records, timestampType: TimestampType.LogAppendTime, logAppendTime: 5000})
    const {header, records: decoded} = await decodeRecordBatch(batch)
    expect(header.maxTimestamp).toBe(5000)
    expect(decoded.map((r) => r.timestamp)).toEqual([5000, 5000, 5000])
  })

  it('rejects inputs Kafka cannot represent with RangeError', async () => {
    await expect(buildRecordBatch({records: [{offset: 2}, {offset: 2}]})).rejects.toThrow(RangeError)
    await expect(buildRecordBatch({baseOffset: 5, records: [{offset: 4}]})).rejects.toThrow(RangeError)
    await expect(buildRecordBatch({records: [{timestamp: -5}]})).rejects.toThrow(RangeError)
    await expect(buildRecordBatch({records: [{offset: 2 ** 31}]})).rejects.toThrow(RangeError)
    await expect(buildRecordBatch({records: [{}], producerEpoch: 40000})).rejects.toThrow(RangeError)
    await expect(buildRecordBatch({records: [{}, {}], lastOffsetDelta: 0})).rejects.toThrow(RangeError)
  })

  it('decodes several batches and ignores a partial trailing one', async () => {
    const a = await buildRecordBatch({baseOffset: 0, records: [{value: Buffer.from('a')}]})
    const b = await buildRecordBatch({baseOffset: 1, records: [{value: Buffer.from('b')}], compression: CompressionType.Lz4})
    const decoded = await decodeRecordBatches(Buffer.concat([a, b, a.subarray(0, 30)]))
    expect(decoded.flatMap((batch) => batch.records.map((r) => r.value!.toString()))).toEqual(['a', 'b'])
  })
})

describe('control records', () => {
  it('builds and reads a COMMIT marker batch', async () => {
    const batch = await buildRecordBatch({
      baseOffset: 50,
      records: [endTransactionMarkerRecord({type: ControlRecordType.Commit, coordinatorEpoch: 3}, 1234)],
      producerId: 9,
      producerEpoch: 1,
      isTransactional: true,
      isControl: true,
    })
    const {header, records} = await decodeRecordBatch(batch)
    expect(header.isControl && header.isTransactional).toBe(true)
    expect(records[0]!.key!.toString('hex')).toBe('00000001')
    expect(records[0]!.value!.toString('hex')).toBe('000000000003')
    expect(decodeEndTransactionMarker(records[0]!)).toEqual({type: ControlRecordType.Commit, coordinatorEpoch: 3})
    expect(() => validateBatch(batch, 0, {origin: 'client'})).toThrow(/not allowed to write control records/)
  })

  it('reads an ABORT marker and rejects malformed control records', () => {
    const abort = endTransactionMarkerRecord({type: ControlRecordType.Abort, coordinatorEpoch: 0})
    const record = {offset: 0, timestamp: 0, key: abort.key!, value: abort.value!, headers: []}
    expect(decodeEndTransactionMarker(record).type).toBe(ControlRecordType.Abort)
    expect(() => decodeControlRecordKey(null)).toThrow(CorruptRecordError)
    expect(() => decodeControlRecordKey(Buffer.from('ffff0001', 'hex'))).toThrow(/Invalid version/)
    expect(() => decodeEndTransactionMarker({...record, value: Buffer.alloc(5)})).toThrow(/Invalid value size 5/)
    expect(() => decodeEndTransactionMarker({...record, key: Buffer.from('00000002', 'hex')})).toThrow(
      /type 2 is not a transaction marker/,
    )
  })
})

describe('malformed records only throw CorruptRecordError', () => {
  const base = buildRecordBatch({records: [{key: Buffer.from('k'), value: Buffer.from('v'), timestamp: 1}]})
  // one record: length 0x10=8, attributes 0, timestampDelta 0, offsetDelta 0, key 'k', value 'v', 0 headers
  const goodRecord = '10' + '00' + '00' + '00' + '026b' + '0276' + '00'

  it.each([
    ['a declared count above the records present', goodRecord, 2, /declares 2 records but holds only 1/],
    ['bytes left after the declared records', goodRecord + '00', 1, /Incorrect declared batch size, 1 bytes remain after 1 records/],
    ['a record length beyond the batch', '40' + goodRecord.slice(2), 1, /Invalid record length 32/],
    ['a record whose fields overrun its length', '0e' + goodRecord.slice(2, -2) + '00', 1, /Length 1 exceeds|Unexpected end/],
    ['a record longer than its fields', '12' + goodRecord.slice(2) + '00', 1, /expected to read 9 bytes in record payload, but instead read 8/],
    ['a key length of -2', '10000000' + '03' + '6b0276' + '00', 1, /Invalid key length -2/],
    ['a negative header count', '10000000026b0276' + '01', 1, /Invalid number of record headers -1/],
    ['a huge header count', '18000000026b0276' + 'feffffff0f', 1, /Invalid number of record headers/],
    ['a null header key', '14000000026b0276' + '02' + '01' + '01', 1, /Invalid negative header key size -1/],
    ['a varint longer than 5 bytes', '10' + '00' + '00' + 'ffffffffff01', 1, /too long/],
  ])('%s', async (_name, recordsHex, count, message) => {
    const batch = withRecords(await base, Buffer.from(recordsHex, 'hex'), count)
    expect((await corrupt(decodeRecordBatch(batch))).message).toMatch(message)
  })

  it('a CRC mismatch is reported before decoding', async () => {
    const batch = Buffer.from(await base)
    batch[batch.length - 2] ^= 0xff
    expect((await corrupt(decodeRecordBatch(batch))).message).toMatch(/crc/)
  })

  it('a compressed batch whose block decompresses to garbage or to too much', async () => {
    const template = await base
    const garbage = Buffer.concat([template.subarray(0, RECORD_BATCH_OVERHEAD), gzipSync(Buffer.from('not records'))])
    garbage.writeInt16BE(CompressionType.Gzip, 21)
    const bad = withRecords(garbage, garbage.subarray(RECORD_BATCH_OVERHEAD), 1)
    const error = await corrupt(decodeRecordBatch(bad))
    expect(error.position).toBe(RECORD_BATCH_OVERHEAD)
    expect(error.message).toMatch(/decompressed records/)

    const big = await buildRecordBatch({records: [{value: Buffer.alloc(2 << 20)}], compression: CompressionType.Gzip})
    expect((await corrupt(decodeRecordBatch(big, 0, {maxDecompressedSize: 1 << 20}))).message).toMatch(/maximum 1048576/)
    expect((await decodeRecordBatch(big, 0, {maxDecompressedSize: 3 << 20})).records[0]!.value!.length).toBe(2 << 20)
  })

  it('fuzz: random byte changes behind a valid CRC, and truncations, never throw anything else', async () => {
    const templates = await Promise.all(
      CODECS.map((compression) =>
        buildRecordBatch({
          compression,
          producerId: 3,
          producerEpoch: 0,
          baseSequence: 0,
          records: [
            {key: Buffer.from('key-1'), value: Buffer.from('value-1'), timestamp: 1_700_000_000_000, headers: [{key: 'a', value: Buffer.from('b')}]},
            {key: null, value: Buffer.alloc(40, 1), timestamp: 1_700_000_000_100},
            {key: Buffer.from('key-3'), value: null, timestamp: 1_699_999_999_000, headers: [{key: 'c', value: null}]},
          ],
        }),
      ),
    )
    let seed = 42
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed % n
    }
    let decoded = 0
    for (let i = 0; i < 3000; i++) {
      const template = templates[i % templates.length]!
      let batch: Buffer = Buffer.from(template)
      const mode = random(3)
      if (mode === 0) {
        // change record bytes, then make the CRC and length right so the record decoder sees them
        for (let f = 1 + random(4); f > 0; f--) batch[RECORD_BATCH_OVERHEAD + random(batch.length - RECORD_BATCH_OVERHEAD)] = random(256)
        writeCrc(batch, 0)
      } else if (mode === 1) {
        batch = withRecords(batch, batch.subarray(RECORD_BATCH_OVERHEAD, RECORD_BATCH_OVERHEAD + random(batch.length - RECORD_BATCH_OVERHEAD)))
      } else {
        batch = batch.subarray(0, random(batch.length)) // torn: the header says more than is there
      }
      try {
        await decodeRecordBatch(batch)
        decoded++
      } catch (error) {
        if (!(error instanceof CorruptRecordError)) throw error
      }
    }
    expect(decoded).toBeLessThan(3000)
  })
})

describe('property: builder then decoder', () => {
  const bytes = fc.option(fc.uint8Array({maxLength: 48}).map((array) => Buffer.from(array)), {nil: null, freq: 4})
  const header = fc.record({key: fc.fullUnicodeString({maxLength: 6}), value: bytes})
  const record = fc.record({
    gap: fc.nat({max: 3}),
    timestamp: fc.oneof(fc.integer({min: -1, max: 2 ** 42}), fc.constantFrom(0, Number.MAX_SAFE_INTEGER - 1)),
    key: bytes,
    value: bytes,
    headers: fc.array(header, {maxLength: 3}),
  })
  const batchInput = fc.record({
    baseOffset: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER - 2 ** 31)),
    records: fc.array(record, {minLength: 1, maxLength: 12}),
    compression: fc.constantFrom(...CODECS),
    producerId: fc.oneof(fc.constant(-1), fc.maxSafeNat()),
    producerEpoch: fc.integer({min: -1, max: 32767}),
    baseSequence: fc.integer({min: -1, max: 2 ** 31 - 1}),
    isTransactional: fc.boolean(),
    partitionLeaderEpoch: fc.integer({min: -1, max: 2 ** 31 - 1}),
    timestampType: fc.constantFrom(TimestampType.CreateTime, TimestampType.LogAppendTime),
  })

  it('decode(build(x)) gives back x, and the batch passes validateBatch', async () => {
    await fc.assert(
      fc.asyncProperty(batchInput, async (input) => {
        let offset = input.baseOffset - 1
        const records = input.records.map(({gap, ...rest}) => ({...rest, offset: (offset += 1 + gap)}))
        if (records.some((r) => Math.abs(r.timestamp - records[0]!.timestamp) > Number.MAX_SAFE_INTEGER)) return
        const spec: RecordBatchInput = {...input, records, logAppendTime: 1_234}
        const batch = await buildRecordBatch(spec)
        const header = validateBatch(batch)
        expect(header).toMatchObject({
          baseOffset: input.baseOffset,
          lastOffset: offset,
          recordCount: records.length,
          compression: input.compression,
          producerId: input.producerId,
          producerEpoch: input.producerEpoch,
          baseSequence: input.baseSequence,
          isTransactional: input.isTransactional,
          isControl: false,
          partitionLeaderEpoch: input.partitionLeaderEpoch,
          timestampType: input.timestampType,
        })
        const decoded = await decodeRecordBatch(batch)
        expect(decoded.records).toEqual(
          records.map((r) => ({
            offset: r.offset,
            timestamp: input.timestampType === TimestampType.LogAppendTime ? 1_234 : r.timestamp,
            key: r.key,
            value: r.value,
            headers: r.headers,
          })),
        )
        if (input.compression === CompressionType.None) {
          expect((await rebuild(decoded.header, decoded.records)).equals(batch)).toBe(
            input.timestampType === TimestampType.CreateTime,
          )
        }
      }),
      {numRuns: 400},
    )
  })
})

describe.skipIf(!goldenAvailable)('golden segments written by Kafka 4.0', () => {
  it('every batch decodes: 18,003 keyed records with contiguous offsets', async () => {
    let count = 0
    let nextOffset = 0
    for (const {data} of goldenLogs()) {
      for (const {header, records} of await decodeRecordBatches(data)) {
        expect(records).toHaveLength(header.recordCount)
        for (const record of records) {
          expect(record.offset).toBe(nextOffset++)
          expect(record.key).not.toBeNull()
          expect(record.timestamp).toBeGreaterThanOrEqual(header.baseTimestamp - 60_000)
          expect(record.timestamp).toBeLessThanOrEqual(header.maxTimestamp)
        }
        count += records.length
      }
    }
    expect(count).toBe(GOLDEN_RECORD_COUNT)
  })

  it('re-encoding each decoded batch gives identical bytes', async () => {
    let batches = 0
    for (const {data} of goldenLogs()) {
      for (const {position, header} of iterateBatches(data)) {
        const {records} = await decodeRecordBatch(data, position)
        const rebuilt = await rebuild(header, records)
        expect(rebuilt.equals(data.subarray(position, position + header.sizeInBytes))).toBe(true)
        batches++
      }
    }
    expect(batches).toBe(144)
  })
})

describe.skipIf(!capturesAvailable)('batches recorded from real clients (captures)', () => {
  it('Java, kcat and kafkajs batches decode; uncompressed ones re-encode identically', async () => {
    const seen = new Set<string>()
    for (const {client, api, batch} of capturedBatches()) {
      const {header, records} = await decodeRecordBatch(batch)
      seen.add(`${client} ${api} codec=${header.compression}`)
      if (header.compression === CompressionType.None) {
        expect((await rebuild(header, records)).equals(batch)).toBe(true)
      }
    }
    expect(seen).toContain('java Produce codec=0')
    expect(seen).toContain('kcat Produce codec=0')
    expect(seen).toContain('kafkajs Produce codec=1')
  })

  it("kafkajs's idempotent gzip batch with a header", async () => {
    const gzip = capturedBatches().find((c) => c.client === 'kafkajs' && c.api === 'Produce')!
    const {header, records} = await decodeRecordBatch(gzip.batch)
    expect(readBatchHeader(gzip.batch).compression).toBe(CompressionType.Gzip)
    expect(header.producerId).toBeGreaterThanOrEqual(0)
    expect(records.map((r) => [r.key!.toString(), r.value!.toString(), r.headers])).toEqual([
      ['x', 'one', [{key: 'h', value: Buffer.from('v')}]],
      ['y', 'two', []],
    ])
    expect(() => validateBatch(gzip.batch, 0, {origin: 'client'})).not.toThrow()
  })
})

if (!goldenAvailable) {
  describe('golden segments written by Kafka 4.0', () => {
    it.skip(goldenSkipReason, () => {})
  })
}
