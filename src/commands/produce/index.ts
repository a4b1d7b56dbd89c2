import {closeSync, fstatSync, openSync} from 'node:fs'
import type {Readable} from 'node:stream'

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {KcliError, UsageError} from '../../lib/cli/errors.js'
import {parseKeyValue, topicsFromArgumentOrFlag} from '../../lib/client/cli-input.js'
import {ENCODINGS, type Encoding} from '../../lib/client/encoding.js'
import type {Acks, CompressionName, Producer, ProducerRecord, RecordMetadata} from '../../lib/client/producer.js'

export interface ProducedRecord {
  partition: number
  /** -1 with --acks 0. */
  offset: bigint
}

export interface ProduceResult {
  topic: string
  count: number
  /** Records per partition. */
  partitions: Record<string, number>
  /** Per record, in input order (only with --json). */
  records?: ProducedRecord[]
  elapsedMs: number
}

const COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const

/** Whether standard input is a redirected regular file (read from fd 0 directly), not a pipe, a terminal or a test's replacement. */
function stdinIsFile(): boolean {
  try {
    return (process.stdin as Readable & {fd?: number}).fd === 0 && fstatSync(0).isFile()
  } catch {
    return false
  }
}

export default class Produce extends BaseCommand<typeof Produce> {
  static override description = `Produces one record per input line, from stdin or --file, to the topic given as the argument or with --topic. With --key-separator each line is split at the first separator into key and value. --value-encoding base64 takes base64 lines and produces the decoded bytes (for binary values); json checks each value is a JSON document. On a terminal without input piped in, it asks for the topic and then for record after record (an empty line ends). With --json it prints the partition and offset of every record.`
  static override examples = [
    {command: 'seq 100000 | <%= config.bin %> <%= command.id %> numbers', description: 'A record per line from stdin (-t numbers says the same).'},
    {command: 'printf "user1:login\\nuser2:logout\\n" | <%= config.bin %> <%= command.id %> events --key-separator : --json', description: 'Keyed records; print partitions and offsets.'},
    {command: '<%= config.bin %> <%= command.id %> blobs --file values.b64 --value-encoding base64 --compression zstd', description: 'Binary values from base64 lines, compressed.'},
    {command: '<%= config.bin %> <%= command.id %> orders --header source=cli --partition 0 --acks 1', description: 'With a header, to partition 0, leader acknowledgement only.'},
    {command: 'cat batch.txt | <%= config.bin %> <%= command.id %> payments --transactional-id loader-1', description: 'The whole input as one transaction: read_committed consumers see all of it or none.'},
    {command: '<%= config.bin %> <%= command.id %>', description: 'Interactive: pick a topic, then type records.'},
  ]
  static override args = {
    // ignoreStdin: oclif would otherwise take a missing argument from stdin, which holds the records.
    topic: Args.string({description: 'Topic to produce to (or --topic; asked for on a terminal if neither is given).', ignoreStdin: true}),
  }
  static override flags = {
    acks: Flags.string({default: 'all', options: ['all', '-1', '1', '0'], summary: 'Acknowledgements: all (-1), 1 (leader), 0 (none).'}),
    'batch-size': Flags.integer({helpValue: '<bytes>', min: 1, summary: 'Bytes per batch (default 1000000).'}),
    compression: Flags.string({default: 'none', options: [...COMPRESSIONS], summary: 'Compression codec.'}),
    file: Flags.string({char: 'f', helpValue: '<path>', summary: 'Read records from this file instead of stdin.'}),
    header: Flags.string({char: 'H', helpValue: '<key=value>', multiple: true, multipleNonGreedy: true, summary: 'A header on every record (repeatable).'}),
    idempotent: Flags.boolean({summary: 'Idempotent producer (no duplicates on retry; implies --acks all).'}),
    'key-encoding': Flags.string({default: 'text', options: [...ENCODINGS], summary: 'How keys are written in the input.'}),
    'key-separator': Flags.string({char: 'K', helpValue: '<sep>', summary: 'Split each line at the first <sep> into key and value.'}),
    'linger-ms': Flags.integer({min: 0, summary: 'How long batches wait for more records (default 5).'}),
    partition: Flags.integer({char: 'p', min: 0, summary: 'Produce to this partition (default: by key, or sticky for no key).'}),
    topic: Flags.string({char: 't', helpValue: '<name>', summary: 'Topic to produce to, as the argument can also give it.'}),
    'value-encoding': Flags.string({default: 'text', options: [...ENCODINGS], summary: 'How values are written in the input: text, json, base64.'}),
    'transactional-id': Flags.string({helpValue: '<id>', summary: 'Produce the whole input as one transaction (committed at the end, aborted on failure); implies --idempotent.'}),
  }
  static override summary = 'Produce records from stdin, a file, or a prompt.'

