// The producer: records are partitioned (partitioner.ts, as the Java client), gathered into one
// open batch per partition, and sent to the partition leaders.
//
// Batching: records are encoded into their partition's open batch as they come (batch-builder.ts);
// a batch is sealed when the next record could take it past batchSize bytes, and sent when sealed, when lingerMs has passed since its
// first record, or on flush(). One Produce request per leader holds at most one batch per
// partition and at most maxRequestSize bytes; up to maxInFlight requests per leader are pipelined.
//
// Ordering: up to maxInFlight batches per partition are in flight at once. With idempotence the
// broker keeps them in order even across retries; without it a retried batch may land after a
// later one, as with the Java client's max.in.flight.requests.per.connection > 1.
//
// Delivery: a partition error that is retriable (NOT_LEADER_OR_FOLLOWER, a lost connection, ...)
// puts the batch back at the front of its partition's queue, with fresh metadata when the leader
// moved, until deliveryTimeoutMs has passed since its first attempt; other errors fail the
// batch's records. With acks=0 nothing is acknowledged: offsets are -1.
//
// Idempotence (`idempotent: true`): InitProducerId gives a producer id and epoch; each partition's
// batches carry consecutive sequence numbers fixed when a batch is first sent, so a retried batch
// is sent with the same bytes and the broker drops duplicates (DUPLICATE_SEQUENCE_NUMBER counts as
// success). After a failed batch, later in-flight batches of the partition are answered
// OUT_OF_ORDER_SEQUENCE_NUMBER; they are retried in sequence order too.
//
// Flow control: push() returns false once more than bufferMemory bytes are waiting; the caller
// awaits waitForSpace(). send() is push() with a promise per record.
//
// push() is done with the record's bytes when it returns (they are encoded into the batch, or
// copied while the topic's metadata is being loaded), so a caller may reuse its buffers.

import {ApiKey} from '../protocol/generated/api-keys.js'
import {CompressionType} from '../records/batch.js'
import type {RecordHeader} from '../records/record.js'
import {BatchBuilder} from './batch-builder.js'
import {type KafkaClient, sleep} from './client.js'
import {ConnectionError, ErrorCode, isRetriable, isRetriableCode, isStaleMetadataCode, KafkaError} from './errors.js'
import {StickyPartitioner} from './partitioner.js'

export type Acks = -1 | 0 | 1
export const COMPRESSION_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
export type CompressionName = (typeof COMPRESSION_NAMES)[number]

export function compressionType(name: CompressionName): CompressionType {
  return COMPRESSION_NAMES.indexOf(name) as CompressionType
}

export interface ProducerOptions {
  /** -1 (all in-sync replicas, default), 1 (the leader), 0 (no acknowledgement). */
  acks?: Acks
  compression?: CompressionName
  /** How long a batch waits for more records. Default 5 ms (as the Java client since 4.0). */
  lingerMs?: number
  /** Bytes after which a batch is sealed. Default 1,000,000 (as librdkafka). */
  batchSize?: number
  /** Bytes of batches in one Produce request. Default 1 MiB. */
  maxRequestSize?: number
  /** Produce requests in flight per broker. Default 5. */
  maxInFlight?: number
  idempotent?: boolean
  /** The broker's wait for acks=-1. Default 30000 ms. */
  requestTimeoutMs?: number
  /** Give up on a record this long after its batch was first sent. Default 120000 ms. */
  deliveryTimeoutMs?: number
  /** Bytes of records waiting before push() asks the caller to wait. Default 32 MiB. */
  bufferMemory?: number
  /** Ask the broker to create a topic that does not exist (it does when auto.create.topics.enable). Default true, as the Java producer. */
  allowAutoTopicCreation?: boolean
  /**
   * Makes the producer transactional (implies idempotent): records go into a transaction that
   * commitTransaction() or abortTransaction() ends; the partitions written are added to it first.
   */
  transactionalId?: string
  /** transaction.timeout.ms: the coordinator aborts the transaction when it stays open longer. Default 60000. */
  transactionTimeoutMs?: number
  /** For tests: the partitioner's randomness. */
  random?: () => number
}

