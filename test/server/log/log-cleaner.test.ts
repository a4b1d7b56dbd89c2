import {describe, expect, it} from 'vitest'
import {CompressionType} from '../../../src/lib/records/batch.js'
import {buildRecordBatch, ControlRecordType, decodeRecordBatches, endTransactionMarkerRecord} from '../../../src/lib/records/record.js'
import {MemoryFileSystem} from '../../../src/server/log/memory-fs.js'
import {LogCleaner} from '../../../src/server/log/log-cleaner.js'
import {PartitionLog} from '../../../src/server/log/partition-log.js'
import {ManualClock, readAll, testConfig} from './helpers.js'

const DIR = '/data/compacted-0'

async function keyedBatch(entries: [string, string | null][], timestamp: number, compression = CompressionType.None): Promise<Buffer> {
  return buildRecordBatch({
    compression,
    records: entries.map(([k, v]) => ({key: Buffer.from(k), value: v === null ? null : Buffer.from(v), timestamp})),
  })
}

async function contents(log: PartitionLog): Promise<{offset: number; key: string; value: string | null}[]> {
  const batches = await decodeRecordBatches(await readAll(log, log.logStartOffset))
  return batches.flatMap((b) => b.records.map((r) => ({offset: r.offset, key: r.key!.toString(), value: r.value?.toString() ?? null})))
}

