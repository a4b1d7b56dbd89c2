// The admin side of transactions: which broker coordinates a transactional id, the transactions
// the coordinators know (ListTransactions) and the state of given ones (DescribeTransactions),
// over the public Kafka protocol only, the way Kafka's Admin client does it:
//
// - describe: FindCoordinator with key type 1 (TRANSACTION) for the ids (batched in one request
//   from v4 on, one request per id before), then DescribeTransactions to each coordinator with
//   the ids it owns; NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE look the coordinator up again,
//   COORDINATOR_LOAD_IN_PROGRESS is retried.
// - list: ListTransactions to every broker (each lists the transactional ids it coordinates),
//   the answers concatenated.
//
// Per-id errors (TRANSACTIONAL_ID_NOT_FOUND, an authorization failure) are data in the results;
// a request-level error or an exhausted retry throws (KafkaError / ConnectionError).

import {ApiKey} from '../protocol/generated/api-keys.js'
import {ErrorCode} from '../protocol/generated/errors.js'
import type {ItemResult} from './admin.js'
import type {KafkaClient} from './client.js'
import {errorName, isRetriableCode, KafkaError} from './errors.js'

/** FindCoordinator key types. */
export const CoordinatorKeyType = {group: 0, transaction: 1} as const

/** Kafka's transaction state names, as ListTransactions filters and both APIs report them. */
export const TRANSACTION_STATES = ['Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort', 'Dead', 'PrepareEpochFence'] as const
export type TransactionStateName = (typeof TRANSACTION_STATES)[number]

/** States in which a transaction is open (started and not yet completed). */
const OPEN_STATES: ReadonlySet<string> = new Set(['Ongoing', 'PrepareCommit', 'PrepareAbort', 'PrepareEpochFence'])

export function isOpenTransactionState(state: string): boolean {
  return OPEN_STATES.has(state)
}

/** The canonical state name for `input` in any case (`ongoing` -> `Ongoing`), or undefined. */
export function transactionStateName(input: string): TransactionStateName | undefined {
  const lower = input.trim().toLowerCase()
  return TRANSACTION_STATES.find((s) => s.toLowerCase() === lower)
}

export interface ListTransactionsFilters {
  /** Only these states (empty or undefined: all). */
  states?: readonly string[]
  /** Only these producer ids (empty or undefined: all). */
  producerIds?: readonly bigint[]
  /** Only transactions open longer than this many ms (ListTransactions v1, KIP-994); undefined: no filter. */
  minDurationMs?: number
}

export interface ListedTransaction {
  transactionalId: string
  producerId: bigint
  state: string
  /** The broker that answered for it (its transaction coordinator). */
  coordinatorId: number
}

export interface ListedTransactions {
  transactions: ListedTransaction[]
  /** State filters some broker did not know (it lists them back in unknownStateFilters). */
  unknownStateFilters: string[]
}

export interface TopicPartitions {
  topic: string
  partitions: number[]
}

export interface TransactionDescription extends ItemResult {
  transactionalId: string
  /** The transaction coordinator's node id (-1 when it could not be found). */
  coordinatorId: number
  state: string
  producerId: bigint
  producerEpoch: number
  /** transaction.timeout.ms the producer asked for. */
  timeoutMs: number
  /** When the current (or last) transaction started, ms since the epoch; null when none has. */
  startTimeMs: number | null
  /** The partitions in the open transaction, by topic, sorted. */
  topicPartitions: TopicPartitions[]
}

interface CoordinatorAnswer {
  key: string
  nodeId: number
  host: string
  port: number
  errorCode: number
  errorMessage: string | null
}

function itemResult(errorCode: number, errorMessage: string | null = null): ItemResult {
  return {errorCode, error: errorCode === 0 ? 'NONE' : errorName(errorCode), errorMessage: errorCode === 0 ? null : errorMessage}
}

/** Codes after which the coordinator must be looked up again. */
function isCoordinatorMovedCode(code: number): boolean {
  return code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.COORDINATOR_NOT_AVAILABLE
}

export class TransactionsAdmin {
  private readonly coordinators = new Map<string, number>()

  constructor(readonly client: KafkaClient) {}

