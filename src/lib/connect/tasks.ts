/**
 * The task runtimes (Kafka's WorkerSourceTask / WorkerSinkTask) and their error handling
 * (RetryWithToleranceOperator, DeadLetterQueueReporter, LogReporter).
 *
 * Source: poll() -> transformation chain -> key/value converters -> producer. Each record is
 * remembered in submission order; its producer callback marks it acknowledged. Every
 * `offset.flush.interval.ms` the offsets of the longest acknowledged prefix (the latest per source
 * partition) are written to the offset store, then task.commit(). A record dropped by a transform or
 * skipped by `errors.tolerance=all` counts as acknowledged. With `exactly.once.source.support=enabled`
 * the producer is transactional (transactional.id `<group or 'connect'>-<connector>-<task>`) and
 * each poll()'s records and their offsets (as records of the Kafka offsets topic, Kafka's
 * key/value format) are one transaction (KIP-618's `transaction.boundary=poll`); the offset file
 * is written after the commit, and at start the worker reads the offsets topic (read_committed),
 * which wins over the file: a crash between the commit and the file write re-reads nothing.
 *
 * Sink: a consumer in group `connect-<connector>` subscribed to `topics` (or the topics matching
 * `topics.regex` at start); each fetched batch is converted (key, value) and transformed record by
 * record, then put() as one call; every `offset.flush.interval.ms`, and before a rebalance or stop,
 * flush(currentOffsets) and then the group commit of those offsets. Seeks a task asks for through
 * its context (open() after an assignment, or put()) are applied before the next fetch. Paused, the
 * consumer's partitions are paused (a batch fetched before the pause is fetched again after resume)
 * while the consumer stays in its group, following rebalances, as Kafka's WorkerSinkTask does.
 *
 * Errors: an operation failing with a RetriableException is retried with exponential backoff
 * (from 300 ms, at most `errors.retry.delay.max.ms`) until `errors.retry.timeout` (-1: forever).
 * Then, with `errors.tolerance=none` the task fails ("Tolerance exceeded in error handler", the
 * cause in its trace); with `all` the record is skipped, logged when `errors.log.enable`, and a sink
 * sends the original record to `errors.deadletterqueue.topic.name` (created by the task with
 * `errors.deadletterqueue.topic.replication.factor`), with Kafka's `__connect.errors.*` headers
 * when `errors.deadletterqueue.context.headers.enable`.
 */
import type {Logger} from 'pino'
import {type BrokerAddress} from '../cli/bootstrap-server.js'
import {Admin} from '../client/admin.js'
import {KafkaClient} from '../client/client.js'
import {Consumer} from '../client/consumer.js'
import {ErrorCode, KafkaError} from '../client/errors.js'
import {Producer} from '../client/producer.js'
import type {RecordHeader} from '../records/record.js'
import {ConnectException, type ConnectRecord, type OffsetMap, RetriableException, type SinkConnector, type SinkRecord, type SinkTask, type SourceConnector, type SourceRecord, type SourceTask} from './api.js'
import {listValue, TransformationChain} from './connector-config.js'
import {type Converter} from './converters.js'
import type {OffsetBackingStore} from './offset-store.js'

export type State = 'UNASSIGNED' | 'RUNNING' | 'PAUSED' | 'FAILED' | 'RESTARTING' | 'STOPPED'

export interface TaskEnvironment {
  connector: string
  task: number
  /** The connector's config (converters, transforms, errors.*). */
  connectorConfig: Record<string, string>
  taskConfig: Record<string, string>
  bootstrapServers: BrokerAddress[]
  keyConverter: Converter
  valueConverter: Converter
  chain: TransformationChain
  offsets: OffsetBackingStore
  flushIntervalMs: number
  logger: Logger
  /** Worker `producer.*` / `consumer.*` settings (prefix removed). */
  producerProps: Record<string, string>
  consumerProps: Record<string, string>
  /** Exactly-once source: the offsets topic and the transactional id prefix. */
  exactlyOnce?: {offsetTopic: string; transactionalIdPrefix: string}
}

