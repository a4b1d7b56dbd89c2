/**
 * Issue 19: many connections, each pipelining Produce requests (acks=1 and acks=all) to several
 * partitions, with other requests between them. Each connection gets its responses in the order
 * of its requests; each partition's offsets are handed out without gaps or overlaps, in the
 * order each connection sent its batches; and the log holds at every offset the record the
 * response said it put there.
 */
import {connect, type Socket} from 'node:net'
import {describe, expect, it} from 'vitest'

import {decodeResponse, encodeRequest} from '../../../src/lib/protocol/index.js'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import {buildRecordBatch, decodeRecordBatches} from '../../../src/lib/records/record.js'
import {useBroker} from '../handlers/helpers.js'

const TOPIC = 'interleaved'
const PARTITIONS = 8
const CONNECTIONS = 12
const REQUESTS = 40
const DEADLINE_MS = 20_000

interface Sent {
  correlationId: number
  apiKey: number
  /** Produce only: what each partition's batch holds. */
  batches?: Array<{partition: number; values: string[]}>
}

/** Writes every request at once, then collects one response frame per request, in arrival order. */
function pipeline(port: number, frames: Buffer[][], expected: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({host: '127.0.0.1', port}, () => {
      for (const chunks of frames) for (const c of chunks) socket.write(c)
    })
    const got: Buffer[] = []
    let buffered = Buffer.alloc(0)
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`${got.length} of ${expected} responses after ${DEADLINE_MS} ms`))
    }, DEADLINE_MS)
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        const size = buffered.readInt32BE(0)
        got.push(buffered.subarray(4, 4 + size))
        buffered = buffered.subarray(4 + size)
      }
      if (got.length === expected) {
        clearTimeout(timer)
        socket.destroy()
        resolve(got)
      }
    })
    socket.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}

describe('interleaved connections and partitions (issue 19)', () => {
  const ctx = useBroker()

  it('answer each connection in request order and give each partition gapless offsets in each connection’s order', async () => {
    await ctx.createTopic(TOPIC, {numPartitions: PARTITIONS})
    const plans: Sent[][] = []
    const frames: Buffer[][][] = []
    for (let c = 0; c < CONNECTIONS; c++) {
      const sent: Sent[] = []
      const out: Buffer[][] = []
      for (let r = 0; r < REQUESTS; r++) {
        const correlationId = r + 1
        if (r % 9 === 4) {
          // Something else between the produce requests: answered in its place.
          sent.push({correlationId, apiKey: ApiKey.ApiVersions})
          out.push(encodeRequest(ApiKey.ApiVersions, 3, correlationId, `c${c}`, {clientSoftwareName: 'test', clientSoftwareVersion: '1'}))
          continue
        }
        // Three partitions per request, different ones from request to request and connection to connection.
        const partitions = [0, 1, 2].map((k) => (c + r + k * 3) % PARTITIONS)
        const batches = partitions.map((partition) => ({partition, values: Array.from({length: 1 + ((c + r + partition) % 4)}, (_, i) => `c${c}-r${r}-p${partition}-${i}`)}))
        const partitionData = await Promise.all(
          batches.map(async (b) => ({index: b.partition, records: await buildRecordBatch({records: b.values.map((v) => ({timestamp: Date.now(), key: null, value: Buffer.from(v)}))})})),
        )
        sent.push({correlationId, apiKey: ApiKey.Produce, batches})
        out.push(encodeRequest(ApiKey.Produce, 9, correlationId, `c${c}`, {transactionalId: null, acks: r % 2 === 0 ? 1 : -1, timeoutMs: 10_000, topicData: [{name: TOPIC, partitionData}]}))
      }
      plans.push(sent)
      frames.push(out)
    }

    const responses = await Promise.all(frames.map((f) => pipeline(ctx.broker.port, f, REQUESTS)))

    // offsets[p]: every (baseOffset, values, connection, request) the broker reported for partition p.
    const offsets: Array<Array<{baseOffset: number; values: string[]; c: number; r: number}>> = Array.from({length: PARTITIONS}, () => [])
    for (let c = 0; c < CONNECTIONS; c++) {
      const sent = plans[c]!
      const got = responses[c]!
      // Per-connection response order: correlation ids in the order of the requests.
      expect(got.map((f) => f.readInt32BE(0))).toEqual(sent.map((s) => s.correlationId))
      for (let r = 0; r < REQUESTS; r++) {
        const s = sent[r]!
        if (s.apiKey !== ApiKey.Produce) {
          expect(decodeResponse(got[r]!, ApiKey.ApiVersions, 3).body.errorCode).toBe(ErrorCode.NONE)
          continue
        }
        const body = decodeResponse(got[r]!, ApiKey.Produce, 9).body
        const partitionResponses = body.responses[0]!.partitionResponses
        for (const b of s.batches!) {
          const pr = partitionResponses.find((x) => x.index === b.partition)!
          expect(pr.errorCode).toBe(ErrorCode.NONE)
          offsets[b.partition]!.push({baseOffset: Number(pr.baseOffset), values: b.values, c, r})
        }
      }
    }

    for (let p = 0; p < PARTITIONS; p++) {
      const appended = [...offsets[p]!].sort((a, b) => a.baseOffset - b.baseOffset)
      // Gapless, no overlap: each batch starts where the previous one ended.
      let next = 0
      for (const a of appended) {
        expect(a.baseOffset).toBe(next)
        next += a.values.length
      }
      // Each connection's batches are in the log in the order it sent them.
      for (let c = 0; c < CONNECTIONS; c++) {
        const mine = appended.filter((a) => a.c === c).map((a) => a.r)
        expect(mine).toEqual([...mine].sort((x, y) => x - y))
      }
      // The log holds at each offset the record the response placed there.
      const fetched = await ctx.client.send(ApiKey.Fetch, 12, {replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 16 << 20, isolationLevel: 0, sessionEpoch: -1, topics: [{topic: TOPIC, partitions: [{partition: p, fetchOffset: 0n, partitionMaxBytes: 16 << 20}]}]})
      const records = fetched.responses[0]!.partitions[0]!.records
      const read = new Map<number, string>()
      for (const batch of await decodeRecordBatches(records ?? Buffer.alloc(0))) for (const r of batch.records) read.set(Number(r.offset), r.value!.toString())
      expect(read.size).toBe(next)
      for (const a of appended) a.values.forEach((v, i) => expect(read.get(a.baseOffset + i)).toBe(v))
    }
  })
})
