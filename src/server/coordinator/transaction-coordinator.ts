/**
 * TransactionCoordinator: the transaction coordinator of a single broker (Kafka's
 * TransactionCoordinator + TransactionStateManager + TransactionMarkerChannelManager, with the
 * marker "channel" being a local append, since this broker leads every partition).
 *
 * State: one TransactionMetadata per transactional id, persisted in __transaction_state
 * (transaction-log.ts formats; compacted; transaction.state.log.num.partitions partitions; the
 * id's partition is Kafka's partitionFor) before any answer depends on it, and rebuilt from it on
 * start. A transaction found in PrepareCommit/PrepareAbort on start is completed (markers
 * written again — harmless: a marker for a producer with no open transaction changes nothing);
 * one found Ongoing is aborted once its timeout passes, like every other.
 *
 * Transitions (Kafka's): Empty/CompleteCommit/CompleteAbort --AddPartitions--> Ongoing
 * --EndTxn--> PrepareCommit|PrepareAbort --markers written--> CompleteCommit|CompleteAbort.
 * InitProducerId bumps the epoch (fencing the previous producer: its requests get
 * PRODUCER_FENCED, its produce INVALID_PRODUCER_EPOCH from the log) and aborts an Ongoing
 * transaction first, with a fenced epoch; the producer id and epoch a client passes (KIP-360)
 * are checked by Kafka's rules (see initProducerId). A timed-out transaction is aborted with a
 * fenced epoch too, so the zombie is fenced.
 *
 * Concurrency: requests for one transactional id run one at a time (a promise chain per id);
 * different ids run concurrently. Markers go to the partitions' logs through the normal append
 * lock with origin 'coordinator'.
 *
 * Not implemented: transactions v2 (KIP-890 part 2: epoch bump per transaction), transactional
 * id expiration (transactional.id.expiration.ms), coordinator epochs other than 0.
 */
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {iterateBatches} from '../../lib/records/batch.js'
import {ControlRecordType, buildRecordBatch, decodeRecordBatch, endTransactionMarkerRecord} from '../../lib/records/record.js'
import type {ResolvedBrokerConfig} from '../../lib/config/broker-configs.js'
import type {MetadataStore} from '../controller/metadata-store.js'
import type {ProducerIdManager} from '../controller/producer-id-manager.js'
import {TopicError, type TopicManager} from '../controller/topic-manager.js'
import type {Logger} from '../logger.js'
import type {ReplicaManager} from '../replica-manager.js'
import {OFFSETS_TOPIC} from './coordinator-log.js'
import type {GroupCoordinator} from './group-coordinator.js'
import {partitionForGroup} from './records.js'
import {TransactionOffsets, type TxnOffset} from './transaction-offsets.js'
import {
  TRANSACTION_STATE_TOPIC,
  TransactionState,
  decodeTransactionLogKey,
  decodeTransactionLogValue,
  encodeTransactionLogKey,
  encodeTransactionLogValue,
  transactionStatePartition,
  type TransactionLogValue,
} from './transaction-log.js'

/** RecordBatch.NO_PRODUCER_ID / NO_PRODUCER_EPOCH. */
const NO_PRODUCER_ID = -1
const NO_PRODUCER_EPOCH = -1

/** Kafka's TransactionMetadata.isEpochExhausted: from Short.MaxValue - 1 on, InitProducerId starts a new producer id. */
function isEpochExhausted(producerEpoch: number): boolean {
  return producerEpoch >= 32766
}
const DEFAULT_SEGMENT_BYTES = 100 * 1024 * 1024
/** transaction.abort.timed.out.transaction.cleanup.interval.ms (Kafka's default). */
export const DEFAULT_ABORT_INTERVAL_MS = 10_000
/** The coordinator epoch written into markers (one broker, never moves). */
const COORDINATOR_EPOCH = 0

export interface TransactionMetadata {
  transactionalId: string
  producerId: number
  /** The producer id before the last change of id (epoch exhaustion), -1 if none. */
  lastProducerId: number
  producerEpoch: number
  lastProducerEpoch: number
  txnTimeoutMs: number
  state: TransactionState
  /** `topic` -> partitions in the transaction. */
  partitions: Map<string, Set<number>>
  txnStartTimestamp: number
  txnLastUpdateTimestamp: number
}