/** Why a task failed, as Connect's status `trace` shows it: the exception, then its cause. */
export function traceOf(error: unknown): string {
  const e = error as Error & {cause?: unknown}
  let out = `${javaName(e)}: ${e?.message ?? String(error)}\n${stackLines(e)}`
  if (e?.cause) out += `\nCaused by: ${javaName(e.cause as Error)}: ${(e.cause as Error).message}\n${stackLines(e.cause as Error)}`
  return out
}

function javaName(e: Error | undefined): string {
  const n = e?.name ?? 'Error'
  const known: Record<string, string> = {
    ConnectException: 'org.apache.kafka.connect.errors.ConnectException',
    DataException: 'org.apache.kafka.connect.errors.DataException',
    RetriableException: 'org.apache.kafka.connect.errors.RetriableException',
    ConfigException: 'org.apache.kafka.common.config.ConfigException',
  }
  return known[n] ?? n
}

function stackLines(e: Error | undefined): string {
  return (e?.stack ?? '').split('\n').filter(l => l.trimStart().startsWith('at ')).map(l => '\t' + l.trim()).join('\n')
}

const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms))

type Stage = 'TRANSFORMATION' | 'KEY_CONVERTER' | 'VALUE_CONVERTER' | 'HEADER_CONVERTER' | 'TASK_PUT' | 'TASK_POLL'

interface Consumed {topic: string; partition: number; offset: number; timestamp: number; key: Buffer | null; value: Buffer | null; headers: RecordHeader[]}

/** RetryWithToleranceOperator with its reporters (log, dead letter queue). */
export class ErrorHandler {
  readonly tolerance: 'none' | 'all'
  private readonly retryTimeout: number
  private readonly maxDelay: number
  private readonly logEnable: boolean
  private readonly logMessages: boolean
  private dlq?: {topic: string; producer: Producer; headers: boolean}
  /** Records skipped under errors.tolerance=all (for tests and the status log). */
  skipped = 0

  constructor(private readonly env: TaskEnvironment) {
    const c = env.connectorConfig
    this.tolerance = (c['errors.tolerance'] ?? 'none').toLowerCase() === 'all' ? 'all' : 'none'
    this.retryTimeout = Number(c['errors.retry.timeout'] ?? 0)
    this.maxDelay = Number(c['errors.retry.delay.max.ms'] ?? 60000)
    this.logEnable = (c['errors.log.enable'] ?? 'false').toLowerCase() === 'true'
    this.logMessages = (c['errors.log.include.messages'] ?? 'false').toLowerCase() === 'true'
  }

  /** Sink connectors: creates the DLQ topic when missing and a producer for it. */
  async initDeadLetterQueue(client: KafkaClient): Promise<void> {
    const c = this.env.connectorConfig
    const topic = (c['errors.deadletterqueue.topic.name'] ?? '').trim()
    if (topic === '') return
    const admin = new Admin(client)
    const [result] = await admin.createTopics([{name: topic, numPartitions: 1, replicationFactor: Number(c['errors.deadletterqueue.topic.replication.factor'] ?? 3)}])
    if (result && result.errorCode !== 0 && result.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
      throw new ConnectException(`Could not initialize dead letter queue with topic=${topic}`, {cause: new Error(result.errorMessage ?? result.error)})
    }
    this.dlq = {topic, producer: new Producer(client, {lingerMs: 0}), headers: (c['errors.deadletterqueue.context.headers.enable'] ?? 'false').toLowerCase() === 'true'}
  }

  /** Runs `fn`: its value, or `undefined` when the failure is tolerated (the record is skipped); throws when it is not. */
  async run<T>(stage: Stage, className: string, fn: () => T, consumed?: Consumed, record?: ConnectRecord): Promise<{value: T} | undefined> {
    const started = Date.now()
    let delay = 300
    for (;;) {
      try {
        return {value: fn()}
      } catch (error) {
        if (error instanceof RetriableException && (this.retryTimeout < 0 || Date.now() - started + delay <= this.retryTimeout)) {
          await sleep(delay)
          delay = Math.min(delay * 2, this.maxDelay)
          continue
        }
        await this.failed(stage, className, error as Error, consumed, record)
        return undefined
      }
    }
  }

