/**
 * A compacted topic read as a log of key/value updates (Kafka's KafkaBasedLog): a consumer
 * assigned to every partition from offset 0 hands each record to `onRecord` in offset order per
 * partition, in the background, for as long as the log runs; readToEnd() resolves once everything
 * written before the call has been handed over; send() appends and resolves once acknowledged by
 * all in-sync replicas. ensureTopic() creates the topic (compacted, with the given partitions and
 * replication factor) when it does not exist, as Connect's workers create their internal topics.
 */
import type {Logger} from 'pino'
import {type BrokerAddress} from '../../cli/bootstrap-server.js'
import {Admin} from '../../client/admin.js'
import {KafkaClient} from '../../client/client.js'
import {Consumer} from '../../client/consumer.js'
import {ErrorCode} from '../../client/errors.js'
import {Producer} from '../../client/producer.js'

export interface LogRecord {key: Buffer | null; value: Buffer | null; partition: number; offset: number}

export interface KafkaBasedLogOptions {
  bootstrapServers: BrokerAddress[]
  topic: string
  clientId: string
  logger: Logger
  onRecord: (record: LogRecord) => void
  /** read_committed (1) for the offsets topic, which exactly-once tasks write in transactions. */
  isolationLevel?: number
}

export interface TopicSettings {partitions: number; replicationFactor: number; configs?: Record<string, string>}

export class KafkaBasedLog {
  private readonly client: KafkaClient
  private consumer?: Consumer
  private producer?: Producer
  private loop?: Promise<void>
  private failure: Error | undefined
  private readonly waiters = new Set<() => void>()
  private partitions: number[] = []

  constructor(private readonly options: KafkaBasedLogOptions) {
    this.client = new KafkaClient({bootstrapServers: options.bootstrapServers, clientId: options.clientId})
  }

  get topic(): string { return this.options.topic }

  /** Creates the topic, compacted, when it is missing. */
  async ensureTopic(settings: TopicSettings): Promise<void> {
    const admin = new Admin(this.client)
    const [created] = await admin.createTopics([{configs: {'cleanup.policy': 'compact', ...settings.configs}, name: this.topic, numPartitions: settings.partitions, replicationFactor: settings.replicationFactor}])
    if (created && created.errorCode !== 0 && created.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) throw new Error(`Could not create the topic ${this.topic}: ${created.errorMessage ?? created.error}`)
    if (created?.errorCode === 0) this.options.logger.info(`Created topic ${this.topic} (${settings.partitions} partitions, compacted)`)
  }

  /** Starts reading from offset 0 of every partition; resolves once read to the end. */
  async start(): Promise<void> {
    const meta = await new Admin(this.client).describeTopics([this.topic])
    const topic = meta.topics.find(t => t.name === this.topic)
    if (!topic || topic.errorCode !== 0) throw new Error(`The topic ${this.topic} does not exist`)
    this.partitions = topic.partitions.map(p => p.partition).sort((a, b) => a - b)
    const consumer = new Consumer(this.client, {autoOffsetReset: 'earliest', isolationLevel: this.options.isolationLevel ?? 0, maxWaitMs: 200})
    consumer.assign(this.partitions.map(partition => ({offset: 0n, partition, topic: this.topic})))
    this.consumer = consumer
    this.loop = this.read(consumer)
    await this.readToEnd()
  }

  private async read(consumer: Consumer): Promise<void> {
    try {
      for await (const batch of consumer.batches()) {
        for (const r of batch.records) {
          try {
            this.options.onRecord({key: r.key, offset: r.offset, partition: batch.partition, value: r.value})
          } catch (error) {
            this.options.logger.warn({err: error}, `${this.topic}: a record at ${batch.partition}/${r.offset} could not be applied`)
          }
        }
        for (const w of [...this.waiters]) w()
      }
    } catch (error) {
      this.failure = error as Error
      this.options.logger.error({err: error}, `reading ${this.topic} failed`)
      for (const w of [...this.waiters]) w()
    }
  }

  /** The consumer's position per partition. */
  positions(): Map<number, bigint> {
    return new Map((this.consumer?.positions() ?? []).map(p => [p.partition, p.offset]))
  }

  /** Resolves once every record written before the call has been handed to onRecord (throws after `timeoutMs`). */
  async readToEnd(timeoutMs = 60_000): Promise<void> {
    const ends = await new Admin(this.client).listOffsets(this.partitions.map(partition => ({partition, timestamp: -1n, topic: this.topic})), {isolationLevel: this.options.isolationLevel ?? 0})
    const end = new Map(ends.map(l => [l.partition, l.offset]))
    const done = () => {
      const pos = this.positions()
      return this.partitions.every(p => (pos.get(p) ?? 0n) >= (end.get(p) ?? 0n))
    }
    const deadline = Date.now() + timeoutMs
    while (!done()) {
      if (this.failure) throw this.failure
      if (Date.now() > deadline) throw new Error(`reading ${this.topic} to its end took over ${timeoutMs} ms`)
      await new Promise<void>(resolve => {
        const w = () => { clearTimeout(timer); this.waiters.delete(w); resolve() }
        const timer = setTimeout(w, 100)
        this.waiters.add(w)
      })
    }
  }

  /** Appends a record (a null value is a tombstone) and resolves once acknowledged. */
  async send(key: string | Buffer, value: string | Buffer | null, partition?: number): Promise<void> {
    this.producer ??= new Producer(this.client, {acks: -1, lingerMs: 0})
    await this.producer.send({key: typeof key === 'string' ? Buffer.from(key) : key, topic: this.topic, value: typeof value === 'string' ? Buffer.from(value) : value, ...(partition === undefined ? {} : {partition})})
  }

  async stop(): Promise<void> {
    this.consumer?.stop()
    await this.loop?.catch(() => undefined)
    await this.producer?.close().catch(() => undefined)
    await this.consumer?.close().catch(() => undefined)
    await this.client.close()
  }
}
