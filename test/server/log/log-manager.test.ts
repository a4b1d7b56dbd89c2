import {describe, expect, it} from 'vitest'
import {MemoryFileSystem} from '../../../src/server/log/memory-fs.js'
import {CLEAN_SHUTDOWN_FILE, LogManager} from '../../../src/server/log/log-manager.js'
import {ManualClock, makeBatch, readAll, testConfig} from './helpers.js'
import type {LogConfig} from '../../../src/server/log/log-config.js'

const DATA = '/kafka-logs'

describe('LogManager', () => {
  it('writes checkpoints and the clean-shutdown marker; a clean restart skips recovery', async () => {
    const fs = new MemoryFileSystem()
    const clock = new ManualClock()
    const config = testConfig({segmentBytes: 2000})
    let manager = await LogManager.open({fs, dataDir: DATA, clock, configFor: () => config})
    const a = await manager.getOrCreateLog('orders', 0, {topicId: 'yGYSuzrhTqKoZ8QnSlcrjw'})
    const b = await manager.getOrCreateLog('orders', 1)
    for (let i = 0; i < 20; i++) await a.append(await makeBatch(3, {valueSize: 100}))
    await b.append(await makeBatch(1))
    await a.deleteRecordsBefore(10)
    await manager.shutdown()
    expect((await fs.readFile(`${DATA}/recovery-point-offset-checkpoint`)).toString()).toBe('0\n2\norders 0 60\norders 1 1\n')
    expect((await fs.readFile(`${DATA}/log-start-offset-checkpoint`)).toString()).toBe('0\n2\norders 0 10\norders 1 0\n')
    expect(await fs.stat(`${DATA}/${CLEAN_SHUTDOWN_FILE}`)).toBeDefined()
    expect((await fs.readFile(`${DATA}/orders-0/partition.metadata`)).toString()).toBe('version: 0\ntopic_id: yGYSuzrhTqKoZ8QnSlcrjw')

    manager = await LogManager.open({fs, dataDir: DATA, clock, configFor: () => config})
    expect(manager.hadCleanShutdown).toBe(true)
    expect(await fs.stat(`${DATA}/${CLEAN_SHUTDOWN_FILE}`)).toBeUndefined() // a crash from now on is unclean
    expect(manager.recoveryReports.get('orders-0')!.recoveredSegments).toBe(0)
    const reopened = manager.getLog('orders', 0)!
    expect(reopened.logStartOffset).toBe(10)
    expect(reopened.logEndOffset).toBe(60)
    await manager.shutdown()
  })

  it('runs flush.ms, retention and checkpoints from tick() with an injected clock', async () => {
    const fs = new MemoryFileSystem()
    const clock = new ManualClock()
    const config: LogConfig = testConfig({segmentBytes: 1000, flushMs: 5000, retentionMs: 60_000, fileDeleteDelayMs: 1000})
    const manager = await LogManager.open({fs, dataDir: DATA, clock, configFor: () => config, retentionCheckIntervalMs: 10_000, checkpointIntervalMs: 10_000})
    const log = await manager.getOrCreateLog('t', 0)
    await log.append(await makeBatch(1, {valueSize: 700, timestamp: clock.now()}))
    await log.append(await makeBatch(1, {valueSize: 700, timestamp: clock.now()}))
    expect(log.recoveryPoint).toBe(1) // the roll fsynced the first segment
    clock.advance(6000)
    await manager.tick()
    expect(log.recoveryPoint).toBe(2) // flush.ms
    clock.advance(60_000)
    await log.append(await makeBatch(1, {valueSize: 700, timestamp: clock.now()}))
    await manager.tick()
    expect(log.logStartOffset).toBe(2)
    expect((await fs.readFile(`${DATA}/log-start-offset-checkpoint`)).toString()).toContain('t 0 2')
    clock.advance(2000)
    await manager.tick()
    expect((await fs.readdir(`${DATA}/t-0`)).filter((n) => n.endsWith('.deleted'))).toEqual([])
    await manager.shutdown()
  })

  it('caps open segment files across 300 partitions (LRU) and still serves them all', async () => {
    const fs = new MemoryFileSystem()
    const manager = await LogManager.open({fs, dataDir: DATA, configFor: () => testConfig(), maxOpenFiles: 50})
    for (let p = 0; p < 300; p++) {
      const log = await manager.getOrCreateLog('many', p)
      await log.append(await makeBatch(1, {seed: p}))
    }
    expect(manager.handleCache.openFiles).toBeLessThanOrEqual(50)
    expect(fs.stats.openHandles).toBeLessThanOrEqual(50)
    for (let p = 299; p >= 0; p--) {
      const log = manager.getLog('many', p)!
      expect((await readAll(log)).length).toBeGreaterThan(0)
      await log.append(await makeBatch(1, {seed: p}))
    }
    expect(fs.stats.openHandles).toBeLessThanOrEqual(50)
    await manager.shutdown()
    expect(fs.stats.openHandles).toBe(0)
  })

  it('issue 12: creates partitions with two fsyncs each and one per batch; an untouched partition costs no fsync on shutdown or restart', async () => {
    const fs = new MemoryFileSystem()
    const config = testConfig()
    const topicId = 'yGYSuzrhTqKoZ8QnSlcrjw'
    const count = 50
    let manager = await LogManager.open({fs, dataDir: DATA, configFor: () => config})
    let syncs = fs.stats.syncs
    await manager.getOrCreateLogs(Array.from({length: count}, (_, p) => ({topic: 'wide', partition: p, topicId})))
    // partition.metadata fsynced before its rename, the partition directory, then the data directory once
    expect(fs.stats.syncs - syncs).toBe(2 * count + 1)
    // A new partition is its directory and partition.metadata; the segment's files come with the first append.
    expect(await fs.readdir(`${DATA}/wide-7`)).toEqual(['partition.metadata'])
    syncs = fs.stats.syncs
    let writes = fs.stats.writes
    await manager.shutdown()
    // recovery-point-offset-checkpoint, log-start-offset-checkpoint, the marker: each fsynced with its directory
    expect(fs.stats.syncs - syncs).toBe(6)
    expect(fs.stats.writes - writes).toBe(3)
    expect(await fs.readdir(`${DATA}/wide-7`)).toEqual(['partition.metadata'])

    syncs = fs.stats.syncs
    manager = await LogManager.open({fs, dataDir: DATA, configFor: () => config})
    expect(manager.hadCleanShutdown).toBe(true)
    expect(manager.allLogs()).toHaveLength(count)
    await manager.shutdown()
    // Opening removes the marker (one directory fsync) and rewrites both checkpoints; closing writes
    // the checkpoints and the marker. Nothing per partition.
    expect(fs.stats.syncs - syncs).toBe(5 + 6)

    // The lazily created segment works as any other: written, closed, reopened, recovered after a crash.
    manager = await LogManager.open({fs, dataDir: DATA, configFor: () => config})
    const log = manager.getLog('wide', 7)!
    const batch = await makeBatch(3)
    await log.append(batch) // patched in place: offsets, leader epoch
    await manager.shutdown()
    expect(await fs.readdir(`${DATA}/wide-7`)).toEqual([
      '00000000000000000000.index',
      '00000000000000000000.log',
      '00000000000000000000.timeindex',
      '00000000000000000003.snapshot',
      'leader-epoch-checkpoint',
      'partition.metadata',
    ])
    manager = await LogManager.open({fs, dataDir: DATA, configFor: () => config})
    expect((await readAll(manager.getLog('wide', 7)!)).equals(batch)).toBe(true)
    syncs = fs.stats.syncs
    writes = fs.stats.writes
    await manager.shutdown()
    // Unchanged since it was opened: no index, snapshot or directory fsync for it either.
    expect(fs.stats.syncs - syncs).toBe(6)
    expect(fs.stats.writes - writes).toBe(3)
  })

  it('issue 12: a power loss right after creating partitions keeps every partition.metadata whole', async () => {
    const fs = new MemoryFileSystem()
    const manager = await LogManager.open({fs, dataDir: DATA, configFor: () => testConfig()})
    await manager.getOrCreateLogs(Array.from({length: 20}, (_, p) => ({topic: 'fresh', partition: p, topicId: 'yGYSuzrhTqKoZ8QnSlcrjw'})))
    fs.crash()
    const again = await LogManager.open({fs, dataDir: DATA, configFor: () => testConfig()})
    expect(again.allLogs()).toHaveLength(20)
    for (let p = 0; p < 20; p++) {
      expect((await fs.readFile(`${DATA}/fresh-${p}/partition.metadata`)).toString()).toBe('version: 0\ntopic_id: yGYSuzrhTqKoZ8QnSlcrjw')
      const log = again.getLog('fresh', p)!
      expect(log.logEndOffset).toBe(0)
      await log.append(await makeBatch(1, {seed: p}))
    }
    await again.shutdown()
  })

  it('recovers after a crash from the checkpointed recovery points', async () => {
    const fs = new MemoryFileSystem()
    const config = testConfig({segmentBytes: 1500, flushMessages: 1})
    const manager = await LogManager.open({fs, dataDir: DATA, configFor: () => config})
    const log = await manager.getOrCreateLog('c', 0)
    for (let i = 0; i < 30; i++) await log.append(await makeBatch(2, {valueSize: 100}))
    await manager.checkpoint()
    for (let i = 0; i < 5; i++) await log.append(await makeBatch(2, {valueSize: 100}))
    fs.crash()
    const again = await LogManager.open({fs, dataDir: DATA, configFor: () => config})
    expect(again.hadCleanShutdown).toBe(false)
    expect(again.getLog('c', 0)!.logEndOffset).toBe(70) // flush.messages=1: every append was fsynced
    const report = again.recoveryReports.get('c-0')!
    expect(report.recoveredSegments).toBeLessThan(log.numberOfSegments) // only from the recovery point on
    await again.shutdown()
  })
})
