// Consumer quotas on Fetch (issue 15), as KafkaApis.handleFetchRequest: the response capped to
// what the quota allows in samples - 1 windows, and a throttled fetch answered empty with
// throttle_time_ms (FetchContext.getThrottledResponse), its bytes taken back, the fetch session
// untouched but for its epoch. Windows of 1 s, 2 samples, so the rate moves within a test.
import {beforeAll, describe, expect, it} from 'vitest'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {iterateBatches} from '../../../src/lib/records/batch.js'
import {buildRecordBatch} from '../../../src/lib/records/record.js'
import {ProtocolClient, useBroker} from './helpers.js'

const baseOffsets = (records: Buffer | null) => (records ? [...iterateBatches(records)].map((b) => b.header.baseOffset) : [])

describe('Fetch under a consumer_byte_rate quota', () => {
  const ctx = useBroker({'quota.window.num': '2', 'quota.window.size.seconds': '1'})
  const setQuota = (value: number | null) =>
    ctx.client.send(ApiKey.AlterClientQuotas, 1, {entries: [{entity: [{entityType: 'client-id', entityName: 'kcli-test'}], ops: [{key: 'consumer_byte_rate', value: value ?? 0, remove: value === null}]}], validateOnly: false})

  beforeAll(async () => {
    await ctx.createTopic('fq')
    // Three batches of about 600 bytes, produced before any quota.
    for (let i = 0; i < 3; i++) {
      const records = await buildRecordBatch({records: [{value: Buffer.alloc(600, i)}]})
      const res = await ctx.client.send(ApiKey.Produce, 9, {acks: 1, timeoutMs: 5000, topicData: [{name: 'fq', partitionData: [{index: 0, records}]}]})
      expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NONE)
    }
  })

  const fetch = (client: ProtocolClient, fetchOffset: bigint, sessionId: number, sessionEpoch: number, topics = true) =>
    client.send(ApiKey.Fetch, 12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId,
      sessionEpoch,
      topics: topics ? [{topic: 'fq', partitions: [{partition: 0, fetchOffset, currentLeaderEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20}]}] : [],
      forgottenTopicsData: [],
      rackId: '',
    })

  it('caps the response to the quota times samples - 1 windows, then answers a throttled fetch empty and serves it once the throttle is over', async () => {
    // 900 B/s over 1 window: at most 900 bytes per response (one batch of about 700 bytes of the
    // three), however large max_bytes; the second response puts the client over unless more than
    // half a second passes between the two.
    await setQuota(900)
    const client = await ProtocolClient.connect(ctx.broker.port)
    try {
      const first = await fetch(client, 0n, 0, 0)
      expect(first.throttleTimeMs).toBe(0)
      expect(first.sessionId).toBeGreaterThan(0)
      expect(baseOffsets(first.responses[0]!.partitions[0]!.records)).toEqual([0])
      const sessionId = first.sessionId
      // The next batch puts the client over its quota: the answer is empty, the session's id kept.
      let epoch = 1
      const throttled = await fetch(client, 1n, sessionId, epoch++)
      expect(throttled.throttleTimeMs).toBeGreaterThan(0)
      expect(throttled).toMatchObject({errorCode: ErrorCode.NONE, sessionId, responses: []})
      // The session still holds the partition and what its client last saw: once the throttle is
      // over (the connection was muted for it), an incremental fetch naming nothing gets batch 1.
      const deadline = Date.now() + 10_000
      let served
      while (Date.now() < deadline) {
        const res = await fetch(client, 1n, sessionId, epoch++, false)
        expect(res).toMatchObject({errorCode: ErrorCode.NONE, sessionId})
        if (res.responses.length > 0) {
          served = res
          break
        }
        expect(res.throttleTimeMs).toBeGreaterThan(0)
      }
      expect(served?.throttleTimeMs).toBe(0)
      expect(baseOffsets(served!.responses[0]!.partitions[0]!.records)).toEqual([1])
    } finally {
      client.close()
      await setQuota(null)
    }
  }, 20_000)

  it('a throttled fetch that would open a session opens none (session id 0)', async () => {
    // 1 B/s: the one batch a fetch always carries (however small the cap) puts it over at once.
    await setQuota(1)
    const client = await ProtocolClient.connect(ctx.broker.port)
    try {
      const res = await fetch(client, 0n, 0, 0)
      expect(res.throttleTimeMs).toBeGreaterThan(0)
      expect(res).toMatchObject({errorCode: ErrorCode.NONE, sessionId: 0, responses: []})
    } finally {
      // The connection is muted for minutes: it goes.
      client.close()
      await setQuota(null)
    }
  })
})
