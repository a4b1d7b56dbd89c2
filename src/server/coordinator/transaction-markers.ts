/**
 * TransactionMarkerChannel: how the transaction coordinator gets a COMMIT or ABORT marker into a
 * partition of the transaction, wherever that partition is led — Kafka's
 * TransactionMarkerChannelManager, one marker per request.
 *
 * The partition's leader is read from the metadata store on every attempt: this broker appends
 * the marker itself (`writeLocal`, the same path as the WriteTxnMarkers handler); any other
 * broker gets a WriteTxnMarkers request (v1) on one inter-broker connection per broker, made with
 * src/lib/client/connection.ts to the address the broker registered. Retriable outcomes are
 * retried after `backoffMs` until the marker is written, as Kafka's
 * TransactionMarkerRequestCompletionHandler does: no leader or an unregistered one, a failed
 * connection or request, NOT_LEADER_OR_FOLLOWER (the leader is read again), UNKNOWN_TOPIC_OR_PARTITION
 * (the leader has not opened it yet), NOT_ENOUGH_REPLICAS(_AFTER_APPEND), REQUEST_TIMED_OUT,
 * KAFKA_STORAGE_ERROR, COORDINATOR_LOAD_IN_PROGRESS / COORDINATOR_NOT_AVAILABLE. A partition the
 * store no longer has (topic deleted) is skipped, as Kafka skips a partition without metadata.
 * INVALID_PRODUCER_EPOCH and TRANSACTION_COORDINATOR_FENCED stop the completion (another
 * coordinator has taken over), and so does `stillOwner()` turning false between attempts (this
 * broker lost the __transaction_state partition: its new leader completes the transaction when it
 * loads it): both reject with TransactionError NOT_COORDINATOR.
 *
 * Not implemented: inter.broker.listener.name's TLS/SASL settings for these connections (the
 * registered address, plaintext, as the replica fetcher does).
 */
import {Connection} from '../../lib/client/connection.js'
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ERROR_CODES, ErrorCode} from '../../lib/protocol/generated/errors.js'
import type {MetadataStore} from '../controller/metadata-store.js'
import type {InterBrokerClient} from '../replication/inter-broker.js'
import type {Logger} from '../logger.js'
import {TransactionError} from './transaction-coordinator.js'

export interface TxnMarker {
  topic: string
  partition: number
  producerId: number
  producerEpoch: number
  commit: boolean
  /** The leader epoch of the coordinator's __transaction_state partition. */
  coordinatorEpoch: number
}

export interface TransactionMarkerChannelOptions {
  nodeId: number
  metadata: MetadataStore
  /** Appends the marker here, as leader: the Kafka error code (NONE when written). */
  writeLocal(marker: TxnMarker): Promise<number>
  log?: Logger
  /** Between attempts (Kafka's retry.backoff.ms default). */
  backoffMs?: number
  /** Per WriteTxnMarkers request (Kafka: request.timeout.ms). */
  requestTimeoutMs?: number
  /** The inter-broker listener and its security (default: each broker's first registered address, plaintext). */
  interBroker?: InterBrokerClient
}

/** Errors after which the marker is sent again. */
const RETRIABLE = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.NOT_ENOUGH_REPLICAS,
  ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
  ErrorCode.REQUEST_TIMED_OUT,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.NOT_COORDINATOR,
])

function nameOf(code: number): string {
  return ERROR_CODES.find((e) => e.code === code)?.name ?? String(code)
}

export class TransactionMarkerChannel {
  private readonly connections = new Map<number, {host: string; port: number; connection: Promise<Connection>}>()
  private closed = false
  private readonly wakers = new Set<() => void>()

  constructor(private readonly options: TransactionMarkerChannelOptions) {}

  /**
   * Writes one marker, retrying until it is in the partition's log. Resolves true when written,
   * false when the partition no longer exists; rejects with NOT_COORDINATOR when the completion
   * must stop (see the file comment).
   */
  async write(marker: TxnMarker, stillOwner: () => boolean): Promise<boolean> {
    const {metadata, nodeId, log} = this.options
    let attempts = 0
    for (;;) {
      if (this.closed || !stillOwner()) throw new TransactionError('NOT_COORDINATOR', `No longer the coordinator completing the transaction of producer ${marker.producerId}`)
      const assignment = metadata.topic(marker.topic)?.partitions.find((p) => p.partition === marker.partition)
      if (!assignment) return false
      let errorCode: number
      let detail: unknown
      try {
        errorCode = assignment.leader === nodeId ? await this.options.writeLocal(marker) : assignment.leader < 0 ? ErrorCode.NOT_LEADER_OR_FOLLOWER : await this.send(assignment.leader, marker)
      } catch (error) {
        errorCode = ErrorCode.NETWORK_EXCEPTION
        detail = error
      }
      if (errorCode === ErrorCode.NONE) return true
      if (errorCode === ErrorCode.INVALID_PRODUCER_EPOCH || errorCode === ErrorCode.TRANSACTION_COORDINATOR_FENCED) {
        throw new TransactionError('NOT_COORDINATOR', `The marker for ${marker.topic}-${marker.partition} was rejected with ${nameOf(errorCode)}`)
      }
      if (!RETRIABLE.has(errorCode) && errorCode !== ErrorCode.NETWORK_EXCEPTION) {
        // Kafka treats anything else as a bug (IllegalStateException); keep trying, loudly, rather
        // than leave the transaction open for ever.
        log?.error({topic: marker.topic, partition: marker.partition, producerId: marker.producerId, error: nameOf(errorCode)}, 'unexpected error writing a transaction marker; retrying')
      } else if (attempts % 20 === 0) {
        log?.warn({topic: marker.topic, partition: marker.partition, leader: assignment.leader, producerId: marker.producerId, error: nameOf(errorCode), err: detail}, 'writing a transaction marker failed; retrying')
      }
      attempts++
      await this.pause(this.options.backoffMs ?? 100)
    }
  }