  /** A failed operation: thrown on as "Tolerance exceeded" with none, reported and skipped with all. */
  async failed(stage: Stage, className: string, error: Error, consumed?: Consumed, record?: ConnectRecord): Promise<void> {
    if (this.logEnable || this.tolerance === 'none') {
      const where = consumed ? `, where consumed record is {topic='${consumed.topic}', partition=${consumed.partition}, offset=${consumed.offset}, timestamp=${consumed.timestamp}, timestampType=CreateTime}` : record && 'sourcePartition' in record ? `, where source record is = ${this.logMessages ? JSON.stringify(record) : `{topic='${record.topic}'}`}` : ''
      if (this.logEnable) this.env.logger.error({err: error}, `Error encountered in task ${this.env.connector}-${this.env.task}. Executing stage '${stage}' with class '${className}'${where}.`)
    }
    if (this.tolerance === 'none') throw new ConnectException('Tolerance exceeded in error handler', {cause: error})
    this.skipped++
    if (this.dlq && consumed) {
      const headers = [...consumed.headers]
      if (this.dlq.headers) {
        const h = (key: string, value: string | number) => headers.push({key: `__connect.errors.${key}`, value: Buffer.from(String(value))})
        h('topic', consumed.topic)
        h('partition', consumed.partition)
        h('offset', consumed.offset)
        h('connector.name', this.env.connector)
        h('task.id', this.env.task)
        h('stage', stage)
        h('class.name', className)
        h('exception.class.name', javaName(error))
        h('exception.message', error.message)
        h('exception.stacktrace', traceOf(error))
      }
      await this.dlq.producer.send({topic: this.dlq.topic, key: consumed.key, value: consumed.value, headers, timestamp: consumed.timestamp})
    }
  }

  async close(): Promise<void> {
    await this.dlq?.producer.close().catch(() => undefined)
  }
}

/** What both task kinds share: state, pause/resume, stop, failure with a trace. */
export abstract class TaskRuntime {
  state: State = 'UNASSIGNED'
  trace: string | null = null
  protected stopping = false
  protected paused = false
  private resumeWaiters: Array<() => void> = []
  private done: Promise<void> | undefined
  protected readonly errors: ErrorHandler

  constructor(readonly env: TaskEnvironment) {
    this.errors = new ErrorHandler(env)
  }

  get id(): {connector: string; task: number} { return {connector: this.env.connector, task: this.env.task} }

  start(paused: boolean): void {
    this.paused = paused
    this.done = this.execute()
  }

  private async execute(): Promise<void> {
    try {
      await this.run()
      if (this.state !== 'FAILED') this.state = 'UNASSIGNED'
    } catch (error) {
      this.state = 'FAILED'
      this.trace = traceOf(error)
      this.env.logger.error({err: error}, `${this.env.connector}-${this.env.task} Task threw an uncaught and unrecoverable exception. Task is being killed and will not recover until manually restarted`)
    } finally {
      await this.cleanup().catch(error => this.env.logger.warn({err: error}, `${this.env.connector}-${this.env.task} cleanup failed`))
    }
  }

  protected abstract run(): Promise<void>
  protected abstract cleanup(): Promise<void>
  /** Wakes a loop blocked in the task or client (stop). */
  protected abstract interrupt(): void

  pause(): void {
    this.paused = true
    if (this.state === 'RUNNING') this.state = 'PAUSED'
  }

  resume(): void {
    this.paused = false
    if (this.state === 'PAUSED') this.state = 'RUNNING'
    for (const w of this.resumeWaiters.splice(0)) w()
  }

  /** While paused: PAUSED, waiting for resume() or stop(). */
  protected async waitWhilePaused(): Promise<void> {
    while (this.paused && !this.stopping) {
      this.state = 'PAUSED'
      await new Promise<void>(resolve => this.resumeWaiters.push(resolve))
    }
    if (!this.stopping && this.state === 'PAUSED') this.state = 'RUNNING'
  }

  /** Stops the loop and waits for it (at most `timeoutMs`, then gives up on it as Kafka's task.shutdown.graceful.timeout.ms). */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopping = true
    for (const w of this.resumeWaiters.splice(0)) w()
    this.interrupt()
    if (!this.done) return
    let timer: NodeJS.Timeout | undefined
    let finished = false
    await Promise.race([this.done.then(() => { finished = true }), new Promise<void>(resolve => { timer = setTimeout(resolve, timeoutMs) })])
    clearTimeout(timer)
    if (!finished) {
      this.env.logger.warn(`${this.env.connector}-${this.env.task} did not stop within ${timeoutMs} ms; abandoned`)
      this.abandon()
    }
  }

  /** The loop did not stop in time: cut what it is blocked in, so that it cannot write after its replacement started. */
  protected abandon(): void {}
}

