import {afterEach, describe, expect, it} from 'vitest'
import * as fsp from 'node:fs/promises'
import {CompressionType, TimestampType, iterateBatches, readBatchHeader} from '../../../src/lib/records/batch.js'
import {buildRecordBatch, decodeRecordBatches} from '../../../src/lib/records/record.js'
import {LogError} from '../../../src/server/log/errors.js'
import {NodeFileSystem} from '../../../src/server/log/fs.js'
import {MemoryFileSystem} from '../../../src/server/log/memory-fs.js'
import {EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, MAX_TIMESTAMP, PartitionLog} from '../../../src/server/log/partition-log.js'
import type {LogConfig} from '../../../src/server/log/log-config.js'
import {ManualClock, makeBatch, makeTempDir, readAll, testConfig} from './helpers.js'

const DIR = '/data/topic-0'

async function openMem(fs: MemoryFileSystem, config: Partial<LogConfig> = {}, clock = new ManualClock(), extra = {}): Promise<PartitionLog> {
  return PartitionLog.open({fs, dir: DIR, config: testConfig(config), clock, ...extra})
}

async function errorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    if (error instanceof LogError) return error.code
    throw error
  }
  return 'NONE'
}

const tempDirs: string[] = []
afterEach(async () => {
  for (const dir of tempDirs.splice(0)) await fsp.rm(dir, {recursive: true, force: true})
})

