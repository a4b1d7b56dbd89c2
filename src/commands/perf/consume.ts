import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {TimeoutError} from '../../lib/cli/errors.js'
import {EARLIEST_TIMESTAMP, LATEST_TIMESTAMP} from '../../lib/client/admin.js'
import {type LatencySummary, ProgressBar, summarizeLatencies} from '../../lib/client/perf-stats.js'

export interface PerfConsumeResult {
  topic: string
  records: number
  bytes: number
  elapsedMs: number
  recordsPerSec: number
  mibPerSec: number
  /** Record age when received: now - record timestamp (end-to-end latency when producing at the same time). */
  latency: LatencySummary
}

export default class PerfConsume extends BaseCommand<typeof PerfConsume> {
  static override description = `Consumes --count records (default: everything up to the latest offsets when it starts) from the beginning of a topic and reports throughput and the age of the records when received (end-to-end latency when a producer runs at the same time), like kafka-consumer-perf-test. A progress bar shows on a terminal.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> -t bench', description: 'Read the whole topic.'},
    {command: '<%= config.bin %> <%= command.id %> -t bench --count 1000000 --json', description: 'A million records, results as JSON.'},
  ]
  static override flags = {
    count: Flags.integer({char: 'n', min: 1, summary: 'Records to consume (default: up to the latest offsets at start).'}),
    'fetch-max-bytes': Flags.integer({min: 1024, summary: 'Bytes per partition per fetch (default 1 MiB).'}),
    topic: Flags.string({char: 't', helpValue: '<name>', required: true, summary: 'Topic to consume.'}),
  }
  static override summary = 'Measure consume throughput.'

  async run(): Promise<PerfConsumeResult> {
    const {flags} = this
    const {Admin} = await import('../../lib/client/admin.js')
    const {Consumer} = await import('../../lib/client/consumer.js')
    const client = await this.kafka()
    const admin = new Admin(client)
    const topic = await this.withTimeout('reading metadata', client.topic(flags.topic))
    const partitions = topic.partitions.map((p) => ({partition: p.partition, topic: flags.topic}))
    const [earliest, latest] = await Promise.all([
      admin.listOffsets(partitions.map((p) => ({...p, timestamp: EARLIEST_TIMESTAMP}))),
      admin.listOffsets(partitions.map((p) => ({...p, timestamp: LATEST_TIMESTAMP}))),
    ])
    const available = latest.reduce((sum, o, i) => sum + Number(o.offset - earliest[i]!.offset), 0)
    const target = flags.count ?? available
    const consumer = new Consumer(client, {partitionMaxBytes: flags['fetch-max-bytes'], recycleBuffers: true}) // records are counted, never kept
    consumer.assign(partitions.map((p, i) => ({...p, offset: earliest[i]!.offset})))
    const ages = new Float64Array(target)
    const progress = new ProgressBar(process.stderr, target, 'consuming', process.stderr.isTTY === true && !this.jsonEnabled())
    let records = 0
    let bytes = 0
    const started = performance.now()
    const deadline = Date.now() + flags.timeout
    if (target > 0) {
      for await (const batch of consumer.batches()) {
        const now = Date.now()
        for (const r of batch.records) {
          if (records >= target) break
          ages[records++] = now - Number(r.timestamp)
          bytes += (r.value?.length ?? 0) + (r.key?.length ?? 0)
        }
        progress.update(records, bytes, started)
        if (records >= target) break
        if (now > deadline) {
          await consumer.close()
          throw new TimeoutError(`consuming ${target} records (got ${records})`, flags.timeout)
        }
      }
    }
    await consumer.close()
    const elapsedMs = performance.now() - started
    progress.update(records, bytes, started, true)
    progress.done()
    const result: PerfConsumeResult = {
      topic: flags.topic,
      records,
      bytes,
      elapsedMs: Math.round(elapsedMs),
      recordsPerSec: Math.round((records / Math.max(elapsedMs, 0.001)) * 1000),
      mibPerSec: Math.round((bytes / (1024 * 1024) / Math.max(elapsedMs / 1000, 0.000_001)) * 100) / 100,
      latency: summarizeLatencies(ages.subarray(0, records)),
    }
    const l = result.latency
    this.out.line(`${records} records received (${(bytes / (1024 * 1024)).toFixed(2)} MiB) in ${(elapsedMs / 1000).toFixed(2)} s, ${result.recordsPerSec} records/sec (${result.mibPerSec} MiB/sec)`)
    this.out.line(`record age ms: avg ${l.avgMs}, p50 ${l.p50Ms}, p95 ${l.p95Ms}, p99 ${l.p99Ms}, p99.9 ${l.p999Ms}, max ${l.maxMs}`)
    return result
  }
}