/** Errors of the transaction APIs: a Kafka error name. */
export class TransactionError extends Error {
  constructor(readonly code: keyof typeof ErrorCode, message?: string) {
    super(message ?? code)
  }
}

/** Called when a marker was written to a partition (the group coordinator applies transactional offsets). */
export type MarkerListener = (topic: string, partition: number, producerId: number, commit: boolean) => Promise<void> | void

export interface TransactionCoordinatorOptions {
  metadata: MetadataStore
  topics: TopicManager
  replicas: ReplicaManager
  producerIds: ProducerIdManager
  config: ResolvedBrokerConfig
  /** For TxnOffsetCommit (offsets applied when the transaction commits); without it TxnOffsetCommit answers COORDINATOR_NOT_AVAILABLE. */
  groups?: GroupCoordinator
  log?: Logger
  now?: () => number
  abortIntervalMs?: number
}

function partitionsOf(meta: TransactionMetadata): Array<{topic: string; partitionIds: number[]}> {
  return [...meta.partitions].map(([topic, ids]) => ({topic, partitionIds: [...ids].sort((a, b) => a - b)}))
}

export class TransactionCoordinator {
  private readonly txns = new Map<string, TransactionMetadata>()
  private readonly byProducerId = new Map<number, string>()
  private readonly locks = new Map<string, Promise<unknown>>()
  private readonly markerListeners: MarkerListener[] = []
  private creating?: Promise<void>
  private timer?: NodeJS.Timeout
  private stopped = false
  private readonly now: () => number
  readonly maxTimeoutMs: number
  readonly statePartitions: number
  private readonly offsets?: TransactionOffsets

  constructor(private readonly options: TransactionCoordinatorOptions) {
    this.now = options.now ?? Date.now
    this.maxTimeoutMs = options.config.int('transaction.max.timeout.ms')
    this.statePartitions = options.config.int('transaction.state.log.num.partitions')
    if (options.groups) {
      const offsets = new TransactionOffsets(options.groups, options.replicas, this.now)
      this.offsets = offsets
      this.onMarker((topic, partition, producerId, commit) => offsets.onMarker(topic, partition, producerId, commit))
    }
  }

  /** Whether an open transaction has committed offsets of this group and partition (OffsetFetch's requireStable). */
  hasPendingOffsets(groupId: string, topic: string, partition: number): boolean {
    return this.offsets?.hasPending(groupId, topic, partition) ?? false
  }

  static async start(options: TransactionCoordinatorOptions): Promise<TransactionCoordinator> {
    const coordinator = new TransactionCoordinator(options)
    await coordinator.offsets?.rebuildPending()
    await coordinator.load()
    coordinator.startTimer()
    return coordinator
  }

  onMarker(listener: MarkerListener): void {
    this.markerListeners.push(listener)
  }

  // ---------------------------------------------------------------------------------------------
  // Persistence

  private partitionCount(): number {
    return this.options.metadata.topic(TRANSACTION_STATE_TOPIC)?.partitions.length ?? this.statePartitions
  }

  /** Creates __transaction_state (compacted) if missing and opens its partitions. */
  ensureStateTopic(): Promise<void> {
    const {metadata, topics, replicas} = this.options
    const existing = metadata.topic(TRANSACTION_STATE_TOPIC)
    if (existing && existing.partitions.every((p) => replicas.get(TRANSACTION_STATE_TOPIC, p.partition))) return Promise.resolve()
    this.creating ??= (async () => {
      if (!metadata.topic(TRANSACTION_STATE_TOPIC)) {
        try {
          await topics.create({
            name: TRANSACTION_STATE_TOPIC,
            numPartitions: this.statePartitions,
            replicationFactor: 1,
            assignments: [],
            configs: {'cleanup.policy': 'compact', 'compression.type': 'uncompressed', 'min.insync.replicas': '1', 'segment.bytes': String(DEFAULT_SEGMENT_BYTES), 'unclean.leader.election.enable': 'false'},
          })
        } catch (error) {
          if (!(error instanceof TopicError && error.code === 'TOPIC_ALREADY_EXISTS')) throw error
        }
      }
      const topic = metadata.topic(TRANSACTION_STATE_TOPIC)
      if (topic) await replicas.ensurePartitions(topic)
    })().finally(() => {
      this.creating = undefined
    })
    return this.creating
  }