export interface ProducerRecord {
  topic: string
  partition?: number
  key?: Buffer | null
  value: Buffer | null
  headers?: RecordHeader[]
  /** ms since the epoch; default: when push() is called. */
  timestamp?: number
}

export interface RecordMetadata {
  topic: string
  partition: number
  /** -1 with acks=0. */
  offset: bigint
  /** The broker's append time for LogAppendTime topics, else the record's timestamp. */
  timestamp: bigint
}

export type DeliveryCallback = (error: Error | null, metadata?: RecordMetadata) => void

/** One acknowledged (or failed) batch, for callers that count per batch rather than per record. */
export interface BatchOutcome {
  topic: string
  partition: number
  /** Offset of the batch's first record; -1 with acks=0 or on error. */
  baseOffset: bigint
  /** Records in the batch. */
  count: number
  error: Error | null
}

/** Record bytes beyond key and value in the worst case (length, attributes, deltas, lengths). */
const RECORD_OVERHEAD = 30
const BATCH_OVERHEAD = 61

class Batch {
  /** The records, encoded as they are appended. */
  readonly builder = new BatchBuilder()
  state!: PartitionState
  /** Per record index, for records pushed with a callback (sparse; undefined when none was). */
  callbacks: (DeliveryCallback | undefined)[] | undefined
  /** The timestamps of records with callbacks, by index (for RecordMetadata). */
  timestamps: number[] | undefined
  /** Records pushed without a callback: their failure goes to flush(). */
  uncallbacked = 0
  /** Sum of the records' estimated sizes (what they count against bufferMemory). */
  estimated = 0
  size = BATCH_OVERHEAD
  sealed = false
  createdAt = Date.now()
  firstSentAt = 0
  attempts = 0
  /** Not before this time (a retried batch backs off). */
  retryAt = 0
  baseSequence = -1
  bytes: Promise<Buffer> | undefined
  encodedSize = 0

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}
}

interface PartitionState {
  topic: string
  topicState: TopicState
  partition: number
  queue: Batch[]
  inFlight: number
  nextSequence: number
}

/** Per topic: its partition count and the partitions with a leader (refreshed with the metadata), and the partitions' states. */
interface TopicState {
  name: string
  partitionCount: number
  available: number[]
  /** The metadata object these were computed from. */
  source: unknown
  partitions: (PartitionState | undefined)[]
}

export class Producer {
  readonly options: Required<Omit<ProducerOptions, 'random' | 'transactionalId'>>
  readonly transactionalId: string | null
  /** Partitions added to the open transaction (topic-partition keys). */
  private readonly txnPartitions = new Set<string>()
  private txnCoordinator: number | undefined
  private readonly partitioner: StickyPartitioner
  private readonly partitions = new Map<string, PartitionState>()
  private readonly topics = new Map<string, TopicState>()
  private readonly waitingForMetadata = new Map<string, {record: ProducerRecord; callback?: DeliveryCallback; size: number}[]>()
  private readonly inFlightByNode = new Map<number, number>()
  private producerId = -1n
  private producerEpoch = -1
  private idempotenceReady: Promise<void> | undefined
  private bufferedBytes = 0
  private outstandingBatches = 0
  private flushing = 0
  private senderScheduled = false
  private lingerTimer: NodeJS.Timeout | undefined
  private lingerDeadline = Number.POSITIVE_INFINITY
  private firstError: Error | undefined
  private idleWaiters: (() => void)[] = []
  private spaceWaiters: (() => void)[] = []
  private closed = false
  /** Called once per batch when it is acknowledged or given up on (after the records' callbacks). */
  onBatch: ((outcome: BatchOutcome) => void) | undefined

  constructor(
    readonly client: KafkaClient,
    options: ProducerOptions = {},
  ) {
    this.options = {
      acks: -1,
      compression: 'none',
      lingerMs: 5,
      batchSize: 1_000_000,
      maxRequestSize: 1_048_576,
      maxInFlight: 5,
      idempotent: false,
      requestTimeoutMs: 30_000,
      deliveryTimeoutMs: 120_000,
      bufferMemory: 32 * 1024 * 1024,
      allowAutoTopicCreation: true,
      transactionTimeoutMs: 60_000,
      ...definedOnly(options),
    }
    this.transactionalId = options.transactionalId ?? null
    if (this.transactionalId !== null) this.options.idempotent = true
    if (this.options.idempotent && this.options.acks !== -1) throw new Error('an idempotent producer needs acks=-1 (all)')
    this.partitioner = new StickyPartitioner(this.options.batchSize, options.random)
  }