  async run(): Promise<ProduceResult> {
    const interactive = this.flags.file === undefined && process.stdin.isTTY === true
    let topic = topicsFromArgumentOrFlag(this.args.topic, this.flags.topic === undefined ? undefined : [this.flags.topic])?.[0]
    if (topic === undefined) {
      if (!interactive) throw new UsageError(`a topic is required when records come from stdin or --file: ${this.config.bin} produce TOPIC, or --topic TOPIC`)
      topic = await this.pickTopic()
    }
    const transactionalId = this.flags['transactional-id']
    if ((this.flags.idempotent || transactionalId !== undefined) && this.flags.acks !== 'all' && this.flags.acks !== '-1') {
      throw new UsageError(`${transactionalId === undefined ? '--idempotent' : '--transactional-id'} needs --acks all`)
    }
    if (transactionalId !== undefined && interactive) throw new UsageError('--transactional-id needs records from stdin or --file')
    const headers = (this.flags.header ?? []).map((h) => {
      const [key, value] = parseKeyValue(h, '--header')
      return {key, value: Buffer.from(value)}
    })
    const {Producer} = await import('../../lib/client/producer.js')
    const {encodeInput} = await import('../../lib/client/encoding.js')
    const client = await this.kafka()
    const producer = new Producer(client, {
      acks: (this.flags.acks === 'all' ? -1 : Number(this.flags.acks)) as Acks,
      batchSize: this.flags['batch-size'],
      compression: this.flags.compression as CompressionName,
      idempotent: this.flags.idempotent,
      transactionalId,
      lingerMs: this.flags['linger-ms'],
      requestTimeoutMs: this.flags.timeout,
      deliveryTimeoutMs: Math.max(this.flags.timeout, 30_000),
    })
    // The topic (created by the broker if it auto-creates topics, as for Kafka's console producer), before reading any input.
    await this.withTimeout('reading metadata', client.topic(topic, {allowAutoCreate: true}))

    const separator = this.flags['key-separator'] === undefined ? undefined : Buffer.from(this.flags['key-separator'])
    const keyEncoding = this.flags['key-encoding'] as Encoding
    const valueEncoding = this.flags['value-encoding'] as Encoding
    const toRecord = (line: Buffer, lineNumber: number): ProducerRecord => {
      let key: Buffer | null = null
      let value = line
      if (separator) {
        const at = line.indexOf(separator)
        if (at >= 0) {
          key = line.subarray(0, at)
          value = line.subarray(at + separator.length)
        }
      }
      try {
        if (key !== null && keyEncoding !== 'text') key = encodeInput(key, keyEncoding)
        if (valueEncoding !== 'text') value = encodeInput(value, valueEncoding)
      } catch (error) {
        throw new KcliError(`line ${lineNumber}: not ${valueEncoding} (${(error as Error).message})`, 'usage', 1)
      }
      return {headers: headers.length > 0 ? headers : undefined, key, partition: this.flags.partition, topic: topic!, value}
    }

    const started = Date.now()
    if (interactive) return this.interactive(producer, topic, toRecord, started)

    const json = this.jsonEnabled()
    const records: ProducedRecord[] = []
    const counts = new Map<number, number>()
    let count = 0
    // Files (--file, or stdin redirected from one) are read 1 MiB at a time into one reused buffer:
    // push() copies each record into its batch before the next read. Pipes come through process.stdin.
    const {readLines, readReusingBuffer} = await import('../../lib/client/lines.js')
    let fd: number | undefined
    if (this.flags.file !== undefined) {
      try {
        fd = openSync(this.flags.file, 'r')
      } catch (error) {
        throw new UsageError(`--file: ${(error as Error).message}`)
      }
    }
    const input = fd !== undefined ? readReusingBuffer(fd) : stdinIsFile() ? readReusingBuffer(0) : process.stdin
    let failure: Error | undefined
    // Counted per batch; with --json also a callback per record, to keep its place in the output.
    producer.onBatch = ({count, error, partition}) => {
      if (error) failure ??= error
      else counts.set(partition, (counts.get(partition) ?? 0) + count)
    }
    const onAck = json
      ? (index: number) => (error: Error | null, metadata?: RecordMetadata) => {
          if (!error) records[index] = {offset: metadata!.offset, partition: metadata!.partition}
        }
      : () => undefined
    try {
      for await (const lines of readLines(input)) {
        for (const line of lines) {
          count++
          if (!producer.push(toRecord(line, count), onAck(count - 1))) await producer.waitForSpace()
        }
        if (failure) break
      }
    } catch (error) {
      // Bad input: what was read before it is still produced, as kafka-console-producer does —
      // except in a transaction, which is all or nothing.
      if (transactionalId !== undefined) await producer.abortTransaction().catch(() => undefined)
      else await producer.flush().catch(() => undefined)
      throw error
    } finally {
      if (fd !== undefined) closeSync(fd)
    }
    if (transactionalId === undefined) {
      await producer.flush()
    } else if (failure) {
      await producer.abortTransaction().catch(() => undefined)
    } else {
      await producer.commitTransaction()
    }
    if (failure) throw failure
    const elapsedMs = Date.now() - started
    const partitions = Object.fromEntries([...counts].sort((a, b) => a[0] - b[0]).map(([p, n]) => [String(p), n]))
    this.out.line(`produced ${count} record${count === 1 ? '' : 's'} to ${topic} in ${(elapsedMs / 1000).toFixed(2)} s${count > 0 ? ` (partitions ${Object.keys(partitions).join(',')})` : ''}`)
    return {topic, count, partitions, ...(json ? {records} : {}), elapsedMs}
  }