  private async persist(meta: TransactionMetadata): Promise<void> {
    await this.ensureStateTopic()
    const index = transactionStatePartition(meta.transactionalId, this.partitionCount())
    const p = this.options.replicas.get(TRANSACTION_STATE_TOPIC, index)
    if (!p) throw new TransactionError('COORDINATOR_NOT_AVAILABLE', `${TRANSACTION_STATE_TOPIC}-${index} is not hosted here`)
    const value: TransactionLogValue = {
      producerId: meta.producerId,
      producerEpoch: meta.producerEpoch,
      transactionTimeoutMs: meta.txnTimeoutMs,
      state: meta.state,
      partitions: partitionsOf(meta),
      lastUpdateTimestampMs: meta.txnLastUpdateTimestamp,
      startTimestampMs: meta.txnStartTimestamp,
    }
    const batch = await buildRecordBatch({records: [{key: encodeTransactionLogKey(meta.transactionalId), value: encodeTransactionLogValue(value), timestamp: this.now()}]})
    try {
      await p.log.append(batch, {origin: 'coordinator', leaderEpoch: p.leaderEpoch})
    } catch (error) {
      this.options.log?.error({err: error, transactionalId: meta.transactionalId}, 'writing __transaction_state failed')
      throw new TransactionError('COORDINATOR_NOT_AVAILABLE', `Writing ${TRANSACTION_STATE_TOPIC} failed`)
    }
    this.options.replicas.notifyAppend(p)
  }

  /** Replays __transaction_state, then completes transactions left in a prepare state. */
  async load(): Promise<{transactions: number; completed: number}> {
    const {metadata, replicas} = this.options
    const topic = metadata.topic(TRANSACTION_STATE_TOPIC)
    if (topic) {
      await replicas.ensurePartitions(topic)
      for (const {partition: index} of topic.partitions) {
        const p = replicas.get(TRANSACTION_STATE_TOPIC, index)
        if (!p) continue
        let offset = p.log.logStartOffset
        const end = p.log.logEndOffset
        while (offset < end) {
          const read = await p.log.read(offset, 4 * 1024 * 1024, {minOneMessage: true, maxOffset: end})
          if (read.records.length === 0) break
          for (const {position, header} of iterateBatches(read.records)) {
            if (header.isControl) continue
            const batch = await decodeRecordBatch(read.records, position)
            for (const r of batch.records) {
              if (r.offset < offset || r.key === null) continue
              try {
                this.replay(decodeTransactionLogKey(r.key), r.value === null ? null : decodeTransactionLogValue(r.value))
              } catch (error) {
                this.options.log?.warn({err: error, partition: index, offset: r.offset}, 'skipping an unreadable __transaction_state record')
              }
            }
          }
          offset = Math.max(read.nextOffset, offset + 1)
        }
      }
    }
    let completed = 0
    for (const meta of this.txns.values()) {
      if (meta.state === TransactionState.PrepareCommit || meta.state === TransactionState.PrepareAbort) {
        await this.withLock(meta.transactionalId, () => this.completeTransaction(meta, meta.state === TransactionState.PrepareCommit))
        completed++
      }
    }
    this.options.log?.info({transactions: this.txns.size, completed}, 'transaction coordinator loaded __transaction_state')
    return {transactions: this.txns.size, completed}
  }