function clientFor(env: TaskEnvironment, suffix: string): KafkaClient {
  return new KafkaClient({bootstrapServers: env.bootstrapServers, clientId: `connector-${suffix}-${env.connector}-${env.task}`})
}

interface Submitted {key: string; partition: OffsetMap; offset: OffsetMap; acked: boolean}

export class SourceTaskRuntime extends TaskRuntime {
  private task?: SourceTask
  private client?: KafkaClient
  private producer?: Producer
  private producerError: Error | undefined
  private submitted: Submitted[] = []
  private head = 0
  private lastCommit = Date.now()

  constructor(env: TaskEnvironment, private readonly connector: SourceConnector) {
    super(env)
  }

  protected interrupt(): void {
    // A task blocked in poll() returns once stop() is called (SourceTask's contract).
    void Promise.resolve(this.task?.stop()).catch(() => undefined)
  }

  protected async run(): Promise<void> {
    const env = this.env
    this.client = clientFor(env, 'producer')
    const eos = env.exactlyOnce
    this.producer = new Producer(this.client, {
      lingerMs: Number(env.producerProps['linger.ms'] ?? 5),
      ...(eos ? {transactionalId: `${eos.transactionalIdPrefix}-${env.connector}-${env.task}`} : {}),
    })
    if (eos) await this.producer.initTransactions()
    this.task = this.connector.createTask()
    this.task.initialize({offsetStorageReader: {offset: (partition) => env.offsets.get(env.connector, partition)}})
    await this.task.start(env.taskConfig)
    this.state = this.paused ? 'PAUSED' : 'RUNNING'
    env.logger.info(`${env.connector}-${env.task} Source task finished initialization and start`)
    while (!this.stopping) {
      await this.waitWhilePaused()
      if (this.stopping) break
      const records = await this.task.poll().catch((error: unknown) => {
        if (this.stopping) return null // stop() closed what poll() was reading
        throw error
      })
      if (this.stopping) break
      if (records && records.length > 0) await this.send(records)
      if (this.producerError) throw this.producerError
      if (eos) await this.commitTransaction()
      else if (Date.now() - this.lastCommit >= env.flushIntervalMs) await this.commitOffsets()
    }
  }

  private async send(records: SourceRecord[]): Promise<void> {
    const env = this.env
    const producer = this.producer!
    for (const original of records) {
      const partitionKey = JSON.stringify(original.sourcePartition)
      let record: SourceRecord | null = original
      for (const link of env.chain.links) {
        const r: SourceRecord = record
        const out = await this.errors.run('TRANSFORMATION', link.className, () => TransformationChain.applyLink(link, r), undefined, r)
        record = out === undefined ? null : out.value
        if (record === null) break
      }
      const entry: Submitted = {key: partitionKey, partition: original.sourcePartition, offset: original.sourceOffset, acked: true}
      this.submitted.push(entry)
      if (record === null) { this.commitRecord(original, null); continue }
      const r = record
      const key = await this.errors.run('KEY_CONVERTER', converterName(env.keyConverter), () => env.keyConverter.fromConnectData(r.topic, r.keySchema ?? null, r.key ?? null), undefined, r)
      if (!key) { this.commitRecord(original, null); continue }
      const value = await this.errors.run('VALUE_CONVERTER', converterName(env.valueConverter), () => env.valueConverter.fromConnectData(r.topic, r.valueSchema, r.value), undefined, r)
      if (!value) { this.commitRecord(original, null); continue }
      entry.acked = false
      const ok = producer.push({topic: r.topic, ...(r.partition === null || r.partition === undefined ? {} : {partition: r.partition}), key: key.value, value: value.value, headers: r.headers, ...(r.timestamp === null || r.timestamp === undefined ? {} : {timestamp: r.timestamp})}, (error, metadata) => {
        if (error) this.producerError ??= new ConnectException(`Unrecoverable exception from producer send callback`, {cause: error})
        else {
          entry.acked = true
          this.commitRecord(original, metadata!)
        }
      })
      if (!ok) await producer.waitForSpace()
    }
  }

