import {rm} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ControlRecordType, buildRecordBatch, endTransactionMarkerRecord} from '../../../src/lib/records/record.js'
import {NodeFileSystem} from '../../../src/server/log/fs.js'
import {MemoryFileSystem} from '../../../src/server/log/memory-fs.js'
import {PartitionLog} from '../../../src/server/log/partition-log.js'
import {ABORTED_TXN_ENTRY_SIZE, controlRecordType, decodeAbortedTxns, encodeAbortedTxn} from '../../../src/server/log/transaction-index.js'
import {ManualClock, makeBatch, makeTempDir, testConfig} from './helpers.js'

const DIR = '/data/topic-0'

function open(fs: MemoryFileSystem, clock: ManualClock, extra: {hadCleanShutdown?: boolean; recoveryPoint?: number} = {}, segmentBytes = 1 << 20): Promise<PartitionLog> {
  return PartitionLog.open({fs, dir: DIR, config: testConfig({segmentBytes}), clock, ...extra})
}

let sequences = new Map<number, number>()

async function txnBatch(producerId: number, count: number, clock: ManualClock): Promise<Buffer> {
  const seq = sequences.get(producerId) ?? 0
  sequences.set(producerId, seq + count)
  return makeBatch(count, {timestamp: clock.now(), producerId, producerEpoch: 0, baseSequence: seq, isTransactional: true})
}

function marker(producerId: number, type: ControlRecordType.Abort | ControlRecordType.Commit, clock: ManualClock, epoch = 0, coordinatorEpoch = 7): Promise<Buffer> {
  return buildRecordBatch({
    records: [endTransactionMarkerRecord({type, coordinatorEpoch}, clock.now())],
    producerId,
    producerEpoch: epoch,
    isTransactional: true,
    isControl: true,
  })
}

describe('TransactionIndex format', () => {
  it('writes Kafka\'s 34-byte AbortedTxn entries: version int16 0, producerId, firstOffset, lastOffset, lastStableOffset', () => {
    const bytes = encodeAbortedTxn({producerId: 0x0102030405, firstOffset: 7, lastOffset: 12, lastStableOffset: 13})
    expect(bytes.length).toBe(ABORTED_TXN_ENTRY_SIZE)
    expect(bytes.toString('hex')).toBe(
      '0000' + '0000000102030405' + '0000000000000007' + '000000000000000c' + '000000000000000d',
    )
    expect(decodeAbortedTxns(Buffer.concat([bytes, bytes.subarray(0, 10)]))).toEqual([{producerId: 0x0102030405, firstOffset: 7, lastOffset: 12, lastStableOffset: 13}])
  })

  it('reads the control type from a marker batch without decoding it', async () => {
    const clock = new ManualClock()
    expect(controlRecordType(await marker(1, ControlRecordType.Abort, clock))).toBe(ControlRecordType.Abort)
    expect(controlRecordType(await marker(1, ControlRecordType.Commit, clock))).toBe(ControlRecordType.Commit)
  })
})

