import {randomBytes} from 'node:crypto'
import {setTimeout as sleep} from 'node:timers/promises'

import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {UsageError} from '../../lib/cli/errors.js'
import {type LatencySummary, ProgressBar, summarizeLatencies} from '../../lib/client/perf-stats.js'
import type {Acks, CompressionName, ProducerRecord} from '../../lib/client/producer.js'

export interface PerfProduceResult {
  topic: string
  records: number
  recordSize: number
  elapsedMs: number
  recordsPerSec: number
  mibPerSec: number
  /** From push to acknowledgement, of a sample of the records (every n-th, at most 50,000). */
  latency: LatencySummary
  errors: number
}

export default class PerfProduce extends BaseCommand<typeof PerfProduce> {
  static override description = `Produces --count records of --record-size random bytes as fast as possible (or at --throughput records/s) and reports throughput and latency percentiles (from handing the record to the producer to its acknowledgement), like kafka-producer-perf-test. A progress bar shows on a terminal.`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> -t bench --count 1000000 --record-size 100', description: 'A million 100-byte records.'},
    {command: '<%= config.bin %> <%= command.id %> -t bench --record-size 1024 --throughput 5000 --acks 1 --compression lz4', description: 'Rate limited, leader acks, lz4.'},
    {command: '<%= config.bin %> <%= command.id %> -t bench --count 100000 --json', description: 'Results as JSON.'},
  ]
  static override flags = {
    acks: Flags.string({default: 'all', options: ['all', '-1', '1', '0'], summary: 'Acknowledgements.'}),
    'batch-size': Flags.integer({min: 1, summary: 'Bytes per batch (default 1000000).'}),
    compression: Flags.string({default: 'none', options: ['none', 'gzip', 'snappy', 'lz4', 'zstd'], summary: 'Compression codec.'}),
    count: Flags.integer({char: 'n', default: 100_000, min: 1, summary: 'Records to produce.'}),
    idempotent: Flags.boolean({summary: 'Idempotent producer.'}),
    'linger-ms': Flags.integer({min: 0, summary: 'Batch linger (default 5).'}),
    'record-size': Flags.integer({char: 's', default: 100, min: 0, summary: 'Bytes per record value.'}),
    throughput: Flags.integer({default: -1, summary: 'Records per second at most (-1: no limit).'}),
    topic: Flags.string({char: 't', helpValue: '<name>', required: true, summary: 'Topic to produce to.'}),
  }
  static override summary = 'Measure produce throughput and latency.'

  async run(): Promise<PerfProduceResult> {
    const {flags} = this
    if (flags.throughput === 0 || flags.throughput < -1) throw new UsageError('--throughput must be positive or -1')
    const {Producer} = await import('../../lib/client/producer.js')
    const client = await this.kafka()
    await this.withTimeout('reading metadata', client.topic(flags.topic, {allowAutoCreate: true}))
    const producer = new Producer(client, {
      acks: (flags.acks === 'all' ? -1 : Number(flags.acks)) as Acks,
      batchSize: flags['batch-size'],
      compression: flags.compression as CompressionName,
      deliveryTimeoutMs: Math.max(flags.timeout, 30_000),
      idempotent: flags.idempotent,
      lingerMs: flags['linger-ms'],
      requestTimeoutMs: flags.timeout,
    })
    // A pool of random payloads, so compression sees realistic (incompressible) data without a random draw per record.
    const pool = Array.from({length: 64}, () => randomBytes(flags['record-size']))
    const count = flags.count
    // Latency of every stride-th record (at most 50,000 samples, through a callback each), so sampling costs little at any count.
    const stride = Math.max(1, Math.ceil(count / 50_000))
    const latencies = new Float64Array(Math.ceil(count / stride))
    let samples = 0
    const progress = new ProgressBar(process.stderr, count, 'producing', process.stderr.isTTY === true && !this.jsonEnabled())
    let acked = 0
    let errors = 0
    let firstError: Error | undefined
    const started = performance.now()
    producer.onBatch = ({count: n, error}) => {
      if (error) {
        errors += n
        firstError ??= error
      }
      acked += n
      progress.update(acked, acked * flags['record-size'], started)
    }
    const sampled = (sentAt: number) => (error: Error | null) => {
      if (!error) latencies[samples++] = performance.now() - sentAt
    }
    for (let i = 0; i < count; i++) {
      if (flags.throughput > 0 && i % 100 === 0) {
        const due = started + (i / flags.throughput) * 1000
        const wait = due - performance.now()
        if (wait > 1) await sleep(wait)
      }
      const record: ProducerRecord = {topic: flags.topic, value: pool[i & 63]!}
      const room = i % stride === 0 ? producer.push(record, sampled(performance.now())) : producer.push(record)
      if (!room) await producer.waitForSpace()
    }
    await producer.flush().catch((error: Error) => {
      firstError ??= error
    })
    const elapsedMs = performance.now() - started
    progress.update(acked, acked * flags['record-size'], started, true)
    progress.done()
    if (firstError && errors === count) throw firstError
    const ok = latencies.subarray(0, samples)
    const result: PerfProduceResult = {
      topic: flags.topic,
      records: count,
      recordSize: flags['record-size'],
      elapsedMs: Math.round(elapsedMs),
      recordsPerSec: Math.round((count / elapsedMs) * 1000),
      mibPerSec: Math.round(((count * flags['record-size']) / (1024 * 1024) / (elapsedMs / 1000)) * 100) / 100,
      latency: summarizeLatencies(ok),
      errors,
    }
    const l = result.latency
    this.out.line(`${result.records} records sent, ${result.recordsPerSec} records/sec (${result.mibPerSec} MiB/sec), ${errors} errors`)
    this.out.line(`latency ms: avg ${l.avgMs}, p50 ${l.p50Ms}, p95 ${l.p95Ms}, p99 ${l.p99Ms}, p99.9 ${l.p999Ms}, max ${l.maxMs}`)
    if (firstError) this.out.errorLine(`first error: ${firstError.message}`)
    return result
  }
}