  private replay(transactionalId: string, value: TransactionLogValue | null): void {
    const old = this.txns.get(transactionalId)
    if (old && this.byProducerId.get(old.producerId) === transactionalId) this.byProducerId.delete(old.producerId)
    if (value === null) {
      this.txns.delete(transactionalId)
      return
    }
    const meta: TransactionMetadata = {
      transactionalId,
      producerId: value.producerId,
      lastProducerId: value.previousProducerId ?? -1,
      producerEpoch: value.producerEpoch,
      lastProducerEpoch: -1,
      txnTimeoutMs: value.transactionTimeoutMs,
      state: value.state,
      partitions: new Map(value.partitions.map((p) => [p.topic, new Set(p.partitionIds)])),
      txnStartTimestamp: value.startTimestampMs,
      txnLastUpdateTimestamp: value.lastUpdateTimestampMs,
    }
    this.txns.set(transactionalId, meta)
    this.byProducerId.set(meta.producerId, transactionalId)
  }

  private withLock<T>(transactionalId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(transactionalId) ?? Promise.resolve()
    const run = previous.then(() => {
      if (this.stopped) throw new TransactionError('NOT_COORDINATOR')
      return fn()
    })
    const tail = run.catch(() => undefined)
    this.locks.set(transactionalId, tail)
    void tail.then(() => {
      if (this.locks.get(transactionalId) === tail) this.locks.delete(transactionalId)
    })
    return run
  }

  // ---------------------------------------------------------------------------------------------
  // Markers

  /** Writes a COMMIT or ABORT marker for the producer to every partition of the transaction. */
  private async writeMarkers(meta: TransactionMetadata, commit: boolean): Promise<void> {
    for (const [topic, ids] of meta.partitions) {
      for (const partition of ids) {
        await this.writeMarker(topic, partition, meta.producerId, meta.producerEpoch, commit)
      }
    }
  }

  /** One marker (also WriteTxnMarkers). A partition that no longer exists is skipped. */
  async writeMarker(topic: string, partition: number, producerId: number, producerEpoch: number, commit: boolean): Promise<boolean> {
    const p = this.options.replicas.get(topic, partition)
    if (!p) return false
    const batch = await buildRecordBatch({
      records: [endTransactionMarkerRecord({type: commit ? ControlRecordType.Commit : ControlRecordType.Abort, coordinatorEpoch: COORDINATOR_EPOCH}, this.now())],
      producerId,
      producerEpoch,
      isTransactional: true,
      isControl: true,
    })
    await p.log.append(batch, {origin: 'coordinator', leaderEpoch: p.leaderEpoch})
    this.options.replicas.notifyAppend(p)
    for (const listener of this.markerListeners) await listener(topic, partition, producerId, commit)
    return true
  }

  /**
   * Writes `meta` with `changes` to __transaction_state, then applies them to `meta` in one step:
   * no request (produce verification, DescribeTransactions, a retry) ever sees a state that the log
   * does not hold, and a failed write leaves `meta` as it was (Kafka's pendingState).
   */
  private async transition(meta: TransactionMetadata, changes: Partial<TransactionMetadata>): Promise<void> {
    await this.persist({...meta, ...changes})
    Object.assign(meta, changes)
  }

  /** PrepareX is persisted: write the markers, then persist CompleteX. */
  private async completeTransaction(meta: TransactionMetadata, commit: boolean): Promise<void> {
    await this.writeMarkers(meta, commit)
    await this.transition(meta, {state: commit ? TransactionState.CompleteCommit : TransactionState.CompleteAbort, partitions: new Map(), txnLastUpdateTimestamp: this.now()})
  }

  /**
   * EndTxn's work, and the coordinator's own aborts. With `fence` (Kafka's
   * prepareFenceProducerEpoch: a new producer's InitProducerId, a timeout) the epoch is bumped in
   * the same step, so the old producer is fenced, and no last epoch is kept, so it cannot pass for
   * a retry of a bump either.
   */
  private async endTransaction(meta: TransactionMetadata, commit: boolean, fence = false): Promise<void> {
    await this.transition(meta, {
      state: commit ? TransactionState.PrepareCommit : TransactionState.PrepareAbort,
      txnLastUpdateTimestamp: this.now(),
      ...(fence ? {producerEpoch: meta.producerEpoch + 1, lastProducerEpoch: NO_PRODUCER_EPOCH} : {}),
    })
    await this.completeTransaction(meta, commit)
  }