  /**
   * SourceTask.commitRecord as Kafka's worker calls it: with the record as poll() returned it, once
   * the producer acknowledged it (its topic, partition and offset), or with null metadata when a
   * transform dropped it or a tolerated converter error skipped it. A failure is logged, not fatal.
   */
  private commitRecord(record: SourceRecord, metadata: {topic: string; partition: number; offset: bigint} | null): void {
    const task = this.task
    if (!task?.commitRecord) return
    const logFailure = (error: unknown) => this.env.logger.error({err: error}, `${this.env.connector}-${this.env.task} Exception thrown while calling task.commitRecord()`)
    try {
      void Promise.resolve(task.commitRecord(record, metadata)).catch(logFailure)
    } catch (error) {
      logFailure(error)
    }
  }

  /** The latest offset per source partition among the acknowledged prefix; drops that prefix. */
  private takeCommittable(): Array<{partition: OffsetMap; offset: OffsetMap}> {
    const latest = new Map<string, Submitted>()
    while (this.head < this.submitted.length && this.submitted[this.head]!.acked) {
      const s = this.submitted[this.head++]!
      latest.set(s.key, s)
    }
    if (this.head > 10_000 || this.head === this.submitted.length) {
      this.submitted = this.submitted.slice(this.head)
      this.head = 0
    }
    return [...latest.values()].map(s => ({partition: s.partition, offset: s.offset}))
  }

  private async commitOffsets(): Promise<void> {
    this.lastCommit = Date.now()
    const entries = this.takeCommittable()
    if (entries.length === 0) return
    await this.env.offsets.set(this.env.connector, entries)
    await this.task?.commit?.()
  }

  /** Exactly-once: this poll's records and their offsets in one transaction; the offset file after it. */
  private async commitTransaction(): Promise<void> {
    const entries: Array<{partition: OffsetMap; offset: OffsetMap}> = []
    const latest = new Map<string, Submitted>()
    for (let i = this.head; i < this.submitted.length; i++) latest.set(this.submitted[i]!.key, this.submitted[i]!)
    this.submitted = []
    this.head = 0
    if (latest.size === 0) return
    for (const s of latest.values()) entries.push({partition: s.partition, offset: s.offset})
    const producer = this.producer!
    for (const e of entries) {
      producer.push({topic: this.env.exactlyOnce!.offsetTopic, key: Buffer.from(JSON.stringify([this.env.connector, e.partition])), value: Buffer.from(JSON.stringify(e.offset))})
    }
    await producer.commitTransaction()
    if (this.producerError) throw this.producerError
    await this.env.offsets.committed(this.env.connector, entries)
    await this.task?.commit?.()
  }

  protected async cleanup(): Promise<void> {
    this.stopping = true
    try {
      if (this.producer && !this.env.exactlyOnce && this.state !== 'FAILED') {
        let timer: NodeJS.Timeout | undefined
        await Promise.race([this.producer.flush().catch(() => undefined), new Promise(resolve => { timer = setTimeout(resolve, 5000) })])
        clearTimeout(timer)
        await this.commitOffsets()
      } else if (this.producer && this.env.exactlyOnce) {
        await this.producer.abortTransaction().catch(() => undefined)
      }
    } finally {
      await Promise.resolve(this.task?.stop()).catch(() => undefined)
      this.env.chain.close()
      await this.errors.close()
      await this.client?.close()
    }
  }
}

export class SinkTaskRuntime extends TaskRuntime {
  private task?: SinkTask
  private client?: KafkaClient
  private consumer?: Consumer
  private assignment: Array<{topic: string; partition: number}> = []
  private seeks: Array<{topic: string; partition: number; offset: number}> = []
  private readonly current = new Map<string, number>()
  private lastCommit = Date.now()
  /** The offsets last committed (JSON of `current`'s entries), since the latest assignment. */
  private lastCommitted = ''
  /** Records put (for tests and figures). */
  put = 0

