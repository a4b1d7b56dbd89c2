/**
 * Property test: random appends, reads, rolls, truncations, retention,
 * delete-records and restarts (clean, and crashes that drop unsynced data)
 * against a simple in-memory model: a list of batches with their offsets,
 * a log start offset and a log end offset.
 */

import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {iterateBatches} from '../../../src/lib/records/batch.js'
import {MemoryFileSystem} from '../../../src/server/log/memory-fs.js'
import {PartitionLog} from '../../../src/server/log/partition-log.js'
import type {LogConfig} from '../../../src/server/log/log-config.js'
import {ManualClock, makeBatch, readAll, testConfig} from './helpers.js'

const DIR = '/data/prop-0'

interface ModelBatch {
  baseOffset: number
  lastOffset: number
  bytes: Buffer
}

interface Model {
  batches: ModelBatch[]
  logStartOffset: number
  logEndOffset: number
}

interface Real {
  fs: MemoryFileSystem
  clock: ManualClock
  config: LogConfig
  log: PartitionLog
}

function liveBytes(model: Model): Buffer {
  return Buffer.concat(model.batches.filter((b) => b.lastOffset >= model.logStartOffset).map((b) => b.bytes))
}

async function checkInvariants(model: Model, real: Real): Promise<void> {
  expect(real.log.logEndOffset).toBe(model.logEndOffset)
  expect(real.log.logStartOffset).toBe(model.logStartOffset)
  const all = await readAll(real.log, model.logStartOffset)
  expect(all.equals(liveBytes(model))).toBe(true)
}

class AppendCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly count: number, readonly valueSize: number, readonly seed: number) {}
  check = (): boolean => true
  async run(model: Model, real: Real): Promise<void> {
    const batch = await makeBatch(this.count, {valueSize: this.valueSize, seed: this.seed, timestamp: real.clock.now()})
    const result = await real.log.append(batch)
    expect(result.baseOffset).toBe(model.logEndOffset)
    model.batches.push({baseOffset: result.baseOffset, lastOffset: result.lastOffset, bytes: Buffer.from(batch)})
    model.logEndOffset = result.lastOffset + 1
    real.clock.advance(10)
    await checkInvariants(model, real)
  }
  toString = (): string => `append(${this.count}, ${this.valueSize})`
}

class ReadCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly at: number, readonly maxBytes: number, readonly minOneMessage: boolean) {}
  check = (): boolean => true
  async run(model: Model, real: Real): Promise<void> {
    const span = model.logEndOffset - model.logStartOffset
    const offset = model.logStartOffset + Math.floor(this.at * (span + 1))
    const result = await real.log.read(offset, this.maxBytes, {minOneMessage: this.minOneMessage})
    if (offset === model.logEndOffset) {
      expect(result.records.length).toBe(0)
      return
    }
    const index = model.batches.findIndex((b) => b.lastOffset >= offset)
    const first = model.batches[index]!
    if (result.records.length === 0) {
      expect(!this.minOneMessage && first.bytes.length > this.maxBytes).toBe(true)
      return
    }
    expect(result.firstOffset).toBe(first.baseOffset)
    expect(result.records.length).toBeLessThanOrEqual(Math.max(this.maxBytes, first.bytes.length))
    const expected = Buffer.concat(model.batches.slice(index).map((b) => b.bytes))
    expect(result.records.equals(expected.subarray(0, result.records.length))).toBe(true)
    expect([...iterateBatches(result.records)].reduce((n, b) => n + b.header.sizeInBytes, 0)).toBe(result.records.length)
  }
  toString = (): string => `read(${this.at.toFixed(2)}, ${this.maxBytes}, ${this.minOneMessage})`
}

class RollCommand implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true
  async run(model: Model, real: Real): Promise<void> {
    await real.log.roll()
    await checkInvariants(model, real)
  }
  toString = (): string => 'roll'
}

class TruncateCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly at: number) {}
  check = (model: Readonly<Model>): boolean => model.batches.some((b) => b.baseOffset >= model.logStartOffset)
  async run(model: Model, real: Real): Promise<void> {
    const candidates = model.batches.filter((b) => b.baseOffset >= model.logStartOffset)
    const target = candidates[Math.floor(this.at * candidates.length)]!.baseOffset
    await real.log.truncateTo(target)
    model.batches = model.batches.filter((b) => b.baseOffset < target)
    model.logEndOffset = target
    await checkInvariants(model, real)
  }
  toString = (): string => `truncate(${this.at.toFixed(2)})`
}

class DeleteRecordsCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly at: number) {}
  check = (): boolean => true
  async run(model: Model, real: Real): Promise<void> {
    const offset = model.logStartOffset + Math.floor(this.at * (model.logEndOffset - model.logStartOffset + 1))
    expect(await real.log.deleteRecordsBefore(offset)).toBe(offset)
    model.logStartOffset = offset
    await checkInvariants(model, real)
  }
  toString = (): string => `deleteRecords(${this.at.toFixed(2)})`
}

class RetentionBytesCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly retentionBytes: number) {}
  check = (): boolean => true
  async run(model: Model, real: Real): Promise<void> {
    const before = real.log.size
    real.log.updateConfig({...real.config, retentionBytes: this.retentionBytes})
    await real.log.deleteOldSegments()
    real.log.updateConfig(real.config)
    const start = real.log.logStartOffset
    // Retention removes whole segments from the front: the new start is a batch boundary or the log end.
    expect(start).toBeGreaterThanOrEqual(model.logStartOffset)
    if (start > model.logStartOffset) {
      expect(start === model.logEndOffset || model.batches.some((b) => b.baseOffset === start)).toBe(true)
      expect(before - real.log.size).toBeGreaterThan(0)
    }
    // Kafka's rule: delete the oldest segment while the log stays at least retention.bytes without it.
    const segments = real.log.liveSegments()
    if (segments.length > 1 && segments[0]!.size > 0) expect(real.log.size - segments[0]!.size).toBeLessThan(this.retentionBytes)
    model.logStartOffset = start
    await checkInvariants(model, real)
  }
  toString = (): string => `retentionBytes(${this.retentionBytes})`
}

class RestartCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly crash: boolean) {}
  check = (): boolean => true
  async run(model: Model, real: Real): Promise<void> {
    const recoveryPoint = real.log.recoveryPoint
    const logStartOffset = real.log.logStartOffset
    if (this.crash) {
      await real.log.closeHandlesUnclean()
      real.fs.crash()
    } else {
      await real.log.close()
    }
    real.log = await PartitionLog.open({
      fs: real.fs,
      dir: DIR,
      config: real.config,
      clock: real.clock,
      recoveryPoint,
      logStartOffset,
      hadCleanShutdown: !this.crash,
    })
    if (this.crash) {
      const leo = real.log.logEndOffset
      expect(leo).toBeGreaterThanOrEqual(Math.max(recoveryPoint, logStartOffset))
      expect(leo).toBeLessThanOrEqual(model.logEndOffset)
      model.batches = model.batches.filter((b) => b.lastOffset < leo)
      expect(model.batches.length === 0 || model.batches.at(-1)!.lastOffset === leo - 1 || leo === logStartOffset).toBe(true)
      model.logEndOffset = leo
    }
    await checkInvariants(model, real)
  }
  toString = (): string => (this.crash ? 'crash+restart' : 'restart')
}

class FlushCommand implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true
  async run(model: Model, real: Real): Promise<void> {
    await real.log.flush()
    expect(real.log.recoveryPoint).toBe(model.logEndOffset)
  }
  toString = (): string => 'flush'
}

const commands = [
  fc.tuple(fc.integer({min: 1, max: 6}), fc.integer({min: 0, max: 300}), fc.nat(1000)).map(([c, v, s]) => new AppendCommand(c, v, s)),
  fc.tuple(fc.integer({min: 1, max: 6}), fc.integer({min: 0, max: 300}), fc.nat(1000)).map(([c, v, s]) => new AppendCommand(c, v, s)),
  fc.tuple(fc.double({min: 0, max: 1, noNaN: true}), fc.integer({min: 1, max: 3000}), fc.boolean()).map(([a, m, o]) => new ReadCommand(a, m, o)),
  fc.constant(new RollCommand()),
  fc.double({min: 0, max: 0.999, noNaN: true}).map((a) => new TruncateCommand(a)),
  fc.double({min: 0, max: 1, noNaN: true}).map((a) => new DeleteRecordsCommand(a)),
  fc.integer({min: 0, max: 9000}).map((b) => new RetentionBytesCommand(b)),
  fc.boolean().map((c) => new RestartCommand(c)),
  fc.constant(new FlushCommand()),
]

describe('PartitionLog vs model', () => {
  it('agrees on random operation sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, {maxCommands: 80, size: "+1"}), fc.integer({min: 2100, max: 5000}), async (cmds, segmentBytes) => {
        const fs = new MemoryFileSystem()
        const clock = new ManualClock()
        const config = testConfig({segmentBytes, indexIntervalBytes: 100, segmentIndexBytes: 10 * 12, retentionMs: -1, fileDeleteDelayMs: 0})
        const log = await PartitionLog.open({fs, dir: DIR, config, clock})
        const real: Real = {fs, clock, config, log}
        const model: Model = {batches: [], logStartOffset: 0, logEndOffset: 0}
        await fc.asyncModelRun(() => ({model, real}), cmds)
      }),
      {numRuns: Number(process.env.KCLI_PROPERTY_RUNS ?? 400)},
    )
  }, 60_000)
})
