import {copyFileSync, existsSync, readdirSync, readFileSync, truncateSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import LogDump, {type LogDumpResult} from '../../../src/commands/log/dump.js'
import Produce from '../../../src/commands/produce/index.js'
import TopicsCreate from '../../../src/commands/topics/create.js'
import {json, kcli, removeDir, startBroker, tempDir, type TestBroker} from '../helpers.js'
import {GOLDEN_SEGMENTS_DIR} from '../../lib/records/golden.js'

const golden = GOLDEN_SEGMENTS_DIR
const hasGolden = existsSync(golden)

let broker: TestBroker
let dir: string
beforeAll(async () => {
  broker = await startBroker()
  dir = tempDir('kcli-dump-')
})
afterAll(async () => {
  await broker?.stop()
  if (dir) removeDir(dir)
})

describe('kcli log dump', () => {
  it('decodes a segment written by the broker: batches, records, payloads, and its indexes', async () => {
    await kcli(TopicsCreate, broker.bootstrap, ['dumped'])
    await kcli(Produce, broker.bootstrap, ['-t', 'dumped', '-K', ':', '-H', 'h=1'], {stdin: 'k1:hello\nk2:world\n'})
    const partitionDir = join(broker.dataDir, readdirSync(broker.dataDir).find((d) => d.startsWith('dumped-'))!)
    const log = join(partitionDir, '00000000000000000000.log')
    const run = await kcli(LogDump, '127.0.0.1:1', [log, '--records', '--print-data'])
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    const lines = run.stdout.trimEnd().split('\n')
    expect(lines[0]).toBe(`Dumping ${log}`)
    expect(lines[1]).toBe('Log starting offset: 0')
    expect(lines[2]).toMatch(/^baseOffset: 0 lastOffset: 1 count: 2 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 partitionLeaderEpoch: 0 isTransactional: false isControl: false position: 0 CreateTime: \d+ size: \d+ magic: 2 compresscodec: none crc: \d+ isvalid: true$/)
    expect(lines[3]).toMatch(/^\| offset: 0 CreateTime: \d+ keySize: 2 valueSize: 5 sequence: -1 headerKeys: \[h\] key: k1 payload: hello$/)
    expect(lines[4]).toMatch(/^\| offset: 1 .* key: k2 payload: world$/)

    const parsed = json<LogDumpResult>(await kcli(LogDump, '127.0.0.1:1', [log, '--records', '--print-data', '--json']))
    expect(parsed.files[0]!.batches![0]!.records!.map((r) => [r.key, r.value])).toEqual([['k1', 'hello'], ['k2', 'world']])
  })

  it('reports a torn tail with its position and exit 1', async () => {
    await kcli(TopicsCreate, broker.bootstrap, ['torn'])
    await kcli(Produce, broker.bootstrap, ['-t', 'torn', '--linger-ms', '0', '--acks', '1'], {stdin: 'a\n'})
    await kcli(Produce, broker.bootstrap, ['-t', 'torn'], {stdin: 'b\n'})
    const partitionDir = join(broker.dataDir, readdirSync(broker.dataDir).find((d) => d.startsWith('torn-'))!)
    const copy = join(dir, '00000000000000000000.log')
    copyFileSync(join(partitionDir, '00000000000000000000.log'), copy)
    const whole = json<LogDumpResult>(await kcli(LogDump, '127.0.0.1:1', [copy, '--json']))
    const second = whole.files[0]!.batches![1]!
    truncateSync(copy, second.position + 20)
    const run = await kcli<LogDumpResult>(LogDump, '127.0.0.1:1', [copy])
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain(`Found batch of ${second.size} bytes runs past the end of the file (20 left): a torn write at byte position ${second.position}`)
    expect(run.stderr).toMatch(/^Error: 1 of 1 files are damaged/)
  })

  it.skipIf(!hasGolden)('decodes Kafka 4.0\'s golden segment files and their indexes', async () => {
    const files = ['00000000000000016389.log', '00000000000000016389.index', '00000000000000016389.timeindex'].map((f) => join(golden, f))
    const run = await kcli<LogDumpResult>(LogDump, '127.0.0.1:1', [...files, '--json'])
    expect(run.exitCode).toBe(0)
    const [log, index, timeindex] = json<LogDumpResult>(run).files
    expect(log!.batches![0]).toMatchObject({baseOffset: 16_389, isValid: true, producerEpoch: 0})
    expect(log!.batches!.every((b) => b.isValid)).toBe(true)
    const positions = new Set(log!.batches!.map((b) => b.position))
    // Every offset index entry points at the start of a batch that holds an offset >= the entry's.
    expect(index!.entries!.length).toBeGreaterThan(0)
    for (const e of index!.entries!) expect(positions.has(e.position!)).toBe(true)
    for (const e of timeindex!.entries!) expect(e.offset).toBeGreaterThanOrEqual(16_389)
    const human = await kcli(LogDump, '127.0.0.1:1', [files[1]!])
    expect(human.stdout.split('\n')[1]).toMatch(/^offset: \d+ position: \d+$/)
  })

  it.skipIf(!hasGolden)("decodes Kafka 4.0's producer snapshots; a corrupt one fails its CRC (exit 1)", async () => {
    const snapshot = join(golden, '00000000000000018003.snapshot')
    const run = await kcli<LogDumpResult>(LogDump, '127.0.0.1:1', [snapshot, '--json'])
    expect(run.exitCode).toBe(0)
    const [file] = json<LogDumpResult>(run).files
    expect(file!.type).toBe('snapshot')
    expect(file!.producers!.length).toBeGreaterThan(0)
    for (const p of file!.producers!) {
      expect(p.producerId).toBeGreaterThanOrEqual(0)
      expect(p.lastOffset).toBeLessThan(18_003)
      expect(p.lastSequence - p.firstSequence).toBe(p.offsetDelta)
    }
    const human = await kcli(LogDump, '127.0.0.1:1', [snapshot])
    expect(human.stdout.split('\n')[1]).toMatch(/^producerId: \d+ producerEpoch: \d+ coordinatorEpoch: -?\d+ currentTxnFirstOffset: -1 lastTimestamp: \d+ firstSequence: \d+ lastSequence: \d+ lastOffset: \d+ offsetDelta: \d+$/)

    const copy = join(dir, '00000000000000018003.snapshot')
    copyFileSync(snapshot, copy)
    const bytes = readFileSync(copy)
    bytes[bytes.length - 1] ^= 0xff
    writeFileSync(copy, bytes)
    const corrupt = await kcli(LogDump, '127.0.0.1:1', [copy])
    expect(corrupt.exitCode).toBe(1)
    expect(corrupt.stdout).toContain('Found Snapshot CRC mismatch at byte position 0')
  })

  it('decodes a .txnindex: the aborted transaction of kcli produce --transactional-id on bad input', async () => {
    await kcli(TopicsCreate, broker.bootstrap, ['aborted'])
    const run = await kcli(Produce, broker.bootstrap, ['-t', 'aborted', '--transactional-id', 'dump-tx', '--value-encoding', 'json'], {stdin: '"ok"\n{bad\n'})
    expect(run.exitCode).toBe(1)
    const partitionDir = join(broker.dataDir, readdirSync(broker.dataDir).find((d) => d.startsWith('aborted-'))!)
    const txnindex = join(partitionDir, '00000000000000000000.txnindex')
    const dumped = await kcli<LogDumpResult>(LogDump, '127.0.0.1:1', [txnindex, '--json'])
    expect(dumped.exitCode).toBe(0)
    // The "ok" record at offset 0, its ABORT marker at 1.
    expect(json<LogDumpResult>(dumped).files[0]!.abortedTransactions).toEqual([{firstOffset: 0, lastOffset: 1, lastStableOffset: 2, producerId: expect.any(Number)}])
    const human = await kcli(LogDump, '127.0.0.1:1', [txnindex])
    expect(human.stdout.split('\n')[1]).toMatch(/^version: 0 producerId: \d+ firstOffset: 0 lastOffset: 1 lastStableOffset: 2$/)
  })

  it('rejects other files (exit 2) and missing ones (exit 1)', async () => {
    expect((await kcli(LogDump, '127.0.0.1:1', ['notes.txt'])).exitCode).toBe(2)
    const missing = await kcli(LogDump, '127.0.0.1:1', [join(dir, '00000000000000000099.log')])
    expect(missing.exitCode).toBe(1)
    expect(missing.stderr).toMatch(/no such file/)
  })
})