  /**
   * The transaction coordinator of each id: its node id, or the (non-retriable) error
   * FindCoordinator answered for it. Retriable errors are retried; when retries run out the last
   * one is the id's error.
   */
  async findCoordinators(transactionalIds: readonly string[], refresh = false): Promise<Map<string, number | ItemResult>> {
    const out = new Map<string, number | ItemResult>()
    let pending: string[] = []
    for (const id of new Set(transactionalIds)) {
      const cached = this.coordinators.get(id)
      if (cached !== undefined && !refresh) out.set(id, cached)
      else pending.push(id)
    }
    if (pending.length === 0) return out
    let lastError: CoordinatorAnswer | undefined
    let exhausted: KafkaError | undefined
    try {
      await this.client.withRetries(async () => {
        const connection = await this.client.anyConnection()
        const answers: CoordinatorAnswer[] = []
        if (connection.supports(ApiKey.FindCoordinator, 4)) {
          const response = await connection.send(ApiKey.FindCoordinator, {coordinatorKeys: pending, key: '', keyType: CoordinatorKeyType.transaction}, {minVersion: 4})
          answers.push(...response.coordinators)
        } else {
          for (const key of pending) {
            // Versions 1-3 carry one key; v0 has no key type (groups only), hence minVersion 1.
            const response = await connection.send(ApiKey.FindCoordinator, {coordinatorKeys: [key], key, keyType: CoordinatorKeyType.transaction}, {maxVersion: 3, minVersion: 1})
            answers.push({key, nodeId: response.nodeId, host: response.host, port: response.port, errorCode: response.errorCode, errorMessage: response.errorMessage})
          }
        }
        const retry: string[] = []
        for (const key of pending) {
          const answer = answers.find((a) => a.key === key)
          if (!answer) {
            retry.push(key)
            lastError = {key, nodeId: -1, host: '', port: -1, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: 'no answer for this key'}
            continue
          }
          if (answer.errorCode === ErrorCode.NONE) {
            if (!this.client.metadata.brokers.has(answer.nodeId)) this.client.metadata.brokers.set(answer.nodeId, {host: answer.host, nodeId: answer.nodeId, port: answer.port, rack: null})
            this.coordinators.set(key, answer.nodeId)
            out.set(key, answer.nodeId)
          } else if (isRetriableCode(answer.errorCode)) {
            retry.push(key)
            lastError = answer
          } else {
            out.set(key, itemResult(answer.errorCode, answer.errorMessage || null))
          }
        }
        pending = retry
        if (retry.length > 0) {
          exhausted = KafkaError.fromCode(lastError!.errorCode, `FindCoordinator for transactional id ${retry[0]}`)
          throw exhausted
        }
      })
    } catch (error) {
      // Retries exhausted on a Kafka error code: the ids still pending fail with it.
      if (error !== exhausted || lastError === undefined) throw error
      for (const key of pending) out.set(key, itemResult(lastError.errorCode, lastError.errorMessage || `FindCoordinator: ${lastError.errorCode}`))
    }
    return out
  }

