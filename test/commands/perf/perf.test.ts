import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import PerfConsume, {type PerfConsumeResult} from '../../../src/commands/perf/consume.js'
import PerfProduce, {type PerfProduceResult} from '../../../src/commands/perf/produce.js'
import TopicsCreate from '../../../src/commands/topics/create.js'
import {json, kcli, startBroker, type TestBroker} from '../helpers.js'

let broker: TestBroker
beforeAll(async () => {
  broker = await startBroker()
  await kcli(TopicsCreate, broker.bootstrap, ['bench', '-p', '2'])
})
afterAll(async () => {
  await broker?.stop()
})

describe('kcli perf', () => {
  it('produce reports throughput and latency percentiles', async () => {
    const run = await kcli<PerfProduceResult>(PerfProduce, broker.bootstrap, ['-t', 'bench', '--count', '20000', '--record-size', '100'])
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toMatch(/^20000 records sent, \d+ records\/sec \([\d.]+ MiB\/sec\), 0 errors\nlatency ms: avg [\d.]+, p50 [\d.]+, p95 [\d.]+, p99 [\d.]+, p99\.9 [\d.]+, max [\d.]+\n$/)
    const parsed = json<PerfProduceResult>(await kcli(PerfProduce, broker.bootstrap, ['-t', 'bench', '-n', '5000', '-s', '1024', '--acks', '1', '--compression', 'lz4', '--json']))
    expect(parsed).toMatchObject({errors: 0, records: 5000, recordSize: 1024, topic: 'bench'})
    expect(parsed.latency.p50Ms).toBeLessThanOrEqual(parsed.latency.p99Ms)
    expect(parsed.latency.p99Ms).toBeLessThanOrEqual(parsed.latency.maxMs)
  })

  it('produce honours --throughput', async () => {
    const started = Date.now()
    const parsed = json<PerfProduceResult>(await kcli(PerfProduce, broker.bootstrap, ['-t', 'bench', '-n', '1000', '--throughput', '2000', '--json']))
    expect(Date.now() - started).toBeGreaterThanOrEqual(400)
    expect(parsed.recordsPerSec).toBeLessThanOrEqual(2600)
  })

  it('consume reads everything up to the latest offsets', async () => {
    const run = await kcli<PerfConsumeResult>(PerfConsume, broker.bootstrap, ['-t', 'bench'])
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toMatch(/^26000 records received \([\d.]+ MiB\) in [\d.]+ s, \d+ records\/sec \([\d.]+ MiB\/sec\)\nrecord age ms: avg/)
    const parsed = json<PerfConsumeResult>(await kcli(PerfConsume, broker.bootstrap, ['-t', 'bench', '--count', '100', '--json']))
    expect(parsed).toMatchObject({records: 100, topic: 'bench'})
  })
})