describe('PartitionLog transactions: LSO and aborted transactions', () => {
  it('tracks the LSO, indexes aborted transactions in .txnindex, and keeps both through clean and crash restarts', async () => {
    sequences = new Map()
    const fs = new MemoryFileSystem()
    const clock = new ManualClock()
    const log = await open(fs, clock)
    await log.append(await makeBatch(2, {timestamp: clock.now()})) // 0-1 plain
    expect(log.lastStableOffset()).toBe(2)
    await log.append(await txnBatch(100, 3, clock)) // 2-4 txn A (pid 100)
    await log.append(await txnBatch(200, 2, clock)) // 5-6 txn B (pid 200)
    expect(log.firstUnstableOffset).toBe(2)
    expect(log.lastStableOffset()).toBe(2)
    expect(log.lastStableOffset(1)).toBe(1) // capped by the high watermark
    await log.append(await marker(100, ControlRecordType.Abort, clock), {origin: 'coordinator'}) // 7 abort A
    expect(log.lastStableOffset()).toBe(5)
    await log.append(await txnBatch(100, 1, clock)) // 8 txn A2
    await log.append(await marker(200, ControlRecordType.Commit, clock), {origin: 'coordinator'}) // 9 commit B
    expect(log.lastStableOffset()).toBe(8)
    await log.append(await marker(100, ControlRecordType.Abort, clock), {origin: 'coordinator'}) // 10 abort A2
    expect(log.lastStableOffset()).toBe(11)
    expect(log.firstUnstableOffset).toBeUndefined()
    await log.append(await txnBatch(300, 2, clock)) // 11-12 open txn C
    expect(log.lastStableOffset()).toBe(11)

    const expected = [
      {producerId: 100, firstOffset: 2, lastOffset: 7, lastStableOffset: 5},
      {producerId: 100, firstOffset: 8, lastOffset: 10, lastStableOffset: 11},
    ]
    expect(await log.collectAbortedTransactions(0, 11)).toEqual(expected)
    expect(await log.collectAbortedTransactions(8, 11)).toEqual([expected[1]])
    expect(await log.collectAbortedTransactions(0, 2)).toEqual([])
    const file = await fs.readFile('/data/topic-0/00000000000000000000.txnindex')
    expect(decodeAbortedTxns(file)).toEqual(expected)

    // Clean restart: the .txnindex is trusted, the open transaction comes back from the snapshot.
    await log.close()
    const reopened = await open(fs, clock, {hadCleanShutdown: true})
    expect(reopened.lastStableOffset()).toBe(11)
    expect(await reopened.collectAbortedTransactions(0, 13)).toEqual(expected)

    // Crash: recovery rebuilds the index from the markers (the file is deleted to prove it).
    await reopened.closeHandlesUnclean()
    await fs.unlink('/data/topic-0/00000000000000000000.txnindex')
    const recovered = await open(fs, clock, {hadCleanShutdown: false, recoveryPoint: 0})
    expect(recovered.recoveryReport.recoveredSegments).toBe(1)
    expect(recovered.lastStableOffset()).toBe(11)
    expect(await recovered.collectAbortedTransactions(0, 13)).toEqual(expected)
    expect(decodeAbortedTxns(await fs.readFile('/data/topic-0/00000000000000000000.txnindex'))).toEqual(expected)

    // Abort C; then truncation below the second abort drops its entry and reopens A2.
    await recovered.append(await marker(300, ControlRecordType.Abort, clock), {origin: 'coordinator'})
    expect(recovered.lastStableOffset()).toBe(14)
    await recovered.truncateTo(10)
    expect(await recovered.collectAbortedTransactions(0, 20)).toEqual([expected[0]])
    expect(recovered.lastStableOffset()).toBe(8)
    await recovered.close()
  })

  it('keeps each aborted transaction in the segment of its marker, across rolls and retention of older segments', async () => {
    sequences = new Map()
    const fs = new MemoryFileSystem()
    const clock = new ManualClock()
    const log = await open(fs, clock, {}, 600)
    await log.append(await txnBatch(1, 3, clock)) // 0-2
    for (let i = 0; i < 4; i++) await log.append(await makeBatch(3, {timestamp: clock.now(), seed: i}))
    await log.append(await marker(1, ControlRecordType.Abort, clock), {origin: 'coordinator'})
    expect(log.numberOfSegments).toBeGreaterThan(1)
    const markerOffset = log.logEndOffset - 1
    const markerSegment = log.segmentBaseOffsets().filter((b) => b <= markerOffset).pop()!
    const name = `/data/topic-0/${String(markerSegment).padStart(20, '0')}.txnindex`
    expect(decodeAbortedTxns(await fs.readFile(name))).toEqual([{producerId: 1, firstOffset: 0, lastOffset: markerOffset, lastStableOffset: markerOffset + 1}])
    // A fetch from the middle of the log still learns of the transaction that began before it.
    expect(await log.collectAbortedTransactions(markerSegment, log.logEndOffset)).toHaveLength(1)
    await log.close()
    const crashed = await open(fs, clock, {hadCleanShutdown: false, recoveryPoint: 0}, 600)
    expect(await crashed.collectAbortedTransactions(0, crashed.logEndOffset)).toHaveLength(1)
    await crashed.close()
  })
})

describe('PartitionLog transactions: a fenced producer\'s coordinator writes', () => {
  it('refuses transactional offsets written for an older producer epoch (INVALID_PRODUCER_EPOCH), as Kafka\'s ProducerAppendInfo does for AppendOrigin.COORDINATOR', async () => {
    const clock = new ManualClock()
    const log = await open(new MemoryFileSystem(), clock)
    const offsets = (epoch: number) => makeBatch(1, {timestamp: clock.now(), producerId: 500, producerEpoch: epoch, baseSequence: -1, isTransactional: true})
    await log.append(await offsets(1), {origin: 'coordinator'}) // the producer at epoch 1
    await log.append(await marker(500, ControlRecordType.Abort, clock, 2), {origin: 'coordinator'}) // fenced: its successor's InitProducerId bumped the epoch to 2
    const before = log.logEndOffset
    await expect(log.append(await offsets(1), {origin: 'coordinator'})).rejects.toMatchObject({code: 'INVALID_PRODUCER_EPOCH'})
    expect(log.logEndOffset).toBe(before)
    expect(log.firstUnstableOffset).toBeUndefined()
    await log.append(await offsets(2), {origin: 'coordinator'}) // the successor's offsets
    expect(log.logEndOffset).toBe(before + 1)
  })
})

