/**
 * TransactionCoordinator: the transaction coordinator (Kafka's TransactionCoordinator +
 * TransactionStateManager; the markers go through transaction-markers.ts, Kafka's
 * TransactionMarkerChannelManager).
 *
 * Ownership: it owns exactly the partitions of __transaction_state this broker leads. On becoming
 * leader of partition N (the replica manager's onLeadershipChange, also at start-up) it replays N
 * and then completes N's transactions left in PrepareCommit/PrepareAbort; meanwhile requests for
 * the transactional ids of N get COORDINATOR_LOAD_IN_PROGRESS. On losing it, N's transactions are
 * dropped from memory and their requests get NOT_COORDINATOR (a completion in progress stops; the
 * new leader completes it when it loads). The coordinator epoch written into markers is the leader
 * epoch of N. Writes to __transaction_state are acks=all appends as leader (Kafka's
 * TransactionLog.EnforcedRequiredAcks), their errors mapped as Kafka's
 * TransactionStateManager.appendTransactionToLog does.
 *
 * State: one TransactionMetadata per transactional id, persisted in __transaction_state
 * (transaction-log.ts formats; compacted; transaction.state.log.num.partitions partitions; the
 * id's partition is Kafka's partitionFor) before any answer depends on it, and rebuilt from it on
 * load. A transaction found in PrepareCommit/PrepareAbort on load is completed (markers
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
 * different ids run concurrently. Markers go to each partition's leader: appended here (origin
 * 'coordinator', acks=all) when this broker leads it, else by WriteTxnMarkers to the leader,
 * retried until written; the markers of one transaction are written in parallel.
 *
 * Not implemented: transactions v2 (KIP-890 part 2: epoch bump per transaction), transactional
 * id expiration (transactional.id.expiration.ms), the partition leader's check of the coordinator
 * epoch of a marker (TRANSACTION_COORDINATOR_FENCED).
 */
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {iterateBatches} from '../../lib/records/batch.js'
import {ControlRecordType, buildRecordBatch, decodeRecordBatch, endTransactionMarkerRecord} from '../../lib/records/record.js'
import type {ResolvedBrokerConfig} from '../../lib/config/broker-configs.js'
import type {InterBrokerClient} from '../replication/inter-broker.js'
import type {MetadataStore} from '../controller/metadata-store.js'
import type {ProducerIdManager} from '../controller/producer-id-manager.js'
import {TopicError, type TopicManager} from '../controller/topic-manager.js'
import type {Logger} from '../logger.js'
import type {ReplicaManager} from '../replica-manager.js'
import {LogError} from '../log/errors.js'
import {coordinatorWriteErrorName, OFFSETS_TOPIC, internalTopicReplicationFactor} from './coordinator-log.js'
import {TransactionMarkerChannel, type TxnMarker} from './transaction-markers.js'
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

const ERROR_NAMES = new Map(Object.entries(ErrorCode).map(([name, code]) => [code as number, name as keyof typeof ErrorCode]))

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
/** How long an acks=all write to __transaction_state waits for the ISR (Kafka: request.timeout.ms's default). */
const TRANSACTION_LOG_APPEND_TIMEOUT_MS = 30_000

/**
 * The error a failed __transaction_state write answers (Kafka's
 * TransactionStateManager.appendTransactionToLog): retry later, or find the coordinator again.
 */
function appendErrorName(error: unknown): keyof typeof ErrorCode {
  return error instanceof TransactionError ? error.code : coordinatorWriteErrorName(error)
}

