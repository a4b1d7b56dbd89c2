import {beforeAll, describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {CompressionType} from '../../../src/lib/records/batch.js'
import {buildRecordBatch} from '../../../src/lib/records/record.js'
import {useBroker} from './helpers.js'

// Regression (reported by the e2e suite): a compacted topic accepted records without a key; Kafka's
// LogValidator answers INVALID_RECORD with the record's index.
describe('Produce to a compacted topic', () => {
  const ctx = useBroker()

  beforeAll(async () => {
    await ctx.createTopic('compacted', {configs: [{name: 'cleanup.policy', value: 'compact,delete'}]})
  })

  const produce = async (records: Buffer) => {
    const res = await ctx.client.send(ApiKey.Produce, 9, {acks: 1, timeoutMs: 5000, topicData: [{name: 'compacted', partitionData: [{index: 0, records}]}]})
    return res.responses[0]!.partitionResponses[0]!
  }

  it('refuses a record without a key, naming its index, in compressed batches too', async () => {
    for (const compression of [CompressionType.None, CompressionType.Zstd]) {
      const batch = await buildRecordBatch({compression, records: [{key: Buffer.from('a'), value: Buffer.from('1')}, {key: null, value: Buffer.from('2')}]})
      const answer = await produce(batch)
      expect(answer.errorCode).toBe(ErrorCode.INVALID_RECORD)
      expect(answer.recordErrors).toEqual([{batchIndex: 1, batchIndexErrorMessage: 'Compacted topic cannot accept message without key in topic partition compacted-0.'}])
    }
  })

  it('accepts keyed records', async () => {
    const answer = await produce(await buildRecordBatch({records: [{key: Buffer.from('a'), value: Buffer.from('1')}]}))
    expect(answer.errorCode).toBe(0)
    expect(answer.baseOffset).toBe(0n)
  })
})