  /** DescribeTransactions for each id (duplicates described once), sent to its coordinator. */
  async describeTransactions(transactionalIds: readonly string[]): Promise<TransactionDescription[]> {
    const ids = [...new Set(transactionalIds)]
    const results = new Map<string, TransactionDescription>()
    let pending = ids
    let lastCode = 0
    let refresh = false
    let exhausted: KafkaError | undefined
    try {
      await this.client.withRetries(async () => {
        const coordinators = await this.findCoordinators(pending, refresh)
        refresh = false
        const byNode = new Map<number, string[]>()
        for (const id of pending) {
          const found = coordinators.get(id)!
          if (typeof found === 'number') byNode.set(found, [...(byNode.get(found) ?? []), id])
          else results.set(id, failedDescription(id, -1, found.errorCode, found.errorMessage))
        }
        const retry: string[] = []
        let connectionError: unknown
        await Promise.all(
          [...byNode].map(async ([nodeId, group]) => {
            let response
            try {
              const connection = await this.client.connectionTo(nodeId)
              response = await connection.send(ApiKey.DescribeTransactions, {transactionalIds: group})
            } catch (error) {
              // The coordinator is unreachable: look it up again on the next attempt.
              for (const id of group) this.coordinators.delete(id)
              retry.push(...group)
              connectionError ??= error
              return
            }
            for (const id of group) {
              const state = response.transactionStates.find((s) => s.transactionalId === id)
              if (!state) {
                results.set(id, failedDescription(id, nodeId, ErrorCode.UNKNOWN_SERVER_ERROR, 'the coordinator did not answer for this transactional id'))
                continue
              }
              if (isCoordinatorMovedCode(state.errorCode) || state.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) {
                if (isCoordinatorMovedCode(state.errorCode)) this.coordinators.delete(id)
                lastCode = state.errorCode
                retry.push(id)
                continue
              }
              if (state.errorCode !== ErrorCode.NONE) {
                results.set(id, failedDescription(id, nodeId, state.errorCode, null))
                continue
              }
              results.set(id, {
                transactionalId: id,
                coordinatorId: nodeId,
                state: state.transactionState,
                producerId: state.producerId,
                producerEpoch: state.producerEpoch,
                timeoutMs: state.transactionTimeoutMs,
                startTimeMs: state.transactionStartTimeMs < 0n ? null : Number(state.transactionStartTimeMs),
                topicPartitions: state.topics
                  .map((t) => ({topic: t.topic, partitions: [...t.partitions].sort((a, b) => a - b)}))
                  .sort((a, b) => a.topic.localeCompare(b.topic)),
                ...itemResult(ErrorCode.NONE),
              })
            }
          }),
        )
        pending = [...new Set(retry)]
        if (connectionError !== undefined) throw connectionError
        if (pending.length > 0) {
          refresh = true
          exhausted = KafkaError.fromCode(lastCode, `DescribeTransactions for transactional id ${pending[0]}`)
          throw exhausted
        }
      })
    } catch (error) {
      // Retries exhausted on a coordinator error code: the ids still pending fail with it.
      if (error !== exhausted) throw error
      for (const id of pending) results.set(id, failedDescription(id, this.coordinators.get(id) ?? -1, lastCode, null))
    }
    return ids.map((id) => results.get(id) ?? failedDescription(id, -1, ErrorCode.UNKNOWN_SERVER_ERROR, 'no answer'))
  }

  /** ListTransactions on every broker, concatenated and sorted by transactional id. */
  async listTransactions(filters: ListTransactionsFilters = {}): Promise<ListedTransactions> {
    const metadata = await this.client.refreshMetadata([])
    const durationFilter = filters.minDurationMs === undefined ? -1n : BigInt(filters.minDurationMs)
    const unknown = new Set<string>()
    const lists = await Promise.all(
      metadata.brokers.map(async (broker) => {
        const response = await this.client.withRetries(async () => {
          const connection = await this.client.connectionTo(broker.nodeId)
          const result = await connection.send(
            ApiKey.ListTransactions,
            {durationFilter, producerIdFilters: [...(filters.producerIds ?? [])], stateFilters: [...(filters.states ?? [])]},
            // The duration filter exists from v1 on: a broker with v0 only would ignore it.
            durationFilter >= 0n ? {minVersion: 1} : {},
          )
          if (isRetriableCode(result.errorCode)) throw KafkaError.fromCode(result.errorCode, `ListTransactions on broker ${broker.nodeId}`)
          return result
        })
        if (response.errorCode !== ErrorCode.NONE) throw KafkaError.fromCode(response.errorCode, `ListTransactions on broker ${broker.nodeId}`)
        for (const s of response.unknownStateFilters) unknown.add(s)
        return response.transactionStates.map((t) => ({transactionalId: t.transactionalId, producerId: t.producerId, state: t.transactionState, coordinatorId: broker.nodeId}))
      }),
    )
    return {
      transactions: lists.flat().sort((a, b) => a.transactionalId.localeCompare(b.transactionalId) || a.coordinatorId - b.coordinatorId),
      unknownStateFilters: [...unknown].sort(),
    }
  }
}

function failedDescription(transactionalId: string, coordinatorId: number, errorCode: number, errorMessage: string | null): TransactionDescription {
  return {
    transactionalId,
    coordinatorId,
    state: '',
    producerId: -1n,
    producerEpoch: -1,
    timeoutMs: 0,
    startTimeMs: null,
    topicPartitions: [],
    ...itemResult(errorCode, errorMessage),
  }
}