  /** On a terminal: the topic from a list (or typed when the cluster has none). */
  private async pickTopic(): Promise<string> {
    const {Admin} = await import('../../lib/client/admin.js')
    const admin = new Admin(await this.kafka())
    const metadata = await this.withTimeout('listing topics', admin.listTopics())
    const names = metadata.topics.filter((t) => !t.isInternal && t.errorCode === 0).map((t) => t.name).sort()
    const {input, search} = await import('@inquirer/prompts')
    if (names.length === 0) return input({message: 'Topic', required: true})
    return search({
      message: 'Topic',
      source: (term) => names.filter((n) => !term || n.includes(term)).map((n) => ({name: n, value: n})),
    })
  }

  /** Record after record from a prompt until an empty line (or Ctrl-D / Ctrl-C). */
  private async interactive(producer: Producer, topic: string, toRecord: (line: Buffer, n: number) => ProducerRecord, started: number): Promise<ProduceResult> {
    const {input} = await import('@inquirer/prompts')
    const c = this.out.color
    const separator = this.flags['key-separator']
    this.out.line(c.dim(`Producing to ${topic}. ${separator === undefined ? 'Type a value' : `Type key${separator}value`} and Enter; an empty line ends.`))
    const records: ProducedRecord[] = []
    const counts = new Map<number, number>()
    for (;;) {
      let line: string
      try {
        line = await input({message: '>'})
      } catch {
        break // Ctrl-C / Ctrl-D: end like an empty line
      }
      if (line === '') break
      const metadata = await producer.send(toRecord(Buffer.from(line), records.length + 1))
      records.push({offset: metadata.offset, partition: metadata.partition})
      counts.set(metadata.partition, (counts.get(metadata.partition) ?? 0) + 1)
      this.out.line(c.green(`✓ ${topic}-${metadata.partition}@${metadata.offset}`))
    }
    await producer.flush()
    this.out.line(`produced ${records.length} record${records.length === 1 ? '' : 's'} to ${topic}`)
    return {topic, count: records.length, partitions: Object.fromEntries([...counts].map(([p, n]) => [String(p), n])), records, elapsedMs: Date.now() - started}
  }
}