/** A partition of __transaction_state this coordinator owns. */
interface OwnedPartition {
  state: 'loading' | 'active'
  /** Its leader epoch: the coordinator epoch of its markers. */
  epoch: number
  loaded: Promise<void>
}

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
  /** How to reach other brokers (markers, KIP-890 verification): the inter-broker listener. */
  interBroker?: InterBrokerClient
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
  /** The partitions of __transaction_state this broker leads, loaded or loading. */
  private readonly owned = new Map<number, OwnedPartition>()
  /** Completions of loaded PrepareX transactions in progress (awaited by shutdown). */
  private readonly completions = new Set<Promise<unknown>>()
  private readonly markers: TransactionMarkerChannel
  private readonly now: () => number
  readonly maxTimeoutMs: number
  readonly statePartitions: number
  private readonly offsets?: TransactionOffsets

  constructor(private readonly options: TransactionCoordinatorOptions) {
    this.now = options.now ?? Date.now
    this.maxTimeoutMs = options.config.int('transaction.max.timeout.ms')
    this.statePartitions = options.config.int('transaction.state.log.num.partitions')
    this.markers = new TransactionMarkerChannel({
      nodeId: options.replicas.nodeId,
      metadata: options.metadata,
      log: options.log,
      ...(options.interBroker ? {interBroker: options.interBroker} : {}),
      writeLocal: (m) => this.writeMarkerCode(m.topic, m.partition, m.producerId, m.producerEpoch, m.commit, m.coordinatorEpoch),
    })
    if (options.groups) {
      const offsets = new TransactionOffsets(options.groups, options.replicas, this.now, options.config.int('offsets.commit.timeout.ms'))
      this.offsets = offsets
      this.onMarker((topic, partition, producerId, commit) => offsets.onMarker(topic, partition, producerId, commit))
      // Read with the group coordinator's load of each partition, before it serves (and before
      // writeMarker lets a marker in): a marker between the two reads would be lost.
      options.groups.attachPartitionState({load: (p) => offsets.loadPartition(p), unload: (p) => offsets.unloadPartition(p)})
    }
  }

  /** Whether an open transaction has committed offsets of this group and partition (OffsetFetch's requireStable). */
  hasPendingOffsets(groupId: string, topic: string, partition: number): boolean {
    return this.offsets?.hasPending(groupId, topic, partition) ?? false
  }

  /**
   * The broker's coordinator, following the leadership of __transaction_state's partitions (and of
   * __consumer_offsets', for the pending transactional offsets). Call after the replica manager's
   * first reconcile: the partitions led then are loaded before it returns.
   */
  static async start(options: TransactionCoordinatorOptions): Promise<TransactionCoordinator> {
    const coordinator = new TransactionCoordinator(options)
    const {replicas} = options
    replicas.onLeadershipChange((change) => {
      if (change.topic !== TRANSACTION_STATE_TOPIC) return
      if (change.isLeader) void coordinator.loadPartition(change.partition, change.leaderEpoch)
      else coordinator.unloadPartition(change.partition)
    })
    const led = (topic: string) => replicas.all().filter((p) => p.topic === topic && replicas.leads(p))
    // The group coordinator loaded these before this coordinator attached its pending offsets.
    for (const p of led(OFFSETS_TOPIC)) await coordinator.offsets?.loadPartition(p.partition)
    await Promise.all(led(TRANSACTION_STATE_TOPIC).map((p) => coordinator.loadPartition(p.partition, p.leaderEpoch)))
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
    const {metadata, topics, replicas, config} = this.options
    const hostedHere = (topic: NonNullable<ReturnType<MetadataStore['topic']>>) =>
      topic.partitions.every((p) => !p.replicas.includes(replicas.nodeId) || replicas.get(TRANSACTION_STATE_TOPIC, p.partition))
    const existing = metadata.topic(TRANSACTION_STATE_TOPIC)
    if (existing && hostedHere(existing)) return Promise.resolve()
    this.creating ??= (async () => {
      let created = false
      if (!metadata.topic(TRANSACTION_STATE_TOPIC)) {
        // transaction.state.log.replication.factor, as Kafka: in a cluster not created (INVALID_REPLICATION_FACTOR) until enough brokers are registered.
        const replicationFactor = internalTopicReplicationFactor(config.int('transaction.state.log.replication.factor'), metadata.brokers().length, metadata.alterPartition !== undefined)
        // Kafka sets min.insync.replicas to transaction.state.log.min.isr; never above the replication factor, or no write could succeed.
        const minIsr = Math.max(1, Math.min(config.int('transaction.state.log.min.isr'), replicationFactor))
        try {
          await topics.create({
            name: TRANSACTION_STATE_TOPIC,
            numPartitions: this.statePartitions,
            replicationFactor,
            assignments: [],
            configs: {'cleanup.policy': 'compact', 'compression.type': 'uncompressed', 'min.insync.replicas': String(minIsr), 'segment.bytes': String(DEFAULT_SEGMENT_BYTES), 'unclean.leader.election.enable': 'false'},
          })
          created = true
        } catch (error) {
          if (!(error instanceof TopicError && error.code === 'TOPIC_ALREADY_EXISTS')) throw error
        }
      }
      const topic = metadata.topic(TRANSACTION_STATE_TOPIC)
      if (topic) await replicas.ensurePartitions(topic)
      // The partitions just created are empty: their loads end at once; the first requests need not retry.
      if (created) await Promise.all([...this.owned.values()].map((o) => o.loaded))
    })().finally(() => {
      this.creating = undefined
    })
    return this.creating
  }

  private async persist(meta: TransactionMetadata): Promise<void> {
    await this.ensureStateTopic()
    const index = transactionStatePartition(meta.transactionalId, this.partitionCount())
    const p = this.options.replicas.get(TRANSACTION_STATE_TOPIC, index)
    if (!p || !this.owned.has(index)) throw new TransactionError('NOT_COORDINATOR', `${TRANSACTION_STATE_TOPIC}-${index} is not led here`)
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
      await this.options.replicas.appendAsLeader(p, batch, {origin: 'coordinator', requiredAcks: -1, timeoutMs: TRANSACTION_LOG_APPEND_TIMEOUT_MS})
    } catch (error) {
      const code = appendErrorName(error)
      this.options.log?.warn({err: error, transactionalId: meta.transactionalId, answer: code}, 'writing __transaction_state failed')
      throw new TransactionError(code, `Writing ${TRANSACTION_STATE_TOPIC}-${index} failed (${code})`)
    }
  }

  /** The partition of __transaction_state of a transactional id. */
  private partitionOf(transactionalId: string): number {
    return transactionStatePartition(transactionalId, this.partitionCount())
  }

  /**
   * Becoming the coordinator of partition `index` (led here in `epoch`): replays it, then completes
   * the transactions it left in PrepareCommit/PrepareAbort (in the background: their markers may
   * wait for other brokers; requests for those ids wait behind them). Meanwhile requests for its ids
   * get COORDINATOR_LOAD_IN_PROGRESS. A load superseded by an unload or a newer load leaves nothing.
   */
  loadPartition(index: number, epoch: number): Promise<void> {
    if (this.stopped) return Promise.resolve()
    const current = this.owned.get(index)
    if (current && current.epoch === epoch) return current.loaded
    if (current) this.dropPartitionState(index)
    const entry: OwnedPartition = {state: 'loading', epoch, loaded: Promise.resolve()}
    this.owned.set(index, entry)
    entry.loaded = this.runLoad(index, entry).catch((error: unknown) => {
      this.options.log?.error({err: error, partition: index}, 'loading a __transaction_state partition failed')
      if (this.owned.get(index) === entry) {
        this.owned.delete(index)
        this.dropPartitionState(index)
      }
    })
    return entry.loaded
  }

  private async runLoad(index: number, entry: OwnedPartition): Promise<void> {
    const superseded = () => this.owned.get(index) !== entry
    const p = this.options.replicas.get(TRANSACTION_STATE_TOPIC, index)
    const loaded = new Map<string, TransactionLogValue | null>()
    if (p) {
      let offset = p.log.logStartOffset
      const end = p.log.logEndOffset
      while (offset < end) {
        const read = await p.log.read(offset, 4 * 1024 * 1024, {minOneMessage: true, maxOffset: end})
        if (superseded()) return
        if (read.records.length === 0) break
        for (const {position, header} of iterateBatches(read.records)) {
          if (header.isControl) continue
          const batch = await decodeRecordBatch(read.records, position)
          for (const r of batch.records) {
            if (r.offset < offset || r.key === null) continue
            try {
              loaded.set(decodeTransactionLogKey(r.key), r.value === null ? null : decodeTransactionLogValue(r.value))
            } catch (error) {
              this.options.log?.warn({err: error, partition: index, offset: r.offset}, 'skipping an unreadable __transaction_state record')
            }
          }
        }
        offset = Math.max(read.nextOffset, offset + 1)
      }
    }
    if (superseded()) return
    for (const [transactionalId, value] of loaded) if (this.partitionOf(transactionalId) === index) this.replay(transactionalId, value)
    entry.state = 'active'
    const prepared = [...this.txns.values()].filter((m) => this.partitionOf(m.transactionalId) === index && (m.state === TransactionState.PrepareCommit || m.state === TransactionState.PrepareAbort))
    this.options.log?.info({partition: index, leaderEpoch: entry.epoch, transactions: [...loaded.values()].filter((v) => v !== null).length, completing: prepared.length}, 'transaction coordinator loaded a __transaction_state partition')
    for (const meta of prepared) {
      const completion = this.withLock(meta.transactionalId, async () => {
        if (this.txns.get(meta.transactionalId) !== meta) return
        if (meta.state === TransactionState.PrepareCommit || meta.state === TransactionState.PrepareAbort) await this.completeTransaction(meta, meta.state === TransactionState.PrepareCommit)
      }).catch((error: unknown) => {
        if (!(error instanceof TransactionError && error.code === 'NOT_COORDINATOR')) this.options.log?.error({err: error, transactionalId: meta.transactionalId}, 'completing a prepared transaction failed')
      })
      this.completions.add(completion)
      void completion.finally(() => this.completions.delete(completion))
    }
  }

  /** No longer the coordinator of partition `index`: its transactions leave memory. */
  unloadPartition(index: number): void {
    if (!this.owned.delete(index)) return
    const dropped = this.dropPartitionState(index)
    this.options.log?.info({partition: index, transactions: dropped}, 'transaction coordinator unloaded a __transaction_state partition')
  }

  private dropPartitionState(index: number): number {
    let dropped = 0
    for (const [id, meta] of [...this.txns]) {
      if (this.partitionOf(id) !== index) continue
      this.txns.delete(id)
      if (this.byProducerId.get(meta.producerId) === id) this.byProducerId.delete(meta.producerId)
      dropped++
    }
    return dropped
  }

  /**
   * Whether this broker coordinates `transactionalId` now: NOT_COORDINATOR when its partition is
   * not led here, COORDINATOR_LOAD_IN_PROGRESS while it loads. Returns the coordinator epoch.
   */
  private checkCoordinator(transactionalId: string): number {
    if (this.stopped) throw new TransactionError('NOT_COORDINATOR')
    const index = this.partitionOf(transactionalId)
    const owned = this.owned.get(index)
    if (!owned || !this.options.replicas.isLeader(TRANSACTION_STATE_TOPIC, index)) throw new TransactionError('NOT_COORDINATOR')
    if (owned.state === 'loading') throw new TransactionError('COORDINATOR_LOAD_IN_PROGRESS')
    return owned.epoch
  }

  /** Whether `transactionalId` belongs to a partition loaded here (listing, describing, verifying). */
  coordinates(transactionalId: string): boolean {
    const index = this.partitionOf(transactionalId)
    return this.owned.get(index)?.state === 'active' && this.options.replicas.isLeader(TRANSACTION_STATE_TOPIC, index)
  }

  /** The error for `transactionalId` on this broker (DescribeTransactions): NONE, NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS. */
  coordinatorError(transactionalId: string): keyof typeof ErrorCode {
    try {
      this.checkCoordinator(transactionalId)
      return 'NONE'
    } catch (error) {
      return (error as TransactionError).code
    }
  }

  /** Whether some owned partition is still loading (ListTransactions). */
  get loading(): boolean {
    return [...this.owned.values()].some((o) => o.state === 'loading')
  }

  /** The owned partitions and their state (tests, diagnostics). */
  ownedPartitions(): Map<number, 'loading' | 'active'> {
    return new Map([...this.owned].map(([p, o]) => [p, o.state]))
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
    const run = previous.then(async () => {
      // The topic is made on first use (FindCoordinator does it first for clients).
      try {
        await this.ensureStateTopic()
      } catch (error) {
        this.options.log?.warn({err: error}, `${TRANSACTION_STATE_TOPIC} is not available`)
        throw new TransactionError('COORDINATOR_NOT_AVAILABLE')
      }
      this.checkCoordinator(transactionalId)
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

  /**
   * Writes a COMMIT or ABORT marker for the producer to every partition of the transaction, each
   * at its leader (here or another broker), in parallel, retrying until written; rejects with
   * NOT_COORDINATOR when this broker stops coordinating the transaction meanwhile.
   */
  private async writeMarkers(meta: TransactionMetadata, commit: boolean): Promise<void> {
    const index = this.partitionOf(meta.transactionalId)
    const owner = this.owned.get(index)
    if (!owner) throw new TransactionError('NOT_COORDINATOR')
    const stillOwner = () => this.owned.get(index) === owner && !this.stopped
    const writes: Array<Promise<boolean>> = []
    for (const [topic, ids] of meta.partitions) {
      for (const partition of ids) {
        const marker: TxnMarker = {topic, partition, producerId: meta.producerId, producerEpoch: meta.producerEpoch, commit, coordinatorEpoch: owner.epoch}
        writes.push(this.markers.write(marker, stillOwner))
      }
    }
    const results = await Promise.allSettled(writes)
    const failed = results.find((r) => r.status === 'rejected')
    if (failed) throw failed.reason
  }

  /**
   * One marker appended here as the partition's leader (WriteTxnMarkers, and this coordinator's
   * own partitions), acks=all. Returns false when the partition does not exist; throws LogError
   * (NOT_LEADER_OR_FOLLOWER when another broker leads it).
   */
  async writeMarker(topic: string, partition: number, producerId: number, producerEpoch: number, commit: boolean, coordinatorEpoch = 0): Promise<boolean> {
    const {replicas, metadata, groups} = this.options
    // A __consumer_offsets partition takes markers only once its group coordinator has loaded it
    // (Kafka's coordinator runtime: COORDINATOR_LOAD_IN_PROGRESS, which the marker channel retries).
    // Appended during the load, a COMMIT would be missed by both the replay of the log and the
    // pending offsets read after it: the group would serve its offsets of before the transaction.
    if (topic === OFFSETS_TOPIC && groups && groups.partitionState(partition) !== 'active' && replicas.isLeader(topic, partition)) {
      throw new LogError('COORDINATOR_LOAD_IN_PROGRESS', `The coordinator is loading ${topic}-${partition}`)
    }
    const p = replicas.get(topic, partition)
    if (!p) {
      if (metadata.topic(topic)?.partitions.some((a) => a.partition === partition)) throw new LogError('NOT_LEADER_OR_FOLLOWER', `${topic}-${partition} is not led here`)
      return false
    }
    const batch = await buildRecordBatch({
      records: [endTransactionMarkerRecord({type: commit ? ControlRecordType.Commit : ControlRecordType.Abort, coordinatorEpoch}, this.now())],
      producerId,
      producerEpoch,
      isTransactional: true,
      isControl: true,
    })
    await replicas.appendAsLeader(p, batch, {origin: 'coordinator', requiredAcks: -1, timeoutMs: TRANSACTION_LOG_APPEND_TIMEOUT_MS})
    for (const listener of this.markerListeners) await listener(topic, partition, producerId, commit)
    return true
  }

  /** writeMarker as a Kafka error code (the marker channel's local path). */
  private async writeMarkerCode(topic: string, partition: number, producerId: number, producerEpoch: number, commit: boolean, coordinatorEpoch: number): Promise<number> {
    try {
      return (await this.writeMarker(topic, partition, producerId, producerEpoch, commit, coordinatorEpoch)) ? ErrorCode.NONE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    } catch (error) {
      if (error instanceof LogError) return ErrorCode[error.code]
      throw error
    }
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

  /**
   * AddPartitionsToTxn v4+ verifyOnly, and KIP-890 produce verification: is the partition in the
   * producer's open transaction? NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS when this broker
   * does not (yet) coordinate the transactional id.
   */
  verifyPartition(transactionalId: string | null, producerId: number, producerEpoch: number, topic: string, partition: number): keyof typeof ErrorCode {
    if (transactionalId !== null) {
      const notHere = this.coordinatorError(transactionalId)
      if (notHere !== 'NONE') return notHere
    }
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
   * TxnOffsetCommit, at the group's coordinator: the offsets are written to the group's partition
   * of __consumer_offsets as part of the producer's transaction and become visible when it commits.
   * When this broker also coordinates the transaction, the transaction must hold that partition
   * (AddOffsetsToTxn); when another broker does, nothing is checked, as Kafka's group coordinator
   * does not (before KIP-890 part 2's verification).
   */
  async txnOffsetCommit(transactionalId: string, producerId: number, producerEpoch: number, groupId: string, offsets: readonly TxnOffset[]): Promise<void> {
    const groups = this.options.groups
    const pending = this.offsets
    if (!pending || !groups) throw new TransactionError('COORDINATOR_NOT_AVAILABLE')
    await groups.ensureOffsetsTopic()
    const count = this.options.metadata.topic(OFFSETS_TOPIC)?.partitions.length
    if (count === undefined) throw new TransactionError('COORDINATOR_NOT_AVAILABLE')
    const partition = partitionForGroup(groupId, count)
    const groupError = groups.coordinatorError(groupId)
    if (groupError !== 'NONE') throw new TransactionError(groupError)
    const commit = async () => {
      try {
        await pending.commit(groupId, partition, producerId, producerEpoch, offsets)
      } catch (error) {
        // A fenced producer's offsets (an epoch older than the one its partition of
        // __consumer_offsets has seen) pass through as Kafka's coordinator passes them.
        if (error instanceof LogError && error.code === 'INVALID_PRODUCER_EPOCH') throw new TransactionError('INVALID_PRODUCER_EPOCH')
        throw new TransactionError(appendErrorName(error))
      }
    }
    if (!this.owned.has(this.partitionOf(transactionalId))) {
      await commit()
      return
    }
    await this.withLock(transactionalId, async () => {
      const meta = this.checkProducer(transactionalId, producerId, producerEpoch)
      if (meta.state !== TransactionState.Ongoing || !meta.partitions.get(OFFSETS_TOPIC)?.has(partition)) throw new TransactionError('INVALID_TXN_STATE')
      await commit()
    })
  }

  /**
   * KIP-890 verification of a transactional batch at its partition leader when the transactional
   * id may be coordinated elsewhere (Kafka's AddPartitionsToTxnManager): here, verifyPartition;
   * elsewhere, AddPartitionsToTxn verifyOnly to the leader of its __transaction_state partition.
   */
  async verifyAtCoordinator(transactionalId: string, producerId: number, producerEpoch: number, topic: string, partition: number): Promise<keyof typeof ErrorCode> {
    const local = this.verifyPartition(transactionalId, producerId, producerEpoch, topic, partition)
    if (local !== 'NOT_COORDINATOR') return local
    const state = this.options.metadata.topic(TRANSACTION_STATE_TOPIC)
    const leader = state?.partitions.find((p) => p.partition === transactionStatePartition(transactionalId, state.partitions.length))?.leader ?? -1
    if (leader < 0 || leader === this.options.replicas.nodeId) return 'NOT_COORDINATOR'
    const code = await this.markers.verify(leader, {transactionalId, producerId, producerEpoch, topic, partition})
    return ERROR_NAMES.get(code) ?? 'UNKNOWN_SERVER_ERROR'
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
      if (meta.state !== TransactionState.Ongoing || meta.txnStartTimestamp + meta.txnTimeoutMs >= now || !this.coordinates(meta.transactionalId)) continue
      await this.withLock(meta.transactionalId, async () => {
        if (meta.state !== TransactionState.Ongoing || meta.txnStartTimestamp + meta.txnTimeoutMs >= this.now()) return
        this.options.log?.info({transactionalId: meta.transactionalId, producerId: meta.producerId}, 'aborting a timed-out transaction')
        await this.endTransaction(meta, false, true)
        aborted++
      }).catch((error: unknown) => {
        if (!(error instanceof TransactionError && (error.code === 'NOT_COORDINATOR' || error.code === 'COORDINATOR_LOAD_IN_PROGRESS'))) throw error
      })
    }
    return aborted
  }

  async shutdown(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    // Marker retries stop (NOT_COORDINATOR): the partition's next leader completes them.
    this.markers.close()
    await Promise.allSettled([...this.locks.values(), ...this.completions])
  }
}
