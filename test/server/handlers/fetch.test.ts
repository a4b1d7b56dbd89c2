import {beforeAll, describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {iterateBatches} from '../../../src/lib/records/batch.js'
import {buildRecordBatch} from '../../../src/lib/records/record.js'
import {ProtocolClient, useBroker} from './helpers.js'

/** Offsets of the batches in a Fetch response's records. */
function batchBaseOffsets(records: Buffer | null): number[] {
  return records ? [...iterateBatches(records)].map((b) => b.header.baseOffset) : []
}

describe('Fetch', () => {
  const ctx = useBroker()

  const produce = async (topic: string, partition: number, values: string[]) => {
    const records = await buildRecordBatch({records: values.map((v) => ({value: Buffer.from(v)}))})
    const res = await ctx.client.send(ApiKey.Produce, 9, {acks: 1, timeoutMs: 5000, topicData: [{name: topic, partitionData: [{index: partition, records}]}]})
    expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(0)
    return Number(res.responses[0]!.partitionResponses[0]!.baseOffset)
  }

  beforeAll(async () => {
    await ctx.createTopic('f', {numPartitions: 2})
  })

  it('long-polls until an append arrives, then answers at once', async () => {
    const started = Date.now()
    const pending = ctx.client.send(ApiKey.Fetch, 12, {replicaId: -1, maxWaitMs: 5000, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionEpoch: -1, topics: [{topic: 'f', partitions: [{partition: 1, fetchOffset: 0n, partitionMaxBytes: 1 << 20}]}]})
    // A second connection appends while the first waits.
    const other = await ProtocolClient.connect(ctx.broker.port)
    const records = await buildRecordBatch({records: [{value: Buffer.from('wake')}]})
    await other.send(ApiKey.Produce, 9, {acks: 1, timeoutMs: 5000, topicData: [{name: 'f', partitionData: [{index: 1, records}]}]})
    other.close()
    const res = await pending
    expect(Date.now() - started).toBeLessThan(4000)
    expect(batchBaseOffsets(res.responses[0]!.partitions[0]!.records)).toEqual([0])
  })

  it('answers OFFSET_OUT_OF_RANGE past the log end, with the high watermark', async () => {
    const res = await ctx.client.send(ApiKey.Fetch, 12, {replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, sessionEpoch: -1, topics: [{topic: 'f', partitions: [{partition: 1, fetchOffset: 99n, partitionMaxBytes: 1 << 20}]}]})
    const p = res.responses[0]!.partitions[0]!
    expect(p.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE)
    expect(p.highWatermark).toBe(1n)
  })

  it('keeps an incremental fetch session (KIP-227): only what changed comes back', async () => {
    await produce('f', 0, ['a', 'b'])
    const full = await ctx.client.send(ApiKey.Fetch, 12, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, sessionId: 0, sessionEpoch: 0,
      topics: [{topic: 'f', partitions: [{partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20}, {partition: 1, fetchOffset: 1n, partitionMaxBytes: 1 << 20}]}],
    })
    expect(full.errorCode).toBe(0)
    const sessionId = full.sessionId
    expect(sessionId).toBeGreaterThan(0)
    expect(full.responses[0]!.partitions.map((p) => p.partitionIndex)).toEqual([0, 1])

    // The client sends only what changed on its side (partition 0 moved to offset 2); nothing
    // changed on the broker's side, so nothing comes back.
    const quiet = await ctx.client.send(ApiKey.Fetch, 12, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, sessionId, sessionEpoch: 1,
      topics: [{topic: 'f', partitions: [{partition: 0, fetchOffset: 2n, partitionMaxBytes: 1 << 20}]}],
    })
    expect(quiet.errorCode).toBe(0)
    expect(quiet.sessionId).toBe(sessionId)
    expect(quiet.responses).toEqual([])

    // New data on partition 1 (the session still fetches it from offset 1).
    await produce('f', 1, ['c'])
    const changed = await ctx.client.send(ApiKey.Fetch, 12, {replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, sessionId, sessionEpoch: 2, topics: []})
    expect(changed.responses[0]!.partitions.map((p) => p.partitionIndex)).toEqual([1])
    expect(batchBaseOffsets(changed.responses[0]!.partitions[0]!.records)).toEqual([1])

    // The client forgets partition 1.
    const moved = await ctx.client.send(ApiKey.Fetch, 12, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, sessionId, sessionEpoch: 3,
      topics: [],
      forgottenTopicsData: [{topic: 'f', partitions: [1]}],
    })
    expect(moved.responses).toEqual([])
    await produce('f', 1, ['d'])
    const forgotten = await ctx.client.send(ApiKey.Fetch, 12, {replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, sessionId, sessionEpoch: 4, topics: []})
    expect(forgotten.responses).toEqual([])

    // Wrong epoch, unknown session, and closing it.
    const stale = await ctx.client.send(ApiKey.Fetch, 12, {replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, sessionId, sessionEpoch: 2, topics: []})
    expect(stale.errorCode).toBe(ErrorCode.INVALID_FETCH_SESSION_EPOCH)
    const unknown = await ctx.client.send(ApiKey.Fetch, 12, {replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, sessionId: sessionId + 1000, sessionEpoch: 1, topics: []})
    expect(unknown.errorCode).toBe(ErrorCode.FETCH_SESSION_ID_NOT_FOUND)
    const closed = await ctx.client.send(ApiKey.Fetch, 12, {replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, sessionId, sessionEpoch: -1, topics: [{topic: 'f', partitions: [{partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20}]}]})
    expect(closed.sessionId).toBe(0)
    expect(batchBaseOffsets(closed.responses[0]!.partitions[0]!.records)).toEqual([0])
    const gone = await ctx.client.send(ApiKey.Fetch, 12, {replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, sessionId, sessionEpoch: 5, topics: []})
    expect(gone.errorCode).toBe(ErrorCode.FETCH_SESSION_ID_NOT_FOUND)
  })

  it('returns the first batch even when it is larger than max bytes, and stops there', async () => {
    const res = await ctx.client.send(ApiKey.Fetch, 12, {replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1, sessionEpoch: -1, topics: [{topic: 'f', partitions: [{partition: 1, fetchOffset: 0n, partitionMaxBytes: 1}]}]})
    expect(batchBaseOffsets(res.responses[0]!.partitions[0]!.records)).toEqual([0])
  })

  it('finds topics by id from v13', async () => {
    const meta = await ctx.client.send(ApiKey.Metadata, 12, {topics: [{name: 'f'}]})
    const topicId = meta.topics[0]!.topicId
    const res = await ctx.client.send(ApiKey.Fetch, 13, {replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, sessionEpoch: -1, topics: [{topicId, partitions: [{partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20}]}]})
    expect(res.responses[0]!.topicId).toBe(topicId)
    expect(batchBaseOffsets(res.responses[0]!.partitions[0]!.records)).toEqual([0])
    const unknown = await ctx.client.send(ApiKey.Fetch, 13, {replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, sessionEpoch: -1, topics: [{topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: [{partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20}]}]})
    expect(unknown.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID)
  })
})