  /** Produces one record; resolves when it is acknowledged. */
  send(record: ProducerRecord): Promise<RecordMetadata> {
    return new Promise((resolve, reject) => {
      this.push(record, (error, metadata) => (error ? reject(error) : resolve(metadata!)))
    })
  }

  /**
   * Queues one record. `callback` gets the outcome; without one, a failure is kept and thrown by
   * flush(). Returns false when the buffer is full: await waitForSpace() before pushing more.
   */
  push(record: ProducerRecord, callback?: DeliveryCallback): boolean {
    if (this.closed) throw new Error('producer is closed')
    const size = (record.key?.length ?? 0) + (record.value?.length ?? 0) + (record.headers ? headersSize(record.headers) : 0) + RECORD_OVERHEAD
    this.bufferedBytes += size
    if (record.timestamp === undefined) record.timestamp = Date.now()
    const waiting = this.waitingForMetadata.get(record.topic)
    const topic = waiting ? undefined : this.topicState(record.topic)
    if (!topic) {
      const copy = (b: Buffer | null | undefined) => (b ? Buffer.from(b) : b)
      const kept = {...record, headers: record.headers?.map((h) => ({key: h.key, value: copy(h.value) ?? null})), key: copy(record.key), value: copy(record.value) ?? null}
      const entry = {callback, record: kept, size}
      if (waiting) waiting.push(entry)
      else {
        this.waitingForMetadata.set(record.topic, [entry])
        this.loadTopic(record.topic)
      }
    } else {
      this.append(record, callback, size, topic)
    }
    return this.bufferedBytes < this.options.bufferMemory
  }

  /** The topic's partition count and available partitions, recomputed when its metadata changed. */
  private topicState(name: string): TopicState | undefined {
    const info = this.client.metadata.topic(name)
    if (!info) return undefined
    let state = this.topics.get(name)
    if (!state) {
      state = {available: [], name, partitionCount: 0, partitions: [], source: undefined}
      this.topics.set(name, state)
    }
    if (state.source !== info) {
      state.source = info
      state.partitionCount = info.partitions.length
      state.available = info.partitions.filter((p) => p.leaderId >= 0).map((p) => p.partition)
    }
    return state
  }

  /** Resolves when the buffer has room again. */
  waitForSpace(): Promise<void> {
    if (this.bufferedBytes < this.options.bufferMemory) return Promise.resolve()
    return new Promise((resolve) => this.spaceWaiters.push(resolve))
  }

  /** Sends everything buffered and waits for the acknowledgements; throws the first failure of a record pushed without callback. */
  async flush(): Promise<void> {
    this.flushing++
    try {
      for (const state of this.partitions.values()) {
        const last = state.queue.at(-1)
        if (last && !last.sealed) last.sealed = true
      }
      this.schedule()
      while (this.outstandingBatches > 0 || this.waitingForMetadata.size > 0) {
        await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
        for (const state of this.partitions.values()) {
          const last = state.queue.at(-1)
          if (last && !last.sealed) last.sealed = true
        }
        this.schedule()
      }
    } finally {
      this.flushing--
    }
    const error = this.firstError
    this.firstError = undefined
    if (error) throw error
  }

  /** Flushes, then stops accepting records. The client stays open (the caller owns it). */
  async close(): Promise<void> {
    try {
      await this.flush()
    } finally {
      this.closed = true
      clearTimeout(this.lingerTimer)
    }
  }

  private loadTopic(name: string): void {
    this.client.topic(name, {allowAutoCreate: this.options.allowAutoTopicCreation}).then(
      () => {
        const entries = this.waitingForMetadata.get(name) ?? []
        this.waitingForMetadata.delete(name)
        const state = this.topicState(name)!
        for (const e of entries) this.append(e.record, e.callback, e.size, state)
        this.notifyIdle()
      },
      (error: unknown) => {
        const entries = this.waitingForMetadata.get(name) ?? []
        this.waitingForMetadata.delete(name)
        for (const e of entries) this.fail(e.callback, error as Error, e.size)
        this.notifyIdle()
      },
    )
  }