  constructor(env: TaskEnvironment, private readonly connector: SinkConnector) {
    super(env)
  }

  protected interrupt(): void {
    this.consumer?.stop()
  }

  /** A put() still running (e.g. retrying a database) is cut by the task's stop(): its records come again to the next owner. */
  protected override abandon(): void {
    void Promise.resolve(this.task?.stop()).catch(() => undefined)
  }

  /** Paused, the consumer keeps its group membership (rebalances, heartbeats) and fetches nothing. */
  override pause(): void {
    super.pause()
    for (const p of this.assignment) this.consumer?.pause(p.topic, p.partition)
  }

  override resume(): void {
    for (const p of this.assignment) this.consumer?.resume(p.topic, p.partition)
    super.resume()
  }

  protected async run(): Promise<void> {
    const env = this.env
    this.client = clientFor(env, 'consumer')
    await this.errors.initDeadLetterQueue(this.client)
    this.task = this.connector.createTask()
    this.task.initialize?.({
      assignment: () => [...this.assignment],
      offset: (topic, partition, offset) => { this.seeks.push({offset, partition, topic}) },
    })
    await this.task.start(env.taskConfig)
    const c = env.consumerProps
    const consumer = new Consumer(this.client, {
      autoOffsetReset: (c['auto.offset.reset'] as 'earliest' | 'latest' | 'none' | undefined) ?? 'earliest',
      isolationLevel: c['isolation.level'] === 'read_committed' ? 1 : 0,
      group: {groupId: `connect-${env.connector}`, ...(c['session.timeout.ms'] ? {sessionTimeoutMs: Number(c['session.timeout.ms'])} : {}), ...(c['heartbeat.interval.ms'] ? {heartbeatIntervalMs: Number(c['heartbeat.interval.ms'])} : {})},
    })
    this.consumer = consumer
    let topics = listValue(env.connectorConfig.topics)
    const regex = env.connectorConfig['topics.regex'] ?? ''
    if (topics.length === 0 && regex !== '') {
      const re = new RegExp(`^(?:${regex})$`)
      topics = (await new Admin(this.client).listTopics()).topics.filter(t => !t.isInternal && re.test(t.name)).map(t => t.name)
    }
    consumer.subscribe(topics)
    consumer.onAssign = async (partitions) => {
      this.assignment = partitions.map(p => ({partition: p.partition, topic: p.topic}))
      this.lastCommitted = ''
      env.logger.debug(`${env.connector}-${env.task} assigned ${partitions.map(p => `${p.topic}-${p.partition}@${p.offset}`).join(', ') || 'nothing'}`)
      // Offsets of partitions this task no longer owns are not committed again (they would move another task's back).
      const owned = new Set(this.assignment.map(p => `${p.topic}:${p.partition}`))
      for (const k of [...this.current.keys()]) if (!owned.has(k)) this.current.delete(k)
      if (this.paused) for (const p of this.assignment) consumer.pause(p.topic, p.partition)
      await this.task!.open?.(this.assignment)
      this.applySeeks()
    }
    consumer.onRevoke = async () => {
      // A commit refused because this member already lost its generation (e.g. paused or busy past the session) is
      // not the task's failure: the records come again to whoever gets the partitions (Kafka logs it and goes on).
      await this.flushAndCommit().catch((error: unknown) => {
        if (!(error instanceof KafkaError) || !([ErrorCode.REBALANCE_IN_PROGRESS, ErrorCode.ILLEGAL_GENERATION, ErrorCode.UNKNOWN_MEMBER_ID] as number[]).includes(error.errorCode)) throw error
        env.logger.warn(`${env.connector}-${env.task} offset commit before a rebalance failed: ${error.message}`)
      })
    }
    this.state = this.paused ? 'PAUSED' : 'RUNNING'
    env.logger.info(`${env.connector}-${env.task} Sink task finished initialization and start`)
    for await (const batch of consumer.batches()) {
      if (this.stopping) break
      if (this.paused) {
        // Fetched before the pause: fetched again after resume().
        if (batch.records.length > 0) consumer.seek(batch.topic, batch.partition, BigInt(batch.records[0]!.offset))
        continue
      }
      if (batch.records.length > 0) {
        const records: SinkRecord[] = []
        for (const r of batch.records) {
          const consumed: Consumed = {headers: r.headers, key: r.key, offset: r.offset, partition: batch.partition, timestamp: r.timestamp, topic: batch.topic, value: r.value}
          const key = await this.errors.run('KEY_CONVERTER', converterName(env.keyConverter), () => env.keyConverter.toConnectData(batch.topic, r.key), consumed)
          if (!key) continue
          const value = await this.errors.run('VALUE_CONVERTER', converterName(env.valueConverter), () => env.valueConverter.toConnectData(batch.topic, r.value), consumed)
          if (!value) continue
          let record: SinkRecord | null = {headers: r.headers, kafkaOffset: r.offset, kafkaPartition: batch.partition, key: key.value.value, keySchema: key.value.schema, timestamp: r.timestamp, topic: batch.topic, value: value.value.value, valueSchema: value.value.schema}
          for (const link of env.chain.links) {
            const rec: SinkRecord = record
            const out = await this.errors.run('TRANSFORMATION', link.className, () => TransformationChain.applyLink(link, rec), consumed)
            record = out === undefined ? null : out.value
            if (record === null) break
          }
          if (record) records.push(record)
        }
        if (records.length > 0) {
          await this.putWithRetry(records)
          this.put += records.length
          if (env.logger.isLevelEnabled('debug')) env.logger.debug(`${env.connector}-${env.task} put ${records.length} record(s) of ${batch.topic}-${batch.partition} at ${records[0]!.kafkaOffset}..${records.at(-1)!.kafkaOffset}`)
        }
      }
      this.current.set(`${batch.topic}:${batch.partition}`, Number(batch.nextOffset))
      this.applySeeks()
      if (Date.now() - this.lastCommit >= env.flushIntervalMs) await this.flushAndCommit()
    }
  }