describe('PartitionLog append and read', () => {
  it('assigns offsets, patches the leader epoch, reads whole batches, and finds batches from their middle', async () => {
    const fs = new MemoryFileSystem()
    const clock = new ManualClock()
    const log = await openMem(fs, {}, clock)
    const batches: Buffer[] = []
    for (let i = 0; i < 20; i++) {
      const batch = await makeBatch(5, {timestamp: clock.now(), seed: i})
      const result = await log.append(batch, {leaderEpoch: 3})
      expect(result).toMatchObject({baseOffset: i * 5, lastOffset: i * 5 + 4, logAppendTime: -1, logStartOffset: 0, duplicate: false})
      expect(readBatchHeader(batch).partitionLeaderEpoch).toBe(3)
      batches.push(batch)
    }
    expect(log.logEndOffset).toBe(100)
    const all = await log.read(0, 1 << 20)
    expect(all.records.equals(Buffer.concat(batches))).toBe(true)
    expect(all.nextOffset).toBe(100)
    const mid = await log.read(12, 1)
    expect(mid.firstOffset).toBe(10)
    expect(mid.records.equals(batches[2]!)).toBe(true)
    const none = await log.read(12, 1, {minOneMessage: false})
    expect(none.records.length).toBe(0)
    const bounded = await log.read(0, 1 << 20, {maxOffset: 50})
    expect(bounded.nextOffset).toBe(50)
    expect(await errorCode(log.read(101, 100))).toBe('OFFSET_OUT_OF_RANGE')
    expect((await log.read(100, 100)).records.length).toBe(0)
    expect(log.leaderEpochCache.epochEntries()).toEqual([{epoch: 3, startOffset: 0}])
    await log.close()
  })

  it('appends compressed batches of every codec without decoding them', async () => {
    const fs = new MemoryFileSystem()
    const log = await openMem(fs)
    for (const compression of [CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd]) {
      await log.append(await makeBatch(10, {compression, valueSize: 100}))
    }
    const read = await log.read(0, 1 << 20)
    const decoded = await decodeRecordBatches(read.records)
    expect(decoded.map((b) => b.header.compression)).toEqual([0, 1, 2, 3, 4])
    expect(decoded.flatMap((b) => b.records.map((r) => r.offset))).toEqual(Array.from({length: 50}, (_, i) => i))
  })

  it('rejects bad batches with Kafka error names and writes nothing', async () => {
    const fs = new MemoryFileSystem()
    const clock = new ManualClock()
    const log = await openMem(fs, {maxMessageBytes: 2000, segmentBytes: 10_000, messageTimestampAfterMaxMs: 1000, messageTimestampBeforeMaxMs: 5000}, clock)
    const good = await makeBatch(3, {timestamp: clock.now()})
    const corrupt = Buffer.from(good)
    corrupt[corrupt.length - 1]! ^= 0xff
    expect(await errorCode(log.append(corrupt))).toBe('CORRUPT_MESSAGE')
    expect(await errorCode(log.append(good.subarray(0, good.length - 1)))).toBe('CORRUPT_MESSAGE')
    expect(await errorCode(log.append(Buffer.concat([good, Buffer.alloc(5)])))).toBe('CORRUPT_MESSAGE')
    expect(await errorCode(log.append(await makeBatch(1, {valueSize: 3000, timestamp: clock.now()})))).toBe('MESSAGE_TOO_LARGE')
    const many = Buffer.concat(await Promise.all(Array.from({length: 8}, () => makeBatch(1, {valueSize: 1500, timestamp: clock.now()}))))
    expect(await errorCode(log.append(many))).toBe('RECORD_LIST_TOO_LARGE')
    expect(await errorCode(log.append(await makeBatch(1, {timestamp: clock.now() + 2000})))).toBe('INVALID_TIMESTAMP')
    expect(await errorCode(log.append(await makeBatch(1, {timestamp: clock.now() - 6000})))).toBe('INVALID_TIMESTAMP')
    const badCount = await makeBatch(3, {timestamp: clock.now(), lastOffsetDelta: 5})
    expect(await errorCode(log.append(badCount))).toBe('INVALID_RECORD')
    expect(log.logEndOffset).toBe(0)
    expect(log.size).toBe(0)
    expect((await log.append(good)).baseOffset).toBe(0)
  })

  it('stamps LogAppendTime when configured', async () => {
    const fs = new MemoryFileSystem()
    const clock = new ManualClock()
    const log = await openMem(fs, {messageTimestampType: 'LogAppendTime'}, clock)
    const result = await log.append(await makeBatch(2, {timestamp: 5}))
    expect(result.logAppendTime).toBe(clock.now())
    const [decoded] = await decodeRecordBatches((await log.read(0, 1000)).records)
    expect(decoded!.header.timestampType).toBe(TimestampType.LogAppendTime)
    expect(decoded!.records.map((r) => r.timestamp)).toEqual([clock.now(), clock.now()])
  })

  it('detects idempotent producer retries and sequence gaps', async () => {
    const fs = new MemoryFileSystem()
    const log = await openMem(fs)
    const batch = (seq: number, epoch = 0): Promise<Buffer> => makeBatch(2, {producerId: 7, producerEpoch: epoch, baseSequence: seq})
    expect((await log.append(await batch(0))).baseOffset).toBe(0)
    expect((await log.append(await batch(2))).baseOffset).toBe(2)
    const retry = await log.append(await batch(0))
    expect(retry).toMatchObject({duplicate: true, baseOffset: 0, lastOffset: 1})
    expect(await errorCode(log.append(await batch(7)))).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER')
    expect((await log.append(await batch(0, 1))).baseOffset).toBe(4)
    expect(await errorCode(log.append(await batch(2, 0)))).toBe('INVALID_PRODUCER_EPOCH')
    expect(log.logEndOffset).toBe(6)
    // The state survives a restart through the snapshot.
    await log.close()
    const reopened = await openMem(fs, {}, new ManualClock(), {hadCleanShutdown: true})
    expect((await reopened.append(await batch(0, 1))).duplicate).toBe(true)
    expect((await reopened.append(await batch(2, 1))).baseOffset).toBe(6)
  })
})