  // ---------------------------------------------------------------------------------------------
  // APIs

  /**
   * InitProducerId with a transactional id. `expected` is the producer id and epoch the client
   * passes (v3+, KIP-360; -1/-1 for none). Returns the producer id and the new epoch.
   *
   * Kafka's TransactionCoordinator.handleInitProducerId rules:
   * - a transactional id seen for the first time gets a new producer id with epoch 0, whatever
   *   `expected` says (its metadata has no epoch yet, so there is nothing to mismatch);
   * - otherwise a given `expected` must name the current producer id, or the previous one with an
   *   exhausted epoch (a retry after a producer id change): else PRODUCER_FENCED;
   * - an open transaction is aborted with a fenced epoch (bumped, no last epoch) first. Kafka
   *   answers that call CONCURRENT_TRANSACTIONS and the client retries; here the retry's answer
   *   is given at once, since the markers are written before this call returns;
   * - then the epoch is bumped: without `expected`, from the current one; with it, only if
   *   `expected` has the current epoch (a retry of the last bump, `expected` = the epoch before
   *   it, gets the current epoch unchanged; any other epoch: PRODUCER_FENCED). An exhausted epoch
   *   (32766 and up) gets a new producer id with epoch 0 instead.
   */
  initProducerId(transactionalId: string, txnTimeoutMs: number, expected: {producerId: number; producerEpoch: number}): Promise<{producerId: number; producerEpoch: number}> {
    if (transactionalId === '') return Promise.reject(new TransactionError('INVALID_REQUEST', 'Empty transactional id'))
    if (txnTimeoutMs <= 0 || txnTimeoutMs > this.maxTimeoutMs) {
      return Promise.reject(new TransactionError('INVALID_TRANSACTION_TIMEOUT', `The transaction timeout ${txnTimeoutMs} is larger than the maximum value allowed by the broker (as configured by transaction.max.timeout.ms: ${this.maxTimeoutMs})`))
    }
    const given = expected.producerId === NO_PRODUCER_ID && expected.producerEpoch === NO_PRODUCER_EPOCH ? undefined : expected
    return this.withLock(transactionalId, async () => {
      const existing = this.txns.get(transactionalId)
      const meta: TransactionMetadata = existing ?? {
        transactionalId,
        producerId: await this.options.producerIds.generate(),
        lastProducerId: NO_PRODUCER_ID,
        producerEpoch: NO_PRODUCER_EPOCH,
        lastProducerEpoch: NO_PRODUCER_EPOCH,
        txnTimeoutMs,
        state: TransactionState.Empty,
        partitions: new Map(),
        txnStartTimestamp: -1,
        txnLastUpdateTimestamp: this.now(),
      }
      // Kafka's isValidProducerId.
      if (given && !(meta.producerEpoch === NO_PRODUCER_EPOCH || given.producerId === meta.producerId || (given.producerId === meta.lastProducerId && isEpochExhausted(given.producerEpoch)))) {
        throw new TransactionError('PRODUCER_FENCED')
      }
      if (meta.state === TransactionState.PrepareCommit || meta.state === TransactionState.PrepareAbort) {
        // Kafka answers CONCURRENT_TRANSACTIONS while its marker channel completes the transaction.
        await this.completeTransaction(meta, meta.state === TransactionState.PrepareCommit)
      }
      if (meta.state === TransactionState.Ongoing) {
        await this.endTransaction(meta, false, true)
      }
      let next: Pick<TransactionMetadata, 'producerId' | 'lastProducerId' | 'producerEpoch' | 'lastProducerEpoch'>
      if (isEpochExhausted(meta.producerEpoch) && (!given || given.producerEpoch === meta.producerEpoch)) {
        next = {producerId: await this.options.producerIds.generate(), lastProducerId: meta.producerId, producerEpoch: 0, lastProducerEpoch: given ? meta.producerEpoch : NO_PRODUCER_EPOCH}
      } else if (!given) {
        next = {producerId: meta.producerId, lastProducerId: meta.producerId, producerEpoch: meta.producerEpoch + 1, lastProducerEpoch: NO_PRODUCER_EPOCH}
      } else if (meta.producerEpoch === NO_PRODUCER_EPOCH || given.producerEpoch === meta.producerEpoch) {
        next = {producerId: meta.producerId, lastProducerId: meta.producerId, producerEpoch: meta.producerEpoch + 1, lastProducerEpoch: meta.producerEpoch}
      } else if (given.producerEpoch === meta.lastProducerEpoch) {
        // A retry of a bump whose answer the client did not get.
        next = {producerId: meta.producerId, lastProducerId: meta.producerId, producerEpoch: meta.producerEpoch, lastProducerEpoch: meta.lastProducerEpoch}
      } else {
        throw new TransactionError('PRODUCER_FENCED')
      }
      const updated: TransactionMetadata = {...meta, ...next, txnTimeoutMs, state: TransactionState.Empty, partitions: new Map(), txnStartTimestamp: -1, txnLastUpdateTimestamp: this.now()}
      await this.persist(updated)
      if (existing && this.byProducerId.get(existing.producerId) === transactionalId) this.byProducerId.delete(existing.producerId)
      Object.assign(meta, updated)
      this.txns.set(transactionalId, meta)
      this.byProducerId.set(meta.producerId, transactionalId)
      return {producerId: meta.producerId, producerEpoch: meta.producerEpoch}
    })
  }