  /** put(), retried while it throws RetriableException (Kafka redelivers the batch). */
  private async putWithRetry(records: SinkRecord[]): Promise<void> {
    let delay = 300
    for (;;) {
      try {
        await this.task!.put(records)
        return
      } catch (error) {
        if (!(error instanceof RetriableException) || this.stopping) throw error
        await sleep(delay)
        delay = Math.min(delay * 2, 10_000)
      }
    }
  }

  private applySeeks(): void {
    for (const s of this.seeks.splice(0)) {
      this.consumer?.seek(s.topic, s.partition, BigInt(s.offset))
      this.current.delete(`${s.topic}:${s.partition}`)
    }
  }

  private async flushAndCommit(): Promise<void> {
    this.lastCommit = Date.now()
    if (this.current.size === 0 || !this.task) return
    const offsets = new Map(this.current)
    await this.task.flush(offsets)
    // As Kafka's WorkerSinkTask: no commit when nothing moved since the last one (of this assignment).
    const signature = JSON.stringify([...offsets])
    if (signature === this.lastCommitted) return
    if (this.env.logger.isLevelEnabled('debug')) this.env.logger.debug(`${this.env.connector}-${this.env.task} committing ${[...offsets].map(([k, o]) => `${k.replace(':', '-')}@${o}`).join(', ')}`)
    await this.consumer!.commit([...offsets].map(([k, offset]) => {
      const i = k.lastIndexOf(':')
      return {offset: BigInt(offset), partition: Number(k.slice(i + 1)), topic: k.slice(0, i)}
    }))
    this.lastCommitted = signature
  }

  protected async cleanup(): Promise<void> {
    try {
      if (this.state !== 'FAILED') await this.flushAndCommit().catch(error => this.env.logger.warn({err: error}, `${this.env.connector}-${this.env.task} commit at stop failed`))
      await this.consumer?.close()
    } finally {
      await Promise.resolve(this.task?.stop()).catch(() => undefined)
      this.env.chain.close()
      await this.errors.close()
      await this.client?.close()
    }
  }
}

function converterName(c: Converter): string {
  const n = c.constructor.name
  return n === 'JsonConverter' ? 'org.apache.kafka.connect.json.JsonConverter' : n === 'StringConverter' ? 'org.apache.kafka.connect.storage.StringConverter' : n === 'ByteArrayConverter' ? 'org.apache.kafka.connect.converters.ByteArrayConverter' : n
}