describe('PartitionLog roll, retention, delete records, truncation', () => {
  it('rolls on segment.bytes and on a full index, and reads across segments', async () => {
    const fs = new MemoryFileSystem()
    const log = await openMem(fs, {segmentBytes: 2000, indexIntervalBytes: 100, segmentIndexBytes: 5 * 8})
    const batches: Buffer[] = []
    for (let i = 0; i < 40; i++) {
      const batch = await makeBatch(2, {valueSize: 100, seed: i})
      await log.append(batch)
      batches.push(batch)
    }
    expect(log.numberOfSegments).toBeGreaterThan(5)
    for (const segment of log.liveSegments()) expect(segment.size).toBeLessThanOrEqual(2000)
    let offset = 0
    const parts: Buffer[] = []
    while (offset < log.logEndOffset) {
      const r = await log.read(offset, 1 << 20)
      parts.push(r.records)
      offset = r.nextOffset
    }
    expect(Buffer.concat(parts).equals(Buffer.concat(batches))).toBe(true)
    expect(fs.peek(`${DIR}/00000000000000000000.snapshot`)).toBeUndefined() // first segment has no snapshot
    expect(log.recoveryPoint).toBe(log.activeSegment.baseOffset) // roll fsyncs
  })

  it('rolls on segment.ms measured from the first batch timestamp', async () => {
    const fs = new MemoryFileSystem()
    const clock = new ManualClock()
    const log = await openMem(fs, {segmentMs: 1000}, clock)
    await log.append(await makeBatch(1, {timestamp: clock.now()}))
    clock.advance(500)
    await log.append(await makeBatch(1, {timestamp: clock.now()}))
    expect(log.numberOfSegments).toBe(1)
    clock.advance(600)
    await log.append(await makeBatch(1, {timestamp: clock.now()}))
    expect(log.segmentBaseOffsets()).toEqual([0, 2])
  })

  it('deletes by retention.ms and retention.bytes via .deleted files, and by DeleteRecords', async () => {
    const fs = new MemoryFileSystem()
    const clock = new ManualClock()
    const log = await openMem(fs, {segmentBytes: 1000, retentionMs: 10_000, fileDeleteDelayMs: 5000}, clock)
    for (let i = 0; i < 10; i++) {
      await log.append(await makeBatch(1, {valueSize: 400, timestamp: clock.now()}))
      clock.advance(1000)
    }
    expect(log.segmentBaseOffsets()).toEqual([0, 2, 4, 6, 8])
    clock.advance(5500) // segment [0,2) is 14.5 s old, [2,4) 12.5 s, [4,6) 10.5 s
    expect(await log.deleteOldSegments()).toBe(3)
    expect(log.logStartOffset).toBe(6)
    expect(await fs.readdir(DIR)).toContain('00000000000000000000.log.deleted')
    expect(await errorCode(log.read(3, 100))).toBe('OFFSET_OUT_OF_RANGE')
    clock.advance(5000)
    await log.deletePendingFiles()
    expect((await fs.readdir(DIR)).filter((n) => n.includes('.deleted'))).toEqual([])

    log.updateConfig(testConfig({segmentBytes: 1000, retentionMs: -1, retentionBytes: 900, fileDeleteDelayMs: 0}))
    expect(await log.deleteOldSegments()).toBe(1)
    expect(log.segmentBaseOffsets()).toEqual([8])

    expect(await log.deleteRecordsBefore(9)).toBe(9)
    expect(log.logStartOffset).toBe(9)
    const r = await log.read(9, 100)
    expect(r.firstOffset).toBe(9)
    expect(await errorCode(log.deleteRecordsBefore(11))).toBe('OFFSET_OUT_OF_RANGE')
    await log.close()
    // The log start offset is the caller's checkpoint; reopen with it.
    const reopened = await openMem(fs, {segmentBytes: 1000}, clock, {hadCleanShutdown: true, logStartOffset: 9})
    expect(reopened.logStartOffset).toBe(9)
    expect(reopened.logEndOffset).toBe(10)
  })

  it('deletes the active segment by retention after rolling', async () => {
    const fs = new MemoryFileSystem()
    const clock = new ManualClock()
    const log = await openMem(fs, {retentionMs: 1000}, clock)
    await log.append(await makeBatch(3, {timestamp: clock.now()}))
    clock.advance(2000)
    expect(await log.deleteOldSegments()).toBe(1)
    expect(log.logStartOffset).toBe(3)
    expect(log.logEndOffset).toBe(3)
    expect((await log.append(await makeBatch(1, {timestamp: clock.now()}))).baseOffset).toBe(3)
  })

  it('truncates to an offset across segments and keeps producer state and epochs consistent', async () => {
    const fs = new MemoryFileSystem()
    const log = await openMem(fs, {segmentBytes: 600})
    for (let i = 0; i < 10; i++) {
      await log.append(await makeBatch(2, {valueSize: 100, producerId: 1, producerEpoch: 0, baseSequence: i * 2}), {leaderEpoch: i < 5 ? 0 : 1})
    }
    expect(log.leaderEpochCache.epochEntries()).toEqual([{epoch: 0, startOffset: 0}, {epoch: 1, startOffset: 10}])
    await log.truncateTo(8)
    expect(log.logEndOffset).toBe(8)
    expect(log.leaderEpochCache.epochEntries()).toEqual([{epoch: 0, startOffset: 0}])
    expect([...iterateBatches(await readAll(log))].at(-1)!.header.lastOffset).toBe(7)
    // The producer's last sequence is back to 7, so sequence 8 is next.
    expect((await log.append(await makeBatch(2, {producerId: 1, producerEpoch: 0, baseSequence: 8}))).baseOffset).toBe(8)
    await log.truncateTo(0)
    expect(log.logEndOffset).toBe(0)
    expect(log.numberOfSegments).toBe(1)
  })

  it('answers ListOffsets by timestamp, earliest, latest and max timestamp', async () => {
    const fs = new MemoryFileSystem()
    const clock = new ManualClock(1_000_000)
    const log = await openMem(fs, {segmentBytes: 500, messageTimestampBeforeMaxMs: Infinity}, clock)
    for (let i = 0; i < 10; i++) await log.append(await makeBatch(2, {valueSize: 100, timestamp: 1000 * (i + 1)}))
    await log.append(await makeBatch(1, {timestamp: 500}))
    expect(await log.offsetForTimestamp(EARLIEST_TIMESTAMP)).toMatchObject({offset: 0})
    expect(await log.offsetForTimestamp(LATEST_TIMESTAMP)).toMatchObject({offset: 21})
    expect(await log.offsetForTimestamp(MAX_TIMESTAMP)).toMatchObject({timestamp: 10_000, offset: 18})
    expect(await log.offsetForTimestamp(4500)).toMatchObject({offset: 8, timestamp: 5000})
    expect(await log.offsetForTimestamp(0)).toMatchObject({offset: 0})
    expect(await log.offsetForTimestamp(20_000)).toBeUndefined()
    // Record-granular inside a batch.
    await log.append(await buildRecordBatch({records: [30_000, 31_000, 32_000, 31_500].map((timestamp) => ({timestamp, value: Buffer.from('v')}))}))
    expect(await log.offsetForTimestamp(30_500)).toMatchObject({offset: 22, timestamp: 31_000})
    expect(await log.offsetForTimestamp(MAX_TIMESTAMP)).toMatchObject({offset: 23, timestamp: 32_000})
  })
})