describe('PartitionLog transactions: a fenced coordinator\'s markers', () => {
  it('refuses a marker from an older coordinator epoch than the last marker of the producer (TRANSACTION_COORDINATOR_FENCED), also after a restart', async () => {
    sequences = new Map()
    const fs = new MemoryFileSystem()
    const clock = new ManualClock()
    let log = await open(fs, clock)
    await log.append(await txnBatch(600, 1, clock)) // 0: first transaction
    await log.append(await marker(600, ControlRecordType.Commit, clock, 0, 8), {origin: 'coordinator'}) // 1: committed by coordinator epoch 8
    await log.append(await txnBatch(600, 1, clock)) // 2: the next transaction, open
    // The coordinator of epoch 7 was paused before it could send its marker; it wakes up now.
    await expect(log.append(await marker(600, ControlRecordType.Commit, clock, 0, 7), {origin: 'coordinator'})).rejects.toMatchObject({code: 'TRANSACTION_COORDINATOR_FENCED'})
    expect(log.firstUnstableOffset).toBe(2)
    await log.close()
    log = await open(fs, clock, {hadCleanShutdown: true})
    await expect(log.append(await marker(600, ControlRecordType.Abort, clock, 0, 7), {origin: 'coordinator'})).rejects.toMatchObject({code: 'TRANSACTION_COORDINATOR_FENCED'})
    expect(log.firstUnstableOffset).toBe(2)
    await log.append(await marker(600, ControlRecordType.Abort, clock, 0, 8), {origin: 'coordinator'}) // 3: the current coordinator
    expect(log.firstUnstableOffset).toBeUndefined()
    expect(await log.collectAbortedTransactions(0, 4)).toEqual([{producerId: 600, firstOffset: 2, lastOffset: 3, lastStableOffset: 4}])
    await log.close()
  })
})

describe('PartitionLog transactions under concurrency (issue 12)', () => {
  it('a reader running while aborts are appended never sees an aborted batch below the LSO without its aborted transaction', async () => {
    sequences = new Map()
    // The real file system: its I/O gives the reader turns in the middle of an append.
    const dir = await makeTempDir()
    const clock = new ManualClock()
    const log = await PartitionLog.open({fs: new NodeFileSystem(), dir: join(dir, 'topic-0'), config: testConfig({segmentBytes: 4096}), clock})
    let writing = true
    let checks = 0
    const violations: string[] = []
    const reader = (async () => {
      // Bounded: the writer below appends 120 batches; the reader stops with it.
      for (let i = 0; i < 1_000_000 && writing; i++) {
        const lastStableOffset = log.lastStableOffset()
        const read = await log.read(0, 1 << 20, {maxOffset: lastStableOffset})
        const aborted = await log.collectAbortedTransactions(0, read.nextOffset)
        for (let position = 0; position < read.records.length; ) {
          const batch = read.records.subarray(position)
          const baseOffset = Number(batch.readBigInt64BE(0))
          const size = batch.readInt32BE(8) + 12
          const isControl = (batch.readInt16BE(21) & 0x20) !== 0
          if (!isControl && !aborted.some((t) => t.firstOffset <= baseOffset && baseOffset <= t.lastOffset)) {
            violations.push(`batch at ${baseOffset} below LSO ${lastStableOffset} with no aborted transaction`)
          }
          position += size
        }
        checks++
        await new Promise((resolve) => setImmediate(resolve))
      }
    })()
    for (let round = 0; round < 60; round++) {
      await log.append(await txnBatch(100, 3, clock))
      await log.append(await marker(100, ControlRecordType.Abort, clock), {origin: 'coordinator'})
    }
    writing = false
    await reader
    expect(checks).toBeGreaterThan(60)
    expect(violations).toEqual([])
    expect(log.numberOfSegments).toBeGreaterThan(1)
    await log.close()
    await rm(dir, {recursive: true, force: true})
  })
})
