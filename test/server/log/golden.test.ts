/**
 * Kafka 4.0's golden partition directory (../shared/kafka-reference/segments/golden-segments-0):
 * every batch reads back byte-identical, indexes rebuilt by recovery match
 * Kafka's files, and appending keeps Kafka's layout.
 */

import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {iterateBatches} from '../../../src/lib/records/batch.js'
import {decodeRecordBatches} from '../../../src/lib/records/record.js'
import {NodeFileSystem} from '../../../src/server/log/fs.js'
import {PartitionLog} from '../../../src/server/log/partition-log.js'
import {decodeSnapshot} from '../../../src/server/log/producer-state.js'
import {makeBatch, makeTempDir, testConfig} from './helpers.js'
import {GOLDEN_SEGMENTS_DIR} from '../../lib/records/golden.js'

const GOLDEN = GOLDEN_SEGMENTS_DIR
const haveGolden = await fsp.stat(GOLDEN).then(() => true, () => false)

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fsp.rm(dir, {recursive: true, force: true})
})

async function copyGolden(): Promise<string> {
  const root = await makeTempDir()
  dirs.push(root)
  const dir = path.join(root, 'golden-0')
  await fsp.cp(GOLDEN, dir, {recursive: true})
  for (const name of await fsp.readdir(dir)) await fsp.chmod(path.join(dir, name), 0o644)
  return dir
}

async function goldenLogBytes(): Promise<Buffer> {
  const names = (await fsp.readdir(GOLDEN)).filter((n) => n.endsWith('.log')).sort()
  return Buffer.concat(await Promise.all(names.map((n) => fsp.readFile(path.join(GOLDEN, n)))))
}

async function readAll(log: PartitionLog, from: number, maxBytes: number): Promise<Buffer> {
  const parts: Buffer[] = []
  let offset = from
  while (offset < log.logEndOffset) {
    const result = await log.read(offset, maxBytes)
    expect(result.records.length).toBeGreaterThan(0)
    parts.push(result.records)
    offset = result.nextOffset
  }
  return Buffer.concat(parts)
}

describe.skipIf(!haveGolden)('golden Kafka 4.0 partition', () => {
  it('recovers and reads all 18,003 records byte-identical, with Kafka-identical indexes', async () => {
    const dir = await copyGolden()
    const fs = new NodeFileSystem()
    const log = await PartitionLog.open({fs, dir, config: testConfig({retentionMs: -1})})
    expect(log.recoveryReport.truncatedBytes).toBe(0)
    expect(log.recoveryReport.recoveredSegments).toBe(3)
    expect(log.logStartOffset).toBe(0)
    expect(log.logEndOffset).toBe(18003)
    expect(log.segmentBaseOffsets()).toEqual([0, 8190, 16389])

    const golden = await goldenLogBytes()
    for (const maxBytes of [1, 10_000, 1 << 20]) {
      expect((await readAll(log, 0, maxBytes)).equals(golden)).toBe(true)
    }
    let records = 0
    for (const {header} of iterateBatches(golden)) records += header.recordCount
    expect(records).toBe(18003)
    const decoded = await decodeRecordBatches(golden)
    expect(decoded.reduce((n, b) => n + b.records.length, 0)).toBe(18003)
    expect(decoded.length).toBe(144) // all uncompressed in this capture; codecs are covered in partition-log.test.ts

    // Reading from the middle of a batch returns that batch.
    for (const {header, position} of [...iterateBatches(golden)].filter((_, i) => i % 97 === 5)) {
      if (header.lastOffsetDelta === 0) continue
      const mid = header.baseOffset + Math.floor(header.lastOffsetDelta / 2) + 1
      const result = await log.read(mid, 1)
      expect(result.firstOffset).toBe(header.baseOffset)
      expect(result.records.equals(golden.subarray(position, position + header.sizeInBytes))).toBe(true)
    }
    await log.close()

    // Recovery rebuilt the indexes of the inactive segments exactly as Kafka wrote them.
    for (const base of ['00000000000000000000', '00000000000000008190']) {
      for (const ext of ['.index', '.timeindex']) {
        const ours = await fsp.readFile(path.join(dir, base + ext))
        const kafka = await fsp.readFile(path.join(GOLDEN, base + ext))
        expect(ours.equals(kafka), base + ext).toBe(true)
      }
    }
    // The clean-shutdown snapshot at the log end matches Kafka's producer state.
    const ours = decodeSnapshot(await fsp.readFile(path.join(dir, '00000000000000018003.snapshot')))
    const kafka = decodeSnapshot(await fsp.readFile(path.join(GOLDEN, '00000000000000018003.snapshot')))
    expect(ours).toEqual(kafka)
  })

  it('opens cleanly, appends, and keeps Kafka layout', async () => {
    const dir = await copyGolden()
    const fs = new NodeFileSystem()
    let log = await PartitionLog.open({fs, dir, config: testConfig({retentionMs: -1})})
    await log.close()
    log = await PartitionLog.open({fs, dir, config: testConfig({retentionMs: -1, segmentBytes: 300_000}), hadCleanShutdown: true, recoveryPoint: 18003})
    expect(log.recoveryReport.recoveredSegments).toBe(0)
    expect(log.logEndOffset).toBe(18003)
    const appended: Buffer[] = []
    for (let i = 0; i < 40; i++) {
      const batch = await makeBatch(50, {valueSize: 200, seed: i})
      const result = await log.append(batch)
      expect(result.baseOffset).toBe(18003 + i * 50)
      appended.push(batch)
    }
    expect(log.logEndOffset).toBe(18003 + 2000)
    await log.close()

    const names = (await fsp.readdir(dir)).sort()
    for (const name of names) {
      expect(name).toMatch(/^(\d{20}\.(log|index|timeindex|snapshot)|leader-epoch-checkpoint|partition\.metadata)$/)
    }
    const bases = names.filter((n) => n.endsWith('.log')).map((n) => n.slice(0, 20))
    expect(bases.length).toBeGreaterThan(3)
    for (const base of bases) {
      expect(names).toContain(`${base}.index`)
      expect(names).toContain(`${base}.timeindex`)
    }
    expect(await fsp.readFile(path.join(dir, 'leader-epoch-checkpoint'), 'utf8')).toBe('0\n1\n0 0\n')
    expect(await fsp.readFile(path.join(dir, 'partition.metadata'), 'utf8')).toBe('version: 0\ntopic_id: yGYSuzrhTqKoZ8QnSlcrjw')

    // Full recovery of the appended directory reads back golden + appended bytes.
    log = await PartitionLog.open({fs, dir, config: testConfig({retentionMs: -1})})
    expect(log.recoveryReport.truncatedBytes).toBe(0)
    const all = await readAll(log, 0, 1 << 20)
    const golden = await goldenLogBytes()
    expect(all.subarray(0, golden.length).equals(golden)).toBe(true)
    expect(all.subarray(golden.length).equals(Buffer.concat(appended))).toBe(true)
    await log.close()
  })
})
