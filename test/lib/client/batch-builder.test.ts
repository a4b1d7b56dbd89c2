import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {BatchBuilder} from '../../../src/lib/client/batch-builder.js'
import {CompressionType} from '../../../src/lib/records/batch.js'
import {buildRecordBatch, decodeRecordBatch} from '../../../src/lib/records/record.js'

const recordArb = fc.record({
  headers: fc.array(fc.record({key: fc.string({maxLength: 8}), value: fc.option(fc.uint8Array({maxLength: 8}).map((b) => Buffer.from(b)), {nil: null})}), {maxLength: 3}),
  key: fc.option(fc.uint8Array({maxLength: 40}).map((b) => Buffer.from(b)), {nil: null}),
  timestamp: fc.integer({max: 1_800_000_000_000, min: 1_600_000_000_000}),
  value: fc.option(fc.uint8Array({maxLength: 300}).map((b) => Buffer.from(b)), {nil: null}),
})

describe('BatchBuilder', () => {
  it('writes the same bytes as buildRecordBatch (src/lib/records), whatever the records', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recordArb, {maxLength: 60, minLength: 1}), fc.integer({max: 200, min: 0}), async (records, capacity) => {
        const builder = new BatchBuilder(capacity)
        for (const r of records) builder.append(r.timestamp, r.key, r.value, r.headers)
        const built = await builder.build(CompressionType.None, {baseSequence: 5, producerEpoch: 1, producerId: 77})
        const reference = await buildRecordBatch({baseSequence: 5, producerEpoch: 1, producerId: 77, records})
        expect(built.equals(reference)).toBe(true)
      }),
      {numRuns: 200},
    )
  })

  it('compresses the encoded records with every codec', async () => {
    for (const codec of [CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd]) {
      const builder = new BatchBuilder()
      for (let i = 0; i < 1000; i++) builder.append(1_700_000_000_000 + i, Buffer.from(`k${i}`), Buffer.from(`value ${i} `.repeat(5)), undefined)
      const batch = await builder.build(codec, {baseSequence: -1, producerEpoch: -1, producerId: -1})
      expect(batch.length).toBeLessThan(builder.sizeInBytes)
      const decoded = await decodeRecordBatch(batch)
      expect(decoded.header.compression).toBe(codec)
      expect(decoded.records).toHaveLength(1000)
      expect(decoded.records[999]!.value!.toString()).toBe('value 999 '.repeat(5))
      expect(decoded.records[999]!.timestamp).toBe(1_700_000_000_999)
    }
  })
})
