import {describe, expect, it} from 'vitest'
import {ControlRecordType, buildRecordBatch, endTransactionMarkerRecord} from '../../../src/lib/records/record.js'
import {MemoryFileSystem} from '../../../src/server/log/memory-fs.js'
import {PartitionLog} from '../../../src/server/log/partition-log.js'
import {ABORTED_TXN_ENTRY_SIZE, controlRecordType, decodeAbortedTxns, encodeAbortedTxn} from '../../../src/server/log/transaction-index.js'
import {ManualClock, makeBatch, testConfig} from './helpers.js'

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

function marker(producerId: number, type: ControlRecordType.Abort | ControlRecordType.Commit, clock: ManualClock, epoch = 0): Promise<Buffer> {
  return buildRecordBatch({
    records: [endTransactionMarkerRecord({type, coordinatorEpoch: 7}, clock.now())],
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
