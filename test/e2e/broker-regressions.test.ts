/**
 * Regression tests for broker bugs found by the end-to-end tests, each named after its bug, against
 * a real `kcli server start` process (a crash must show as a dead process, not as a failed worker).
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ApiKey} from '../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../src/lib/protocol/generated/errors.js'
import {ZERO_UUID} from '../../src/lib/protocol/uuid.js'
import {CompressionType} from '../../src/lib/records/batch.js'
import {buildRecordBatch} from '../../src/lib/records/record.js'
import {type BrokerProcess, removeDir, spawnBroker, tempDir} from './harness.js'
import {processFootprint, RawClient, sleep} from './peers.js'

const MiB = 1024 * 1024

describe('broker regressions', () => {
  let dataDir: string
  let proc: BrokerProcess
  let brokerStderr = ''

  const expectAlive = async () => {
    expect(proc.child.exitCode, `the broker exited; its stderr:\n${brokerStderr.slice(-4000)}`).toBeNull()
    const c = await RawClient.connect(proc.port)
    try {
      expect((await c.request(ApiKey.ApiVersions, 3, {clientSoftwareName: 'e2e', clientSoftwareVersion: '1'})).errorCode).toBe(0)
    } finally {
      c.close()
    }
  }

  beforeAll(async () => {
    dataDir = tempDir('kcli-e2e-regressions-')
    proc = await spawnBroker(dataDir)
    proc.child.stderr!.on('data', (d: Buffer) => (brokerStderr += d.toString()))
  }, 60_000)

  afterAll(async () => {
    await proc?.kill('SIGKILL')
    if (dataDir) removeDir(dataDir)
  })

  it('BUG: a frame with size prefix 0 as the last bytes read crashed the broker (TypeError in Connection.take, uncaught in a socket data event)', async () => {
    for (const bytes of [Buffer.alloc(4), Buffer.concat([Buffer.alloc(4), Buffer.alloc(4)]), Buffer.from([0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, 255, 255, 0, 0, 0, 0])]) {
      const c = await RawClient.connect(proc.port)
      c.sendBytes(bytes)
      // Kafka reads an empty frame, fails to parse a request header and closes the connection.
      expect(await c.closedWithin(5_000)).toBe(true)
      await expectAlive()
    }
  })

  it('BUG: a client pipelining tiny requests without reading the responses made the broker queue 1.7 million frames (~200 MB of heap) under the 16 MiB read-ahead cap', async () => {
    // ApiVersions v0 requests of 14 bytes (10 + the size), 10,000 per write.
    const frame = Buffer.from([0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, 255, 255])
    const burst = Buffer.concat(Array.from({length: 10_000}, () => frame))
    const before = processFootprint(proc.child.pid!).rssBytes
    let peak = before
    const c = await RawClient.connect(proc.port)
    try {
      c.socket.pause() // never read a response
      const deadline = Date.now() + 20_000
      // Write until the broker stops reading (our own write buffer backs up), at most 3 million requests.
      for (let sent = 0; sent < 3_000_000 && Date.now() < deadline && c.socket.writableLength < 8 * MiB; sent += 10_000) {
        if (!c.socket.write(burst)) await sleep(20)
        if (sent % 200_000 === 0) peak = Math.max(peak, processFootprint(proc.child.pid!).rssBytes)
      }
      await sleep(1_000)
      peak = Math.max(peak, processFootprint(proc.child.pid!).rssBytes)
      console.log(`pipelining without reading: broker RSS ${(before / MiB).toFixed(0)} MiB -> peak ${(peak / MiB).toFixed(0)} MiB; client write buffer ${(c.socket.writableLength / MiB).toFixed(1)} MiB`)
      expect(c.socket.writableLength).toBeGreaterThan(0) // the broker stopped reading
      expect(peak - before).toBeLessThan(64 * MiB)
      await expectAlive()
    } finally {
      c.close()
    }
  }, 60_000)

  it("BUG: Produce appended two batches sent for one partition, took zstd before v7, and answered an empty or magic-1 record set with CORRUPT_MESSAGE (retriable); Kafka's ProduceRequest.validateRecords answers INVALID_RECORD / UNSUPPORTED_COMPRESSION_TYPE", async () => {
    const c = await RawClient.connect(proc.port)
    try {
      const topic = 'validate-records'
      expect((await c.request(ApiKey.Metadata, 12, {topics: [{name: topic, topicId: ZERO_UUID}], allowAutoTopicCreation: true})).topics[0]!.errorCode).toBe(0)
      const produce = async (records: Buffer | null, version = 9, acks = -1, name = topic) => {
        const r = await c.request(ApiKey.Produce, version, {transactionalId: null, acks, timeoutMs: 5_000, topicData: [{name, partitionData: [{index: 0, records}]}]})
        const p = r.responses[0]!.partitionResponses[0]!
        return {errorCode: p.errorCode, baseOffset: Number(p.baseOffset)}
      }
      const one = await buildRecordBatch({records: [{value: Buffer.from('one')}]})
      const zstd = await buildRecordBatch({compression: CompressionType.Zstd, records: [{value: Buffer.from('zstd')}]})
      const magic1 = Buffer.from(one)
      magic1[16] = 1
      const magic3 = Buffer.from(one)
      magic3[16] = 3

      expect(await produce(Buffer.alloc(0))).toEqual({errorCode: ErrorCode.INVALID_RECORD, baseOffset: -1})
      expect(await produce(one.subarray(0, 40))).toEqual({errorCode: ErrorCode.INVALID_RECORD, baseOffset: -1})
      expect(await produce(Buffer.concat([one, one]))).toEqual({errorCode: ErrorCode.INVALID_RECORD, baseOffset: -1})
      expect(await produce(magic1)).toEqual({errorCode: ErrorCode.INVALID_RECORD, baseOffset: -1})
      expect(await produce(magic3)).toEqual({errorCode: ErrorCode.CORRUPT_MESSAGE, baseOffset: -1})
      expect(await produce(zstd, 6)).toEqual({errorCode: ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, baseOffset: -1})
      // Kafka's order: an unknown partition first, then the records, then acks.
      expect(await produce(one, 9, 2, 'no-such-topic')).toEqual({errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, baseOffset: -1})
      expect(await produce(Buffer.alloc(0), 9, 2)).toEqual({errorCode: ErrorCode.INVALID_RECORD, baseOffset: -1})
      expect(await produce(one, 9, 2)).toEqual({errorCode: ErrorCode.INVALID_REQUIRED_ACKS, baseOffset: -1})
      // Nothing of the above was appended; valid batches are.
      expect(await produce(zstd, 7)).toEqual({errorCode: 0, baseOffset: 0})
      expect(await produce(one, 3)).toEqual({errorCode: 0, baseOffset: 1})
    } finally {
      c.close()
    }
    await expectAlive()
  })
})