  private append(record: ProducerRecord, callback: DeliveryCallback | undefined, size: number, topic: TopicState): void {
    const partitionCount = topic.partitionCount
    if (record.partition !== undefined && (record.partition < 0 || record.partition >= partitionCount)) {
      this.fail(callback, new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'UNKNOWN_TOPIC_OR_PARTITION', `partition ${record.partition} of ${record.topic} does not exist (it has ${partitionCount})`, {retriable: false}), size)
      return
    }
    const partition = this.partitioner.partition(topic, record.key, size, record.partition)
    let state = topic.partitions[partition]
    if (!state) {
      state = {inFlight: 0, nextSequence: 0, partition, queue: [], topic: record.topic, topicState: topic}
      topic.partitions[partition] = state
      this.partitions.set(`${record.topic}\u0000${partition}`, state)
    }
    let batch = state.queue.at(-1)
    if (!batch || batch.sealed || (batch.builder.count > 0 && batch.size + size > this.options.batchSize)) {
      if (batch && !batch.sealed) {
        batch.sealed = true
        this.schedule()
      }
      batch = new Batch(record.topic, partition)
      batch.state = state
      state.queue.push(batch)
      this.outstandingBatches++
      this.armLinger(batch.createdAt + this.options.lingerMs)
    }
    const index = batch.builder.count
    batch.builder.append(record.timestamp!, record.key ?? null, record.value, record.headers)
    if (callback) {
      ;(batch.callbacks ??= [])[index] = callback
      ;(batch.timestamps ??= [])[index] = record.timestamp!
    } else batch.uncallbacked++
    batch.estimated += size
    batch.size = batch.builder.sizeInBytes
    if (batch.size >= this.options.batchSize) {
      batch.sealed = true
      this.schedule()
    }
  }

  private armLinger(deadline: number): void {
    if (deadline >= this.lingerDeadline && this.lingerTimer) return
    clearTimeout(this.lingerTimer)
    this.lingerDeadline = deadline
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined
      this.lingerDeadline = Number.POSITIVE_INFINITY
      this.schedule()
    }, Math.max(0, deadline - Date.now()))
  }

  private schedule(): void {
    if (this.senderScheduled) return
    this.senderScheduled = true
    setImmediate(() => {
      this.senderScheduled = false
      this.runSender().catch((error: unknown) => {
        this.firstError ??= error as Error
      })
    })
  }

  /** Sends every ready batch its leader has room for. */
  private async runSender(): Promise<void> {
    if (this.options.idempotent && this.producerId < 0n) {
      this.idempotenceReady ??= this.initProducerId()
      try {
        await this.idempotenceReady
      } catch (error) {
        this.idempotenceReady = undefined
        this.failAll(error as Error)
        return
      }
    }
    if (this.transactionalId !== null) {
      // Every partition with a batch waiting joins the transaction before any of them is sent.
      // (Batches are picked and taken below without awaiting, so concurrent runs never take the
      // same batch.)
      try {
        await this.addToTransaction([...this.partitions.values()].flatMap((state) => (state.queue[0] ? [state.queue[0]] : [])))
      } catch (error) {
        this.failAll(error as Error)
        return
      }
    }
    const now = Date.now()
    const byNode = new Map<number, Batch[]>()
    let nextLinger = Number.POSITIVE_INFINITY
    let needsMetadata = false
    let notInTransaction = false
    for (const state of this.partitions.values()) {
      const batch = state.queue[0]
      if (!batch) continue
      if (this.transactionalId !== null && !this.txnPartitions.has(`${batch.topic}\u0000${batch.partition}`)) {
        notInTransaction = true // arrived while the partitions were being added: the next run adds it
        continue
      }
      if (batch.retryAt > now) {
        nextLinger = Math.min(nextLinger, batch.retryAt)
        continue
      }
      if (state.inFlight >= this.options.maxInFlight) continue
      // The first batch not yet in flight.
      const ready = batch.sealed || this.flushing > 0 || now >= batch.createdAt + this.options.lingerMs
      if (!ready) {
        nextLinger = Math.min(nextLinger, batch.createdAt + this.options.lingerMs)
        continue
      }
      const leader = this.client.metadata.leader(state.topic, state.partition)
      if (leader === undefined || this.client.metadata.isStale(state.topic, this.client.options.metadataMaxAgeMs)) {
        needsMetadata = true
        continue
      }
      const list = byNode.get(leader) ?? []
      list.push(batch)
      byNode.set(leader, list)
    }
    if (nextLinger !== Number.POSITIVE_INFINITY) this.armLinger(nextLinger)
    if (needsMetadata) this.refreshStale()
    if (notInTransaction) this.schedule()

    for (const [nodeId, batches] of byNode) {
      if ((this.inFlightByNode.get(nodeId) ?? 0) >= this.options.maxInFlight) continue
      const request: Batch[] = []
      let bytes = 0
      for (const batch of batches) {
        if (request.length > 0 && bytes + batch.size > this.options.maxRequestSize) continue
        request.push(batch)
        bytes += batch.size
      }
      for (const batch of request) this.takeForSending(batch)
      this.inFlightByNode.set(nodeId, (this.inFlightByNode.get(nodeId) ?? 0) + 1)
      this.sendRequest(nodeId, request).finally(() => {
        this.inFlightByNode.set(nodeId, (this.inFlightByNode.get(nodeId) ?? 1) - 1)
        this.schedule()
      })
    }
  }

  /** Removes the batch from its queue, fixes its sequence and starts encoding it. */
  private takeForSending(batch: Batch): void {
    const state = batch.state
    state.queue.shift()
    state.inFlight++
    batch.sealed = true
    if (batch.firstSentAt === 0) batch.firstSentAt = Date.now()
    batch.attempts++
    if (!batch.bytes) {
      if (this.options.idempotent) {
        batch.baseSequence = state.nextSequence
        state.nextSequence = (state.nextSequence + batch.builder.count) & 0x7fffffff
      }
      batch.bytes = batch.builder.build(compressionType(this.options.compression), {
        baseSequence: batch.baseSequence,
        producerEpoch: this.options.idempotent ? this.producerEpoch : -1,
        producerId: this.options.idempotent ? Number(this.producerId) : -1,
        isTransactional: this.transactionalId !== null,
      })
    }
  }

  private async sendRequest(nodeId: number, batches: Batch[]): Promise<void> {
    let response
    try {
      const encoded = await Promise.all(batches.map((b) => b.bytes!))
      const topics = new Map<string, {index: number; records: Buffer}[]>()
      batches.forEach((b, i) => {
        b.encodedSize = encoded[i]!.length
        const list = topics.get(b.topic) ?? []
        list.push({index: b.partition, records: encoded[i]!})
        topics.set(b.topic, list)
      })
      const connection = await this.client.connectionTo(nodeId)
      response = await connection.send(
        ApiKey.Produce,
        {
          acks: this.options.acks,
          timeoutMs: this.options.requestTimeoutMs,
          topicData: [...topics].map(([name, partitionData]) => ({name, partitionData})),
          transactionalId: this.transactionalId,
        },
        // Transactions here are version 1 (AddPartitionsToTxn before the first batch): Produce v12
        // means transaction version 2 to a Kafka 4.0 broker (KIP-890), so a transactional producer
        // stays at v11, as the Java producer does.
        {expectResponse: this.options.acks !== 0, maxVersion: this.transactionalId === null ? undefined : 11, timeoutMs: this.options.requestTimeoutMs + 5000},
      )
    } catch (error) {
      for (const batch of batches) this.retryOrFail(batch, error as Error)
      return
    }
    if (this.options.acks === 0) {
      for (const batch of batches) this.complete(batch, -1n, -1n)
      return
    }
    for (const batch of batches) {
      const partition = response.responses.find((t) => t.name === batch.topic)?.partitionResponses.find((p) => p.index === batch.partition)
      if (!partition) {
        this.retryOrFail(batch, new KafkaError(ErrorCode.NONE, 'NO_RESPONSE', `no response for ${batch.topic}-${batch.partition}`, {retriable: false}))
        continue
      }
      const code = partition.errorCode
      if (code === 0 || code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
        this.complete(batch, partition.baseOffset, partition.logAppendTimeMs)
        continue
      }
      if (isStaleMetadataCode(code)) this.client.metadata.markStale(batch.topic)
      const detail = partition.errorMessage ?? partition.recordErrors[0]?.batchIndexErrorMessage ?? null
      const retriable = isRetriableCode(code) || (this.options.idempotent && code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
      this.retryOrFail(batch, KafkaError.fromCode(code, detail ? `${batch.topic}-${batch.partition}: ${detail}` : `${batch.topic}-${batch.partition}`), retriable)
    }
  }

  private complete(batch: Batch, baseOffset: bigint, logAppendTime: bigint): void {
    const state = batch.state
    state.inFlight--
    const callbacks = batch.callbacks
    if (callbacks) {
      for (let i = 0; i < callbacks.length; i++) {
        const callback = callbacks[i]
        if (!callback) continue
        callback(null, {
          offset: baseOffset < 0n ? -1n : baseOffset + BigInt(i),
          partition: batch.partition,
          timestamp: logAppendTime >= 0n ? logAppendTime : BigInt(batch.timestamps![i]!),
          topic: batch.topic,
        })
      }
    }
    this.onBatch?.({baseOffset, count: batch.builder.count, error: null, partition: batch.partition, topic: batch.topic})
    this.finishBatch(batch)
  }

  private retryOrFail(batch: Batch, error: Error, retriable = isRetriable(error)): void {
    const state = batch.state
    state.inFlight--
    if (retriable && !this.closed && Date.now() - batch.firstSentAt < this.options.deliveryTimeoutMs) {
      // Back at the front, in sequence order, after a backoff.
      state.queue.unshift(batch)
      if (this.options.idempotent) state.queue.sort((a, b) => (a.baseSequence < 0 ? 1 : b.baseSequence < 0 ? -1 : a.baseSequence - b.baseSequence))
      if (error instanceof ConnectionError || (error instanceof KafkaError && isStaleMetadataCode(error.errorCode))) this.client.metadata.markStale(batch.topic)
      const backoff = Math.min(this.client.options.retryBackoffMs * 2 ** Math.min(batch.attempts - 1, 4), this.client.options.retryBackoffMaxMs)
      batch.retryAt = Date.now() + backoff
      sleep(backoff).then(() => {
        this.refreshStale()
        this.schedule()
      })
      return
    }
    for (const callback of batch.callbacks ?? []) if (callback) callback(error)
    if (batch.uncallbacked > 0) this.firstError ??= error
    this.onBatch?.({baseOffset: -1n, count: batch.builder.count, error, partition: batch.partition, topic: batch.topic})
    this.finishBatch(batch)
  }

  private finishBatch(batch: Batch): void {
    // Reuse the batch's buffer when nothing can still read it: with a response (acks 1 or all) the
    // request was written in full before the answer came, and an uncompressed batch has no
    // compression still reading it. (acks=0 and compressed batches leave theirs to the collector.)
    if (this.options.acks !== 0 && this.options.compression === 'none') batch.builder.release()
    this.outstandingBatches--
    this.bufferedBytes -= batch.estimated
    if (this.bufferedBytes < this.options.bufferMemory && this.spaceWaiters.length > 0) {
      const waiters = this.spaceWaiters
      this.spaceWaiters = []
      for (const resolve of waiters) resolve()
    }
    this.notifyIdle()
  }

  private notifyIdle(): void {
    if (this.idleWaiters.length === 0) return
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const resolve of waiters) resolve()
  }

  private fail(callback: DeliveryCallback | undefined, error: Error, size: number): void {
    this.bufferedBytes -= size
    if (callback) callback(error)
    else this.firstError ??= error
  }

  private failAll(error: Error): void {
    for (const state of this.partitions.values()) {
      const queue = state.queue.splice(0)
      for (const batch of queue) {
        for (const callback of batch.callbacks ?? []) if (callback) callback(error)
        if (batch.uncallbacked > 0) this.firstError ??= error
        this.finishBatch(batch)
      }
    }
  }

  private refreshing: Promise<unknown> | undefined
  /** Refreshes the metadata of topics marked stale or without a leader for a queued partition. */
  private refreshStale(): void {
    if (this.refreshing) return
    const topics = new Set<string>()
    for (const state of this.partitions.values()) {
      if (state.queue.length > 0 && this.client.metadata.needsRefresh(state.topic, this.client.options.metadataMaxAgeMs)) topics.add(state.topic)
    }
    if (topics.size === 0) return
    this.refreshing = this.client
      .refreshMetadata([...topics])
      .catch(() => undefined)
      .then(() => sleep(this.client.options.retryBackoffMs))
      .finally(() => {
        this.refreshing = undefined
        this.schedule()
      })
  }

  private async initProducerId(): Promise<void> {
    const response = await this.client.withRetries(async () => {
      const connection = this.transactionalId === null ? await this.client.anyConnection() : await this.coordinatorConnection()
      const r = await connection.send(ApiKey.InitProducerId, {
        producerEpoch: -1,
        producerId: -1n,
        transactionTimeoutMs: this.options.transactionTimeoutMs,
        transactionalId: this.transactionalId,
      })
      if (r.errorCode !== 0) throw this.coordinatorError(r.errorCode, 'InitProducerId')
      return r
    })
    this.producerId = response.producerId
    this.producerEpoch = response.producerEpoch
  }

  /** The transaction coordinator of this producer's transactional id (FindCoordinator, key type 1). */
  private async coordinatorConnection() {
    if (this.txnCoordinator === undefined) {
      const {TransactionsAdmin} = await import('./transactions.js')
      const found = (await new TransactionsAdmin(this.client).findCoordinators([this.transactionalId!], true)).get(this.transactionalId!)
      if (typeof found !== 'number') throw KafkaError.fromCode(found?.errorCode ?? ErrorCode.COORDINATOR_NOT_AVAILABLE, 'FindCoordinator')
      this.txnCoordinator = found
    }
    return this.client.connectionTo(this.txnCoordinator)
  }

  /** A coordinator's error; after NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE it is looked up again. */
  private coordinatorError(code: number, what: string): KafkaError {
    if (code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.COORDINATOR_NOT_AVAILABLE) this.txnCoordinator = undefined
    return KafkaError.fromCode(code, what)
  }

  /** AddPartitionsToTxn for the partitions of `batches` not yet in the open transaction. */
  private async addToTransaction(batches: readonly Batch[]): Promise<void> {
    const missing = new Map<string, Set<number>>()
    for (const b of batches) {
      if (this.txnPartitions.has(`${b.topic}\u0000${b.partition}`)) continue
      const set = missing.get(b.topic) ?? new Set<number>()
      set.add(b.partition)
      missing.set(b.topic, set)
    }
    if (missing.size === 0) return
    await this.client.withRetries(async () => {
      const connection = await this.coordinatorConnection()
      const topics = [...missing].map(([name, partitions]) => ({name, partitions: [...partitions]}))
      const r = await connection.send(ApiKey.AddPartitionsToTxn, {
        v3AndBelowTransactionalId: this.transactionalId!,
        v3AndBelowProducerId: this.producerId,
        v3AndBelowProducerEpoch: this.producerEpoch,
        v3AndBelowTopics: topics,
        transactions: [{transactionalId: this.transactionalId!, producerId: this.producerId, producerEpoch: this.producerEpoch, verifyOnly: false, topics}],
      }, {maxVersion: 3})
      for (const t of r.resultsByTopicV3AndBelow) {
        for (const p of t.resultsByPartition) {
          if (p.partitionErrorCode !== 0) throw this.coordinatorError(p.partitionErrorCode, `AddPartitionsToTxn ${t.name}-${p.partitionIndex}`)
        }
      }
    })
    for (const [topic, partitions] of missing) for (const p of partitions) this.txnPartitions.add(`${topic}\u0000${p}`)
  }

  /**
   * Gets the producer id and epoch now (InitProducerId), as the Java client's initTransactions():
   * for a transactional id this fences the previous producer with that id and completes (aborts)
   * its open transaction, so offsets it was committing are settled before this one reads them.
   */
  async initTransactions(): Promise<void> {
    if (this.transactionalId === null) throw new Error('not a transactional producer')
    if (this.producerId < 0n) {
      this.idempotenceReady ??= this.initProducerId()
      await this.idempotenceReady
    }
  }

  /**
   * Adds consumed offsets to the open transaction (AddOffsetsToTxn to the transaction coordinator,
   * then TxnOffsetCommit to the group coordinator): they are committed for the group if and only if
   * the transaction commits. `group` carries the consumer's generation and member id so that a
   * zombie member is fenced (versions 3+).
   */
  async sendOffsetsToTransaction(
    offsets: readonly {topic: string; partition: number; offset: bigint}[],
    group: {groupId: string; generationId?: number; memberId?: string; groupInstanceId?: string | null},
  ): Promise<void> {
    if (this.transactionalId === null) throw new Error('not a transactional producer')
    if (offsets.length === 0) return
    await this.initTransactions()
    await this.client.withRetries(async () => {
      const connection = await this.coordinatorConnection()
      const r = await connection.send(ApiKey.AddOffsetsToTxn, {groupId: group.groupId, producerEpoch: this.producerEpoch, producerId: this.producerId, transactionalId: this.transactionalId!})
      if (r.errorCode !== 0) throw this.coordinatorError(r.errorCode, 'AddOffsetsToTxn')
    })
    const byTopic = new Map<string, {committedLeaderEpoch: number; committedMetadata: string; committedOffset: bigint; partitionIndex: number}[]>()
    for (const o of offsets) {
      const list = byTopic.get(o.topic) ?? []
      list.push({committedLeaderEpoch: -1, committedMetadata: '', committedOffset: o.offset, partitionIndex: o.partition})
      byTopic.set(o.topic, list)
    }
    const {Admin} = await import('./admin.js')
    const admin = new Admin(this.client)
    const response = await admin.toCoordinator(
      group.groupId,
      (connection) =>
        connection.send(ApiKey.TxnOffsetCommit, {
          generationId: group.generationId ?? -1,
          groupId: group.groupId,
          groupInstanceId: group.groupInstanceId ?? null,
          memberId: group.memberId ?? '',
          producerEpoch: this.producerEpoch,
          producerId: this.producerId,
          topics: [...byTopic].map(([name, partitions]) => ({name, partitions})),
          transactionalId: this.transactionalId!,
        }),
      (r) => r.topics.flatMap((t) => t.partitions).find((p) => p.errorCode !== 0)?.errorCode ?? 0,
    )
    for (const t of response.topics) {
      for (const p of t.partitions) if (p.errorCode !== 0) throw KafkaError.fromCode(p.errorCode, `TxnOffsetCommit ${t.name}-${p.partitionIndex}`)
    }
  }

  /** Flushes, then commits the open transaction (transactional producers). */
  async commitTransaction(): Promise<void> {
    await this.flush()
    await this.endTransaction(true)
  }

  /** Aborts the open transaction: what it wrote is never seen by read_committed consumers. */
  async abortTransaction(): Promise<void> {
    await this.flush().catch(() => undefined)
    await this.endTransaction(false)
  }

  private async endTransaction(committed: boolean): Promise<void> {
    if (this.transactionalId === null) throw new Error('not a transactional producer')
    if (this.producerId < 0n) return // nothing was ever sent: no transaction is open
    await this.client.withRetries(async () => {
      const connection = await this.coordinatorConnection()
      const r = await connection.send(ApiKey.EndTxn, {transactionalId: this.transactionalId!, producerId: this.producerId, producerEpoch: this.producerEpoch, committed}, {maxVersion: 4})
      if (r.errorCode !== 0) throw this.coordinatorError(r.errorCode, committed ? 'EndTxn (commit)' : 'EndTxn (abort)')
    })
    this.txnPartitions.clear()
  }

  /** The producer id and epoch (idempotent producers), for tests and diagnostics. */
  get producerIdAndEpoch(): {producerId: bigint; producerEpoch: number} {
    return {producerEpoch: this.producerEpoch, producerId: this.producerId}
  }
}

/** `options` without its undefined members, so that they do not replace defaults. */
export function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>
}

function headersSize(headers: RecordHeader[] | undefined): number {
  if (!headers) return 0
  let size = 0
  for (const h of headers) size += Buffer.byteLength(h.key) + (h.value?.length ?? 0) + 10
  return size
}