describe('LogCleaner', () => {
  it('keeps the latest record per key with offsets unchanged, handles compressed batches, drops old tombstones', async () => {
    const fs = new MemoryFileSystem()
    const clock = new ManualClock()
    const config = testConfig({cleanupPolicy: 'compact', segmentBytes: 400, deleteRetentionMs: 10_000, retentionMs: -1})
    const log = await PartitionLog.open({fs, dir: DIR, config, clock})
    const codecs = [CompressionType.None, CompressionType.Gzip, CompressionType.Zstd, CompressionType.Lz4, CompressionType.Snappy]
    for (let round = 0; round < 6; round++) {
      await log.append(await keyedBatch([['a', `a${round}`], ['b', `b${round}`], ['c', round === 5 ? null : `c${round}`]], clock.now(), codecs[round % 5]))
    }
    await log.append(await keyedBatch([['d', 'd0']], clock.now()))
    await log.roll() // the active segment is never cleaned
    const before = log.logEndOffset
    const cleaner = new LogCleaner({fs, clock})
    const {ratio} = await cleaner.dirtyRatio(log)
    expect(ratio).toBe(1)
    const result = await cleaner.cleanOnce([log])
    expect(result).toBeDefined()
    expect(result!.recordsRetained).toBeLessThan(result!.recordsRead)
    expect(log.logEndOffset).toBe(before)
    const after = await contents(log)
    expect(after).toEqual([
      {offset: 15, key: 'a', value: 'a5'},
      {offset: 16, key: 'b', value: 'b5'},
      {offset: 17, key: 'c', value: null},
      {offset: 18, key: 'd', value: 'd0'},
    ])
    expect((await cleaner.dirtyRatio(log)).ratio).toBe(0)
    expect(await cleaner.cleanOnce([log])).toBeUndefined() // nothing dirty

    // After delete.retention.ms the tombstone goes on the next clean.
    clock.advance(20_000)
    await log.append(await keyedBatch([['e', 'e0']], clock.now()))
    await log.roll()
    await cleaner.clean(log)
    expect((await contents(log)).map((r) => r.key)).toEqual(['a', 'b', 'd', 'e'])

    // The swapped directory reopens to the same contents, with no leftovers.
    await log.close()
    const names = await fs.readdir(DIR)
    expect(names.filter((n) => /\.(cleaned|swap)$/.test(n))).toEqual([])
    const reopened = await PartitionLog.open({fs, dir: DIR, config, clock})
    expect((await contents(reopened)).map((r) => r.key)).toEqual(['a', 'b', 'd', 'e'])
  })

  it('transactions: aborted records never shadow committed ones and are dropped; nothing from an open transaction on is cleaned', async () => {
    const fs = new MemoryFileSystem()
    const clock = new ManualClock()
    const config = testConfig({cleanupPolicy: 'compact', retentionMs: -1})
    const log = await PartitionLog.open({fs, dir: DIR, config, clock})
    const sequences = new Map<number, number>()
    const txn = (producerId: number, entries: [string, string][]) => {
      const baseSequence = sequences.get(producerId) ?? 0
      sequences.set(producerId, baseSequence + entries.length)
      return buildRecordBatch({baseSequence, isTransactional: true, producerEpoch: 0, producerId, records: entries.map(([k, v]) => ({key: Buffer.from(k), timestamp: clock.now(), value: Buffer.from(v)}))})
    }
    const marker = async (producerId: number, type: ControlRecordType.Abort | ControlRecordType.Commit) =>
      log.append(await buildRecordBatch({isControl: true, isTransactional: true, producerEpoch: 0, producerId, records: [endTransactionMarkerRecord({coordinatorEpoch: 0, type}, clock.now())]}), {origin: 'coordinator'})

    await log.append(await txn(100, [['k', 'committed'], ['a', 'a-committed']])) // 0-1
    await marker(100, ControlRecordType.Commit) // 2
    await log.roll()
    await log.append(await txn(200, [['k', 'aborted'], ['x', 'x-aborted']])) // 3-4
    await log.append(await keyedBatch([['a', 'a-plain']], clock.now())) // 5
    await marker(200, ControlRecordType.Abort) // 6
    await log.roll()
    await log.append(await txn(300, [['k', 'open']])) // 7: open transaction
    await log.roll()
    await log.append(await keyedBatch([['z', 'z1']], clock.now())) // 8
    await log.roll()

    const cleaner = new LogCleaner({fs, clock})
    const result = await cleaner.clean(log)
    expect(result!.endOffset).toBe(7) // up to the segment holding the open transaction
    const all = await decodeRecordBatches(await readAll(log, log.logStartOffset))
    const records = all.flatMap((b) => (b.header.isControl ? [] : b.records.map((r) => `${r.offset}:${r.key!.toString()}=${r.value!.toString()}`)))
    expect(records).toEqual(['0:k=committed', '5:a=a-plain', '7:k=open', '8:z=z1'])
    // The markers stay.
    expect(all.filter((b) => b.header.isControl).map((b) => b.header.baseOffset)).toEqual([2, 6])
  })

  it('respects min.cleanable.dirty.ratio', async () => {
    const fs = new MemoryFileSystem()
    const clock = new ManualClock()
    const config = testConfig({cleanupPolicy: 'compact,delete', segmentBytes: 300, minCleanableDirtyRatio: 0.9, retentionMs: -1})
    const log = await PartitionLog.open({fs, dir: DIR, config, clock})
    for (let i = 0; i < 10; i++) await log.append(await keyedBatch([[`k${i % 3}`, `v${i}`]], clock.now()))
    const cleaner = new LogCleaner({fs, clock})
    await cleaner.clean(log)
    for (let i = 0; i < 3; i++) await log.append(await keyedBatch([[`k${i}`, `w${i}`]], clock.now()))
    expect((await cleaner.dirtyRatio(log)).ratio).toBeLessThan(0.9)
    expect(await cleaner.cleanOnce([log])).toBeUndefined()
  })

  it('completes an interrupted swap on load', async () => {
    const fs = new MemoryFileSystem()
    const clock = new ManualClock()
    const config = testConfig({cleanupPolicy: 'compact', segmentBytes: 300, retentionMs: -1})
    const log = await PartitionLog.open({fs, dir: DIR, config, clock})
    for (let i = 0; i < 8; i++) await log.append(await keyedBatch([['same', `v${i}`]], clock.now()))
    const cleaner = new LogCleaner({fs, clock})
    // Interrupt the swap after the .swap rename and the first old segment's rename.
    const original = log.replaceSegments.bind(log)
    log.replaceSegments = async (old, replacement) => {
      await replacement.changeFileSuffix('.swap')
      await old[0]!.changeFileSuffix('.deleted')
      throw new Error('simulated crash')
    }
    await expect(cleaner.clean(log)).rejects.toThrow('simulated crash')
    log.replaceSegments = original
    await log.closeHandlesUnclean()
    const reopened = await PartitionLog.open({fs, dir: DIR, config, clock})
    const records = await contents(reopened)
    expect(records.at(-1)).toEqual({offset: 7, key: 'same', value: 'v7'})
    expect(records.length).toBeLessThan(8)
    expect(reopened.logEndOffset).toBe(8)
  })
})
