import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {UsageError} from '../../lib/cli/errors.js'
import {toJsonText} from '../../lib/cli/output.js'
import type {Admin} from '../../lib/client/admin.js'
import {type EndSpec, parseEndSpec, parseStartSpec, type StartSpec, topicsFromArgumentOrFlag} from '../../lib/client/cli-input.js'
import type {PartitionPosition} from '../../lib/client/consumer.js'
import {ENCODINGS, type Encoding} from '../../lib/client/encoding.js'
import type {Record as KafkaRecord} from '../../lib/records/record.js'
import type {RecordFormatter} from '../../lib/client/record-format.js'

export interface ConsumeResult {
  count: number
  /** Per partition "topic-partition": the next offset (what a group would commit). */
  positions: Record<string, bigint>
  elapsedMs: number
}

function key(topic: string, partition: number): string {
  return `${topic}-${partition}`
}

const NEWLINE = 10

/**
 * Output buffers for plain values, reused once stdout has written them: a fresh megabyte per batch
 * costs page faults and, through V8's accounting of external memory, full garbage collections.
 */
class OutputBuffers {
  private readonly free: Buffer[] = []

  acquire(size: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= size)
    if (i >= 0) return this.free.splice(i, 1)[0]!
    return Buffer.allocUnsafe(Math.max(size, 1024 * 1024))
  }

  release(buffer: Buffer): void {
    if (this.free.length < 4) this.free.push(buffer)
  }
}

/** The first `n` values, each followed by a newline, into `buffers` (no text decoding). */
function valuesWithNewlines(records: readonly KafkaRecord[], n: number, buffers: OutputBuffers): {buffer: Buffer; length: number} {
  let size = n
  for (let i = 0; i < n; i++) size += records[i]!.value?.length ?? 0
  const buffer = buffers.acquire(size)
  let at = 0
  for (let i = 0; i < n; i++) {
    const value = records[i]!.value
    if (value !== null) at += value.copy(buffer, at)
    buffer[at++] = NEWLINE
  }
  return {buffer, length: at}
}

