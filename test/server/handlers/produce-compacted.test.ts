import {beforeAll, describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {CompressionType} from '../../../src/lib/records/batch.js'
import {buildRecordBatch} from '../../../src/lib/records/record.js'
import {useBroker} from './helpers.js'

// Regression (reported by the e2e suite): a compacted topic accepted records without a key; Kafka's
// LogValidator answers INVALID_RECORD with every such record's index.
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
      expect(answer.recordErrors).toEqual([{batchIndex: 1, batchIndexErrorMessage: 'Compacted topic cannot accept message without key in topic partition compacted-0'}])
    }
  })

  // Issue 12: only the first keyless record was reported, so KIP-467 clients (librdkafka 2.4+)
  // could not tell the offending records from the others.
  it('reports every record without a key, with Kafka LogValidator message listing the first three', async () => {
    const keyless = new Set([0, 3, 4, 9])
    const batch = await buildRecordBatch({records: Array.from({length: 10}, (_, i) => ({key: keyless.has(i) ? null : Buffer.from(`k${i}`), value: Buffer.from(String(i))}))})
    const answer = await produce(batch)
    const message = 'Compacted topic cannot accept message without key in topic partition compacted-0'
    expect(answer).toMatchObject({errorCode: ErrorCode.INVALID_RECORD, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: 0n})
    expect(answer.recordErrors).toEqual([...keyless].map((batchIndex) => ({batchIndex, batchIndexErrorMessage: message})))
    expect(answer.errorMessage).toBe(
      'One or more records have been rejected due to 4 record errors in total, and only showing the first three errors at most: ' +
        `[RecordError(batchIndex=0, message='${message}'), RecordError(batchIndex=3, message='${message}'), RecordError(batchIndex=4, message='${message}')]`,
    )
  })

  it('accepts keyed records', async () => {
    const answer = await produce(await buildRecordBatch({records: [{key: Buffer.from('a'), value: Buffer.from('1')}]}))
    expect(answer.errorCode).toBe(0)
    expect(answer.baseOffset).toBe(0n)
  })
})