describe('PartitionLog faults (MemoryFileSystem)', () => {
  it('ENOSPC during append returns KAFKA_STORAGE_ERROR; the log stays readable and appendable once space is back', async () => {
    const fs = new MemoryFileSystem()
    const log = await openMem(fs, {segmentBytes: 4000})
    const ok: Buffer[] = []
    for (let i = 0; i < 5; i++) {
      const b = await makeBatch(3, {valueSize: 200, seed: i})
      await log.append(b)
      ok.push(b)
    }
    fs.faults.capacityBytes = fs.usedBytes() + 300 // room for part of a batch only
    for (let i = 0; i < 3; i++) {
      expect(await errorCode(log.append(await makeBatch(3, {valueSize: 200})))).toBe('KAFKA_STORAGE_ERROR')
    }
    expect(log.logEndOffset).toBe(15)
    expect((await log.read(0, 1 << 20)).records.equals(Buffer.concat(ok))).toBe(true)
    // A roll that cannot create files fails cleanly too.
    fs.faults.capacityBytes = fs.usedBytes()
    expect(await errorCode(log.append(await makeBatch(12, {valueSize: 200})))).toBe('KAFKA_STORAGE_ERROR')
    fs.faults.capacityBytes = undefined
    const after = await makeBatch(3, {valueSize: 200, seed: 99})
    expect((await log.append(after)).baseOffset).toBe(15)
    ok.push(after)
    let offset = 0
    const parts: Buffer[] = []
    while (offset < log.logEndOffset) {
      const r = await log.read(offset, 1 << 20)
      parts.push(r.records)
      offset = r.nextOffset
    }
    expect(Buffer.concat(parts).equals(Buffer.concat(ok))).toBe(true)
    await log.close()
    const reopened = await openMem(fs, {segmentBytes: 4000})
    expect(reopened.recoveryReport.truncatedBytes).toBe(0)
    expect(reopened.logEndOffset).toBe(18)
  })

  it('a failed fsync (flush.messages=1) rolls the append back; the next append succeeds', async () => {
    const fs = new MemoryFileSystem()
    const log = await openMem(fs, {flushMessages: 1})
    await log.append(await makeBatch(2))
    fs.faults.failSyncs = 1
    expect(await errorCode(log.append(await makeBatch(2)))).toBe('KAFKA_STORAGE_ERROR')
    expect(log.logEndOffset).toBe(2)
    expect((await log.read(0, 1 << 20)).nextOffset).toBe(2)
    const b = await makeBatch(2, {seed: 5})
    expect((await log.append(b)).baseOffset).toBe(2)
    expect(log.recoveryPoint).toBe(4)
    fs.crash()
    const reopened = await openMem(fs)
    expect(reopened.logEndOffset).toBe(4)
    const read = await reopened.read(2, 1 << 20)
    expect(read.records.equals(b)).toBe(true)
  })

  it('short writes are completed; failed writes leave nothing visible', async () => {
    const fs = new MemoryFileSystem()
    const log = await openMem(fs)
    fs.faults.shortWrites = 5
    const a = await makeBatch(4, {valueSize: 300})
    await log.append(a)
    fs.faults.failWrites = 1
    expect(await errorCode(log.append(await makeBatch(1)))).toBe('KAFKA_STORAGE_ERROR')
    const b = await makeBatch(1, {seed: 3})
    await log.append(b)
    expect((await log.read(0, 1 << 20)).records.equals(Buffer.concat([a, b]))).toBe(true)
  })

  it('after a crash keeps every fsynced batch and cuts the unsynced tail', async () => {
    const fs = new MemoryFileSystem()
    const log = await openMem(fs, {segmentBytes: 3000})
    const appended: Buffer[] = []
    for (let i = 0; i < 12; i++) {
      const b = await makeBatch(2, {valueSize: 150, seed: i})
      await log.append(b)
      appended.push(b)
    }
    await log.flush()
    for (let i = 0; i < 5; i++) {
      const b = await makeBatch(2, {valueSize: 150, seed: 100 + i})
      await log.append(b)
      appended.push(b)
    }
    const recoveryPoint = log.recoveryPoint
    expect(recoveryPoint).toBeGreaterThanOrEqual(24)
    fs.crash()
    const reopened = await openMem(fs, {segmentBytes: 3000}, new ManualClock(), {recoveryPoint})
    // Everything fsynced survives (rolls fsync too), nothing after the last fsync does.
    expect(reopened.logEndOffset).toBe(recoveryPoint)
    const all = Buffer.concat(appended)
    const recovered = await readAll(reopened)
    expect(recovered.equals(all.subarray(0, recovered.length))).toBe(true)
    expect([...iterateBatches(recovered)].at(-1)!.header.lastOffset).toBe(recoveryPoint - 1)
  })

  it('rebuilds missing and corrupt index files', async () => {
    const fs = new MemoryFileSystem()
    const log = await openMem(fs, {segmentBytes: 3000, indexIntervalBytes: 200})
    for (let i = 0; i < 30; i++) await log.append(await makeBatch(2, {valueSize: 150, seed: i}))
    const expected = await log.read(0, 1 << 20)
    await log.close()
    const names = await fs.readdir(DIR)
    const indexes = names.filter((n) => n.endsWith('.index'))
    await fs.unlink(`${DIR}/${indexes[0]}`)
    fs.corrupt(`${DIR}/${indexes[1]}`, 4, Buffer.from([0x7f, 0xff, 0xff, 0xff]))
    await fs.writeFile(`${DIR}/${names.find((n) => n.endsWith('.timeindex'))}`, Buffer.alloc(7))
    const reopened = await openMem(fs, {segmentBytes: 3000, indexIntervalBytes: 200}, new ManualClock(), {hadCleanShutdown: true})
    for (let offset = 0; offset < reopened.logEndOffset; offset += 7) {
      const r = await reopened.read(offset, 10)
      const header = readBatchHeader(r.records)
      expect(header.baseOffset).toBeLessThanOrEqual(offset)
      expect(header.lastOffset).toBeGreaterThanOrEqual(offset)
    }
    expect((await reopened.read(0, 1 << 20)).records.equals(expected.records)).toBe(true)
  })

  it('works on the real file system too', async () => {
    const root = await makeTempDir()
    tempDirs.push(root)
    const fs = new NodeFileSystem()
    const log = await PartitionLog.open({fs, dir: `${root}/t-3`, config: testConfig({segmentBytes: 2000})})
    for (let i = 0; i < 20; i++) await log.append(await makeBatch(2, {valueSize: 100}))
    expect(log.topic).toBe('t')
    expect(log.partition).toBe(3)
    await log.close()
    const again = await PartitionLog.open({fs, dir: `${root}/t-3`, config: testConfig({segmentBytes: 2000}), hadCleanShutdown: true})
    expect(again.logEndOffset).toBe(40)
    expect([...iterateBatches((await again.read(0, 1 << 20)).records)].length).toBeGreaterThan(0)
    await again.close()
  })
})

describe('record batch builder sanity', () => {
  it('builds what the log expects', async () => {
    const b = await buildRecordBatch({records: [{value: Buffer.from('x')}]})
    expect(readBatchHeader(b).recordCount).toBe(1)
  })
})