  /** The transaction of `transactionalId` for this producer id and epoch, or Kafka's error. */
  private checkProducer(transactionalId: string, producerId: number, producerEpoch: number): TransactionMetadata {
    const meta = this.txns.get(transactionalId)
    if (!meta || meta.producerId !== producerId) throw new TransactionError('INVALID_PRODUCER_ID_MAPPING')
    if (producerEpoch !== meta.producerEpoch) throw new TransactionError('PRODUCER_FENCED')
    return meta
  }

  /**
   * AddPartitionsToTxn (and AddOffsetsToTxn's __consumer_offsets partition). Per-partition
   * errors: UNKNOWN_TOPIC_OR_PARTITION (the others get OPERATION_NOT_ATTEMPTED); whole
   * request: INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED, CONCURRENT_TRANSACTIONS.
   */
  addPartitions(transactionalId: string, producerId: number, producerEpoch: number, partitions: Array<{topic: string; partition: number}>): Promise<void> {
    return this.withLock(transactionalId, async () => {
      const meta = this.checkProducer(transactionalId, producerId, producerEpoch)
      if (meta.state === TransactionState.PrepareCommit || meta.state === TransactionState.PrepareAbort) throw new TransactionError('CONCURRENT_TRANSACTIONS')
      if (meta.state === TransactionState.PrepareEpochFence || meta.state === TransactionState.Dead) throw new TransactionError('INVALID_TXN_STATE')
      const added = partitions.filter((p) => !meta.partitions.get(p.topic)?.has(p.partition))
      if (added.length === 0 && meta.state === TransactionState.Ongoing) return
      const now = this.now()
      const next = new Map([...meta.partitions].map(([t, s]) => [t, new Set(s)]))
      for (const p of added) {
        let set = next.get(p.topic)
        if (!set) next.set(p.topic, (set = new Set()))
        set.add(p.partition)
      }
      // Produce verification sees the partition only once __transaction_state has it: a batch
      // accepted before a failed write would get no marker and hold the LSO forever.
      await this.transition(meta, {
        state: TransactionState.Ongoing,
        partitions: next,
        txnLastUpdateTimestamp: now,
        txnStartTimestamp: meta.state === TransactionState.Ongoing ? meta.txnStartTimestamp : now,
      })
    })
  }

  /** AddPartitionsToTxn v4+ verifyOnly, and KIP-890 produce verification: is the partition in the producer's open transaction? */
  verifyPartition(transactionalId: string | null, producerId: number, producerEpoch: number, topic: string, partition: number): keyof typeof ErrorCode {
    const id = transactionalId ?? this.byProducerId.get(producerId)
    const meta = id === undefined ? undefined : this.txns.get(id)
    if (!meta || meta.producerId !== producerId) return 'INVALID_PRODUCER_ID_MAPPING'
    if (producerEpoch < meta.producerEpoch) return 'INVALID_PRODUCER_EPOCH'
    if (meta.state !== TransactionState.Ongoing || !meta.partitions.get(topic)?.has(partition)) return 'INVALID_TXN_STATE'
    return 'NONE'
  }