export default class Consume extends BaseCommand<typeof Consume> {
  static override description = `Prints the records of the topic given as the argument or with --topic as they arrive, one per line (the value; --format for more), until Ctrl-C, --count records, or with --exit the end of each partition as it was when consuming started. Starts at the latest offset unless --from-beginning or --offset: N, -N (the last N records of each partition), @time (epoch ms, ISO date, or relative like @-1h), beginning, end. --to stops before an offset or a time. With --group the partitions come from the consumer group, consumption starts at its committed offsets, and offsets are committed as records are printed and at the end. With --json every record is one JSON object on its own line (key and value as text, or base64 when not UTF-8: see keyEncoding/valueEncoding).`
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> orders --from-beginning --exit', description: 'Everything in the topic, then exit (-t orders says the same).'},
    {command: '<%= config.bin %> <%= command.id %> orders --offset -10 --exit', description: 'The last 10 records of each partition.'},
    {command: '<%= config.bin %> <%= command.id %> orders --offset @-1h --to @-30m -f "%p:%o %k=%s\\n"', description: 'An hour ago to half an hour ago, kcat-style format.'},
    {command: '<%= config.bin %> <%= command.id %> -t orders -t refunds -g billing --count 100', description: 'Two topics as consumer group billing, 100 records, offsets committed.'},
    {command: '<%= config.bin %> <%= command.id %> blobs --from-beginning --exit --json | jq -r .value', description: 'One JSON object per record.'},
  ]
  static override args = {
    // ignoreStdin: oclif would otherwise take a missing argument from piped stdin.
    topic: Args.string({description: 'Topic to consume (or --topic; asked for on a terminal if neither is given).', ignoreStdin: true}),
  }
  static override flags = {
    count: Flags.integer({char: 'c', min: 1, summary: 'Exit after this many records.'}),
    exit: Flags.boolean({char: 'e', summary: 'Exit at the end of the partitions (their latest offsets when consuming started).'}),
    format: Flags.string({char: 'f', helpValue: '<format>', summary: 'kcat-style format: %t %p %o %k %s %K %S %T %h %%, \\n \\t.'}),
    'from-beginning': Flags.boolean({summary: 'Start at the earliest offset (same as --offset beginning).'}),
    group: Flags.string({char: 'g', helpValue: '<id>', summary: 'Consume as this consumer group and commit offsets.'}),
    'isolation-level': Flags.string({default: 'read_uncommitted', options: ['read_uncommitted', 'read_committed'], summary: 'Transactional records to show.'}),
    'key-encoding': Flags.string({options: [...ENCODINGS], summary: 'Keys in --json: text (base64 if not UTF-8), json, base64.'}),
    offset: Flags.string({char: 'o', helpValue: '<N|-N|@time|beginning|end>', summary: 'Where to start in each partition.'}),
    partition: Flags.integer({char: 'p', min: 0, multiple: true, multipleNonGreedy: true, summary: 'Only this partition (repeatable; not with --group).'}),
    to: Flags.string({helpValue: '<N|@time>', summary: 'Stop before this offset, or at the first record at or after this time.'}),
    topic: Flags.string({char: 't', helpValue: '<name>', multiple: true, multipleNonGreedy: true, summary: 'Topic to consume, as the argument can also give it (repeatable: several topics).'}),
    'value-encoding': Flags.string({options: [...ENCODINGS], summary: 'Values in --json: text (base64 if not UTF-8), json, base64.'}),
  }
  static override summary = 'Consume records and print them.'

  /** Records are streamed as they arrive; the final result is not printed again. */
  override logJson(): void {}

  async run(): Promise<ConsumeResult> {
    const started = Date.now()
    const {flags} = this
    if (flags['from-beginning'] && flags.offset !== undefined) throw new UsageError('give --from-beginning or --offset, not both')
    if (flags.group !== undefined && flags.partition !== undefined) throw new UsageError('--partition cannot be used with --group (the group assigns partitions)')
    const start: StartSpec | undefined = flags['from-beginning'] ? {kind: 'earliest'} : flags.offset === undefined ? undefined : parseStartSpec(flags.offset, '--offset')
    const end: EndSpec | undefined = flags.to === undefined ? undefined : parseEndSpec(flags.to, '--to')
    let formatter: RecordFormatter | undefined
    if (flags.format !== undefined) {
      const {compileFormat} = await import('../../lib/client/record-format.js')
      try {
        formatter = compileFormat(flags.format)
      } catch (error) {
        throw new UsageError(`--format: ${(error as Error).message}`)
      }
    }

    let topics = topicsFromArgumentOrFlag(this.args.topic, flags.topic)
    const interactive = process.stdin.isTTY === true && this.out.isTTY
    if (topics === undefined && !interactive) throw new UsageError(`a topic is required: ${this.config.bin} consume TOPIC, or --topic TOPIC`)

    const client = await this.kafka()
    const {Consumer} = await import('../../lib/client/consumer.js')
    const {Admin} = await import('../../lib/client/admin.js')
    const admin = new Admin(client)
    topics ??= [await this.pickTopic(admin)]
    for (const topic of topics) await this.withTimeout('reading metadata', client.topic(topic))

    const consumer = new Consumer(client, {
      autoOffsetReset: start?.kind === 'earliest' ? 'earliest' : 'latest',
      group: flags.group === undefined ? undefined : {groupId: flags.group},
      isolationLevel: flags['isolation-level'] === 'read_committed' ? 1 : 0,
      // Each batch is printed (copied out) before the next is asked for.
      recycleBuffers: true,
    })
    // Per partition: stop before this offset.
    const stopAt = new Map<string, bigint>()
    const bounds = async (partitions: readonly {topic: string; partition: number}[]) => {
      stopAt.clear()
      if (partitions.length === 0) return
      const {LATEST_TIMESTAMP} = await import('../../lib/client/admin.js')
      const latest = flags.exit ? await admin.listOffsets(partitions.map((p) => ({...p, timestamp: LATEST_TIMESTAMP})), {isolationLevel: flags['isolation-level'] === 'read_committed' ? 1 : 0}) : []
      const ends = end ? await this.endOffsets(admin, partitions, end) : []
      partitions.forEach((p, i) => {
        const candidates = [latest[i]?.offset, ends[i]].filter((o): o is bigint => o !== undefined && o >= 0n)
        if (candidates.length > 0) stopAt.set(key(p.topic, p.partition), candidates.reduce((a, b) => (a < b ? a : b)))
      })
    }
    const pauseFinished = (positions: readonly PartitionPosition[]) => {
      for (const p of positions) {
        const bound = stopAt.get(key(p.topic, p.partition))
        if (bound !== undefined && p.offset >= bound) consumer.pause(p.topic, p.partition)
      }
    }

    if (flags.group === undefined) {
      const partitions: {topic: string; partition: number}[] = []
      for (const topic of topics) {
        const info = await client.topic(topic)
        for (const p of info.partitions) if (!flags.partition || flags.partition.includes(p.partition)) partitions.push({partition: p.partition, topic})
      }
      const missing = (flags.partition ?? []).filter((p) => !partitions.some((x) => x.partition === p))
      if (missing.length > 0) throw new UsageError(`--partition ${missing.join(',')}: no such partition in ${topics.join(', ')}`)
      const offsets = await this.withTimeout('looking up start offsets', this.startOffsets(admin, partitions, start ?? {kind: 'latest'}))
      consumer.assign(partitions.map((p, i) => ({...p, offset: offsets[i]!})))
      await this.withTimeout('looking up end offsets', bounds(partitions))
      pauseFinished(consumer.positions())
    } else {
      consumer.subscribe(topics)
      consumer.onAssign = async (positions) => {
        if (start && start.kind !== 'earliest' && start.kind !== 'latest') {
          const offsets = await this.startOffsets(admin, positions, start)
          positions.forEach((p, i) => consumer.seek(p.topic, p.partition, offsets[i]!))
        }
        await bounds(positions)
        pauseFinished(consumer.positions())
        if ((flags.exit || end) && consumer.positions().every((p) => stopAt.has(key(p.topic, p.partition)) && p.offset >= stopAt.get(key(p.topic, p.partition))!)) consumer.stop()
      }
    }

    const json = this.jsonEnabled()
    const keyEncoding = (flags['key-encoding'] ?? 'text') as Encoding
    const valueEncoding = (flags['value-encoding'] ?? 'text') as Encoding
    const {recordToJson} = json ? await import('../../lib/client/record-format.js') : {recordToJson: undefined}
    const c = this.out.color
    const tty = this.out.isTTY
    const format: RecordFormatter | undefined =
      formatter ??
      (tty
        ? (r, b) => `${c.dim(`${b.topic}-${b.partition}@${r.offset}`)} ${r.key === null ? '' : `${c.cyan(r.key.toString('utf8'))} `}${r.value === null ? c.dim('null') : r.value.toString('utf8')}\n`
        : undefined) // plain values: written as bytes, below

    let count = 0
    const outputBuffers = new OutputBuffers()
    const limit = flags.count ?? Number.POSITIVE_INFINITY
    const stdout = process.stdout
    const onSignal = () => consumer.stop()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    // The reader went away (`| head`): stop quietly, as kcat does on SIGPIPE.
    let outputClosed = false
    let outputError: Error | undefined
    const onOutputError = (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') outputError ??= error
      outputClosed = true
      consumer.stop()
    }
    stdout.on('error', onOutputError)
    const drained = () =>
      new Promise<void>((resolve) => {
        const done = () => {
          stdout.off('drain', done)
          stdout.off('error', done)
          stdout.off('close', done)
          resolve()
        }
        stdout.once('drain', done)
        stdout.once('error', done)
        stdout.once('close', done)
      })
    let lastCommit = Date.now()
    const endTime = end?.kind === 'time' ? end.time : Number.POSITIVE_INFINITY
    const allDone = () => {
      const positions = consumer.positions()
      return positions.length > 0 && positions.every((p) => {
        const b = stopAt.get(key(p.topic, p.partition))
        return b !== undefined && p.offset >= b
      })
    }
    try {
      if ((flags.exit || end) && flags.group === undefined && allDone()) consumer.stop()
      for await (const batch of consumer.batches()) {
        const bound = stopAt.get(key(batch.topic, batch.partition))
        const stopOffset = bound === undefined ? Number.POSITIVE_INFINITY : Number(bound)
        const records = batch.records
        // How many of the batch's records to print: up to the end bound, the end time, --count.
        let n = 0
        while (n < records.length && count + n < limit && records[n]!.offset < stopOffset && records[n]!.timestamp < endTime) n++
        const done = n < records.length && count + n < limit
        if (n > 0) {
          let chunk: Buffer | string
          let written: (() => void) | undefined
          if (json) {
            let text = ''
            for (let i = 0; i < n; i++) text += `${toJsonText(recordToJson!(records[i]!, batch, keyEncoding, valueEncoding))}\n`
            chunk = text
          } else if (format) {
            let text = ''
            for (let i = 0; i < n; i++) text += format(records[i]!, batch)
            chunk = text
          } else {
            const {buffer, length} = valuesWithNewlines(records, n, outputBuffers)
            chunk = buffer.subarray(0, length)
            written = () => outputBuffers.release(buffer)
          }
          count += n
          if (!stdout.write(chunk, written)) await drained()
          if (outputClosed) break
        }
        // The consumer's position is past the whole batch: move it back to what was printed.
        if (n < records.length) consumer.seek(batch.topic, batch.partition, BigInt(records[n]!.offset))
        const last = records.at(-1)
        if (done || (last !== undefined && last.offset + 1 >= stopOffset)) consumer.pause(batch.topic, batch.partition)
        if (count >= limit) break
        if ((flags.exit || end) && allDone()) break
        if (flags.group !== undefined && Date.now() - lastCommit > 5000) {
          lastCommit = Date.now()
          await consumer.commit().catch(() => undefined)
        }
      }
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      if (!outputClosed) stdout.off('error', onOutputError)
      await consumer.close({commit: flags.group !== undefined})
    }
    if (outputError) throw outputError
    const positions = Object.fromEntries(consumer.positions().map((p) => [key(p.topic, p.partition), p.offset]))
    if (tty && !json) process.stderr.write(c.dim(`${count} record${count === 1 ? '' : 's'}\n`))
    return {count, positions, elapsedMs: Date.now() - started}
  }

  private async pickTopic(admin: Admin): Promise<string> {
    const metadata = await this.withTimeout('listing topics', admin.listTopics())
    const names = metadata.topics.filter((t) => !t.isInternal && t.errorCode === 0).map((t) => t.name).sort()
    if (names.length === 0) throw new UsageError('the cluster has no topics; give --topic')
    const {search} = await import('@inquirer/prompts')
    return search({message: 'Topic', source: (term) => names.filter((n) => !term || n.includes(term)).map((n) => ({name: n, value: n}))})
  }

  /** The first offset to read in each partition for `spec`. */
  private async startOffsets(admin: Admin, partitions: readonly {topic: string; partition: number}[], spec: StartSpec): Promise<bigint[]> {
    const {EARLIEST_TIMESTAMP, LATEST_TIMESTAMP} = await import('../../lib/client/admin.js')
    const list = async (timestamp: bigint) => (await admin.listOffsets(partitions.map((p) => ({...p, timestamp})))).map((o) => o.offset)
    switch (spec.kind) {
      case 'earliest': return list(EARLIEST_TIMESTAMP)
      case 'latest': return list(LATEST_TIMESTAMP)
      case 'offset': {
        const [earliest, latest] = await Promise.all([list(EARLIEST_TIMESTAMP), list(LATEST_TIMESTAMP)])
        return partitions.map((_, i) => (spec.offset < earliest[i]! ? earliest[i]! : spec.offset > latest[i]! ? latest[i]! : spec.offset))
      }
      case 'last': {
        const [earliest, latest] = await Promise.all([list(EARLIEST_TIMESTAMP), list(LATEST_TIMESTAMP)])
        return partitions.map((_, i) => (latest[i]! - spec.count < earliest[i]! ? earliest[i]! : latest[i]! - spec.count))
      }
      case 'time': {
        const [byTime, latest] = await Promise.all([list(BigInt(spec.time)), list(LATEST_TIMESTAMP)])
        return partitions.map((_, i) => (byTime[i]! < 0n ? latest[i]! : byTime[i]!))
      }
    }
  }

  /** Offsets to stop before, for --to. */
  private async endOffsets(admin: Admin, partitions: readonly {topic: string; partition: number}[], spec: EndSpec): Promise<(bigint | undefined)[]> {
    if (spec.kind === 'offset') return partitions.map(() => spec.offset)
    const listed = await admin.listOffsets(partitions.map((p) => ({...p, timestamp: BigInt(spec.time)})))
    // No record at or after the time yet: keep consuming until one arrives (checked per record).
    return listed.map((o) => (o.offset >= 0n ? o.offset : undefined))
  }
}
