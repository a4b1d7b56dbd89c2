/**
 * Issue 19: a reader that fetches on from where its last read ended (a consumer, a follower) starts
 * at the next batch in one read of at most maxBytes + index.interval.bytes, instead of at the
 * index entry before it (which, with batches larger than the index interval, is the previous
 * batch: one read too early, a header scan and a second read). And a position remembered before
 * the log was truncated and appended again is never used.
 */
import {describe, expect, it} from 'vitest'
import type {FileHandle, OpenMode} from '../../../src/server/log/fs.js'
import {MemoryFileSystem} from '../../../src/server/log/memory-fs.js'
import {PartitionLog} from '../../../src/server/log/partition-log.js'
import {ManualClock, makeBatch, testConfig} from './helpers.js'

/** Counts the bytes and calls of every read of a .log file. */
class CountingFileSystem extends MemoryFileSystem {
  logReads = {calls: 0, bytes: 0}

  override async open(path: string, mode: OpenMode): Promise<FileHandle> {
    const handle = await super.open(path, mode)
    if (!path.endsWith('.log')) return handle
    const reads = this.logReads
    const count = (length: number) => {
      reads.calls++
      reads.bytes += length
    }
    return Object.assign(Object.create(handle) as FileHandle, {
      async read(buffer: Buffer, offset: number, length: number, position: number) {
        count(length)
        return handle.read(buffer, offset, length, position)
      },
      // The active segment's reads (fs.ts readAt `hot`).
      readNow(buffer: Buffer, offset: number, length: number, position: number) {
        count(length)
        return handle.readNow!(buffer, offset, length, position)
      },
    })
  }
}

const INDEX_INTERVAL = 4096

describe('sequential reads (issue 19)', () => {
  it('start at the batch after the previous read: one read each, no wider than maxBytes + index.interval.bytes', async () => {
    const fs = new CountingFileSystem()
    const clock = new ManualClock()
    const log = await PartitionLog.open({fs, dir: '/data/t-0', config: testConfig({indexIntervalBytes: INDEX_INTERVAL}), clock})
    const batches: Buffer[] = []
    for (let i = 0; i < 40; i++) {
      // 40-50 KiB each, as librdkafka's batches under load: every batch gets an index entry keyed by
      // its last offset, and two batches do not fit in one read window.
      const batch = await makeBatch(200 + (i % 5) * 10, {valueSize: 200, timestamp: clock.now(), seed: i})
      await log.append(batch)
      batches.push(batch)
    }
    const maxBytes = 64 * 1024
    const parts: Buffer[] = []
    let offset = 0
    let reads = 0
    const before = {...fs.logReads}
    while (offset < log.logEndOffset) {
      const r = await log.read(offset, maxBytes)
      expect(r.firstOffset).toBe(offset)
      expect(r.records.length).toBeGreaterThan(0)
      parts.push(r.records)
      offset = r.nextOffset
      reads++
    }
    expect(Buffer.concat(parts).equals(Buffer.concat(batches))).toBe(true)
    expect(fs.logReads.calls - before.calls).toBe(reads)
    expect(fs.logReads.bytes - before.bytes).toBeLessThanOrEqual(reads * (maxBytes + INDEX_INTERVAL + 2 * 61))
    await log.close()
  })

  it('forgets where reads ended when the log is truncated, and reads the batches appended since', async () => {
    const fs = new MemoryFileSystem()
    const clock = new ManualClock()
    const log = await PartitionLog.open({fs, dir: '/data/t-0', config: testConfig({indexIntervalBytes: INDEX_INTERVAL}), clock})
    for (let i = 0; i < 10; i++) await log.append(await makeBatch(50, {valueSize: 200, timestamp: clock.now(), seed: i}))
    // Two reads that end at offset 150 and 300: positions are remembered for both.
    const first = await log.read(0, 3 * 12_000)
    const second = await log.read(first.nextOffset, 3 * 12_000)
    expect(second.firstOffset).toBe(first.nextOffset)
    // A follower's truncation below both, then batches of other sizes at the same offsets.
    await log.truncateTo(100)
    const replaced: Buffer[] = []
    for (let i = 0; i < 20; i++) {
      const batch = await makeBatch(7 + i, {valueSize: 33, timestamp: clock.now(), seed: 100 + i})
      await log.append(batch)
      replaced.push(batch)
    }
    for (const from of [first.nextOffset, second.nextOffset]) {
      const r = await log.read(from, 1 << 20)
      const fresh = await PartitionLog.open({fs: new MemoryFileSystem(), dir: '/data/t-1', config: testConfig({indexIntervalBytes: INDEX_INTERVAL}), clock})
      // The same log built from scratch answers the same read.
      for (let i = 0; i < 2; i++) await fresh.append(await makeBatch(50, {valueSize: 200, timestamp: clock.now(), seed: i}))
      for (const batch of replaced) await fresh.append(Buffer.from(batch))
      const expected = await fresh.read(from, 1 << 20)
      expect(r.firstOffset).toBe(expected.firstOffset)
      expect(r.nextOffset).toBe(expected.nextOffset)
      expect(r.records.equals(expected.records)).toBe(true)
      await fresh.close()
    }
    await log.close()
  })
})