  /** EndTxn: commit or abort. A retry of a completed end is answered NONE. */
  endTxn(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean): Promise<void> {
    return this.withLock(transactionalId, async () => {
      const meta = this.checkProducer(transactionalId, producerId, producerEpoch)
      switch (meta.state) {
        case TransactionState.Ongoing:
          await this.endTransaction(meta, commit)
          return
        case TransactionState.CompleteCommit:
          if (commit) return
          throw new TransactionError('INVALID_TXN_STATE')
        case TransactionState.CompleteAbort:
          if (!commit) return
          throw new TransactionError('INVALID_TXN_STATE')
        case TransactionState.PrepareCommit:
        case TransactionState.PrepareAbort:
          throw new TransactionError('CONCURRENT_TRANSACTIONS')
        default:
          throw new TransactionError('INVALID_TXN_STATE')
      }
    })
  }

  /**
   * TxnOffsetCommit: the offsets are written to the group's partition of __consumer_offsets as
   * part of the producer's transaction (which must hold that partition: AddOffsetsToTxn) and
   * become visible when it commits.
   */
  txnOffsetCommit(transactionalId: string, producerId: number, producerEpoch: number, groupId: string, offsets: readonly TxnOffset[]): Promise<void> {
    return this.withLock(transactionalId, async () => {
      const groups = this.options.groups
      if (!this.offsets || !groups) throw new TransactionError('COORDINATOR_NOT_AVAILABLE')
      const meta = this.checkProducer(transactionalId, producerId, producerEpoch)
      await groups.ensureOffsetsTopic()
      const count = this.options.metadata.topic(OFFSETS_TOPIC)?.partitions.length
      if (count === undefined) throw new TransactionError('COORDINATOR_NOT_AVAILABLE')
      const partition = partitionForGroup(groupId, count)
      if (meta.state !== TransactionState.Ongoing || !meta.partitions.get(OFFSETS_TOPIC)?.has(partition)) throw new TransactionError('INVALID_TXN_STATE')
      await this.offsets.commit(groupId, partition, producerId, producerEpoch, offsets)
    })
  }

  /** The transaction (DescribeTransactions, tests). */
  transaction(transactionalId: string): TransactionMetadata | undefined {
    return this.txns.get(transactionalId)
  }

  transactions(): TransactionMetadata[] {
    return [...this.txns.values()]
  }

  // ---------------------------------------------------------------------------------------------
  // Timeouts

  private startTimer(): void {
    const interval = this.options.abortIntervalMs ?? DEFAULT_ABORT_INTERVAL_MS
    this.timer = setInterval(() => {
      void this.abortTimedOutTransactions().catch((error: unknown) => this.options.log?.error({err: error}, 'aborting timed-out transactions failed'))
    }, interval)
    this.timer.unref()
  }

  /** Aborts, with a bumped epoch (fencing the producer), every Ongoing transaction past its timeout. */
  async abortTimedOutTransactions(): Promise<number> {
    const now = this.now()
    let aborted = 0
    for (const meta of [...this.txns.values()]) {
      if (meta.state !== TransactionState.Ongoing || meta.txnStartTimestamp + meta.txnTimeoutMs >= now) continue
      await this.withLock(meta.transactionalId, async () => {
        if (meta.state !== TransactionState.Ongoing || meta.txnStartTimestamp + meta.txnTimeoutMs >= this.now()) return
        this.options.log?.info({transactionalId: meta.transactionalId, producerId: meta.producerId}, 'aborting a timed-out transaction')
        await this.endTransaction(meta, false, true)
        aborted++
      }).catch((error: unknown) => {
        if (!(error instanceof TransactionError && error.code === 'NOT_COORDINATOR')) throw error
      })
    }
    return aborted
  }

  async shutdown(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    await Promise.allSettled([...this.locks.values()])
  }
}