  /**
   * KIP-890 verification at a partition leader for a transaction coordinated by broker
   * `coordinator`: AddPartitionsToTxn v4 with verifyOnly, one try (the producer retries). Returns
   * the partition's error code; NETWORK_EXCEPTION when the coordinator could not be asked.
   */
  async verify(coordinator: number, txn: {transactionalId: string; producerId: number; producerEpoch: number; topic: string; partition: number}): Promise<number> {
    try {
      const connection = await this.connect(coordinator)
      const response = await connection.send(
        ApiKey.AddPartitionsToTxn,
        {
          transactions: [
            {transactionalId: txn.transactionalId, producerId: BigInt(txn.producerId), producerEpoch: txn.producerEpoch, verifyOnly: true, topics: [{name: txn.topic, partitions: [txn.partition]}]},
          ],
        },
        {version: 4},
      )
      if (response.errorCode !== ErrorCode.NONE) return response.errorCode
      const result = response.resultsByTransaction[0]?.topicResults.find((t) => t.name === txn.topic)?.resultsByPartition.find((p) => p.partitionIndex === txn.partition)
      return result?.partitionErrorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR
    } catch {
      return ErrorCode.NETWORK_EXCEPTION
    }
  }

  private async send(leader: number, marker: TxnMarker): Promise<number> {
    const connection = await this.connect(leader)
    const response = await connection.send(
      ApiKey.WriteTxnMarkers,
      {
        markers: [
          {
            producerId: BigInt(marker.producerId),
            producerEpoch: marker.producerEpoch,
            transactionResult: marker.commit,
            topics: [{name: marker.topic, partitionIndexes: [marker.partition]}],
            coordinatorEpoch: marker.coordinatorEpoch,
          },
        ],
      },
      {version: 1},
    )
    const result = response.markers[0]?.topics.find((t) => t.name === marker.topic)?.partitions.find((p) => p.partitionIndex === marker.partition)
    return result?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR
  }

  /** The connection to `nodeId`, made again when it closed or the broker registered another address. */
  private connect(nodeId: number): Promise<Connection> {
    const registration = this.options.metadata.brokers().find((b) => b.nodeId === nodeId)
    if (!registration) return Promise.reject(new Error(`broker ${nodeId} is not registered`))
    const endpoint = this.options.interBroker ? this.options.interBroker.endpoint(registration) : registration
    const existing = this.connections.get(nodeId)
    if (existing && existing.host === endpoint.host && existing.port === endpoint.port) {
      return existing.connection.then((c) => (c.closed ? this.reconnect(nodeId, endpoint) : c))
    }
    return this.reconnect(nodeId, endpoint)
  }

  private reconnect(nodeId: number, endpoint: {host: string; port: number}): Promise<Connection> {
    void this.connections
      .get(nodeId)
      ?.connection.then((c) => c.close())
      .catch(() => undefined)
    const timeout = this.options.requestTimeoutMs ?? 30_000
    const security = this.options.interBroker?.security
    const connection = Connection.connect(endpoint, {nodeId, clientId: `kcli-txn-marker-${this.options.nodeId}`, requestTimeoutMs: timeout, connectTimeoutMs: Math.min(10_000, timeout), ...(security ? {security} : {})})
    const entry = {host: endpoint.host, port: endpoint.port, connection}
    this.connections.set(nodeId, entry)
    connection.catch(() => {
      if (this.connections.get(nodeId) === entry) this.connections.delete(nodeId)
    })
    return connection
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.wakers.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.wakers.add(done)
    })
  }

  /** Closes the connections; writes in progress stop with NOT_COORDINATOR. */
  close(): void {
    this.closed = true
    for (const wake of [...this.wakers]) wake()
    for (const {connection} of this.connections.values()) void connection.then((c) => c.close()).catch(() => undefined)
    this.connections.clear()
  }
}
