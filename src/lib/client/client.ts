// KafkaClient: what producer, consumer and admin share — the bootstrap servers, a pool of
// connections (one per broker and purpose, opened on first use and reopened after a failure),
// the metadata cache, and retries of retriable errors with backoff.
//
// Purposes keep slow requests from delaying others on the same broker: a long-poll Fetch holds
// its connection (brokers answer in order), so the consumer fetches on 'fetch' connections and
// talks to its group coordinator on 'group' connections.

import type {BrokerAddress} from '../cli/bootstrap-server.js'
import {ApiKey} from '../protocol/generated/api-keys.js'
import {Connection, type ConnectionOptions} from './connection.js'
import {ConnectionError, ErrorCode, isRetriable, KafkaError} from './errors.js'
import {type ClusterMetadata, MetadataCache, toClusterMetadata, type TopicInfo} from './metadata.js'
import type {SecuritySettings} from './security.js'

export interface ClientOptions {
  bootstrapServers: BrokerAddress[]
  clientId?: string
  connectTimeoutMs?: number
  requestTimeoutMs?: number
  /** Attempts after the first for retriable errors. Default 5. */
  retries?: number
  /** First backoff; doubles up to retryBackoffMaxMs. Default 100 ms. */
  retryBackoffMs?: number
  retryBackoffMaxMs?: number
  /** Topic metadata older than this is refreshed on lookup. Default 5 minutes. */
  metadataMaxAgeMs?: number
  /** TLS and SASL for every connection (security.ts). Default: plain TCP. */
  security?: SecuritySettings
}

export type ConnectionPurpose = 'default' | 'fetch' | 'group'

export class KafkaClient {
  readonly options: Required<Omit<ClientOptions, 'bootstrapServers' | 'security'>> & {bootstrapServers: BrokerAddress[]; security?: SecuritySettings}
  readonly metadata = new MetadataCache()
  private readonly pool = new Map<string, Promise<Connection>>()
  private bootstrapConnection: Promise<Connection> | undefined
  private bootstrapIndex = 0
  private closed = false

  constructor(options: ClientOptions) {
    if (options.bootstrapServers.length === 0) throw new Error('no bootstrap servers')
    this.options = {
      clientId: 'kcli',
      connectTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      retries: 5,
      retryBackoffMs: 100,
      retryBackoffMaxMs: 1000,
      metadataMaxAgeMs: 300_000,
      ...(Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as ClientOptions),
    }
    this.bootstrapIndex = Math.floor(Math.random() * options.bootstrapServers.length)
  }

  private connectionOptions(nodeId?: number): ConnectionOptions {
    return {
      clientId: this.options.clientId,
      connectTimeoutMs: this.options.connectTimeoutMs,
      nodeId,
      requestTimeoutMs: this.options.requestTimeoutMs,
      security: this.options.security,
    }
  }

  /**
   * A connection to any broker: the bootstrap connection, or a known broker. Bootstrap servers are
   * tried in turn until one answers.
   */
  async anyConnection(): Promise<Connection> {
    if (this.closed) throw new ConnectionError('client closed')
    if (this.bootstrapConnection) {
      const existing = await this.bootstrapConnection.catch(() => undefined)
      if (existing && !existing.closed) return existing
      this.bootstrapConnection = undefined
    }
    // Prefer an open pooled connection.
    for (const promise of this.pool.values()) {
      const connection = await promise.catch(() => undefined)
      if (connection && !connection.closed) return connection
    }
    const servers = this.options.bootstrapServers
    const attempt = async (): Promise<Connection> => {
      let lastError: unknown
      for (let i = 0; i < servers.length; i++) {
        const server = servers[(this.bootstrapIndex + i) % servers.length]!
        try {
          const connection = await Connection.connect(server, this.connectionOptions())
          this.bootstrapIndex = (this.bootstrapIndex + i) % servers.length
          return connection
        } catch (error) {
          lastError = error
        }
      }
      throw lastError
    }
    this.bootstrapConnection = attempt()
    this.bootstrapConnection.catch(() => {
      this.bootstrapConnection = undefined
    })
    return this.bootstrapConnection
  }

  /** A pooled connection to broker `nodeId` (metadata is loaded first if the broker is unknown). */
  async connectionTo(nodeId: number, purpose: ConnectionPurpose = 'default'): Promise<Connection> {
    if (this.closed) throw new ConnectionError('client closed')
    const key = `${nodeId}/${purpose}`
    const existing = this.pool.get(key)
    if (existing) {
      const connection = await existing.catch(() => undefined)
      if (connection && !connection.closed) return connection
      if (this.pool.get(key) === existing) this.pool.delete(key)
    }
    let broker = this.metadata.brokers.get(nodeId)
    if (!broker) {
      await this.refreshMetadata([])
      broker = this.metadata.brokers.get(nodeId)
    }
    if (!broker) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, 'BROKER_NOT_AVAILABLE', `broker ${nodeId} is not in the cluster metadata`, {retriable: true})
    const promise = Connection.connect(broker, this.connectionOptions(nodeId))
    this.pool.set(key, promise)
    promise.then(
      (connection) => connection.onClose(() => {
        if (this.pool.get(key) === promise) this.pool.delete(key)
      }),
      () => {
        if (this.pool.get(key) === promise) this.pool.delete(key)
      },
    )
    return promise
  }

  /**
   * Fetches metadata for `topics` (null: every topic; []: brokers only) and updates the cache.
   * Creates missing topics only with `allowAutoTopicCreation` (and a broker with
   * auto.create.topics.enable), as the Java producer asks for them.
   */
  async refreshMetadata(topics: null | readonly string[], allowAutoTopicCreation = false): Promise<ClusterMetadata> {
    return this.withRetries(async () => {
      const connection = await this.anyConnection()
      const response = await connection.send(ApiKey.Metadata, {
        allowAutoTopicCreation,
        topics: topics === null ? null : topics.map((name) => ({name})),
      }, {minVersion: 1})
      const metadata = toClusterMetadata(response)
      this.metadata.update(metadata)
      return metadata
    })
  }

  /**
   * Topic metadata from the cache, refreshed when missing or stale. Throws
   * UNKNOWN_TOPIC_OR_PARTITION (not retried) for a topic that does not exist; retries
   * LEADER_NOT_AVAILABLE and the like (a topic just auto-created has no leader for a moment).
   */
  async topic(name: string, options: {allowAutoCreate?: boolean} = {}): Promise<TopicInfo> {
    if (!this.metadata.needsRefresh(name, this.options.metadataMaxAgeMs)) return this.metadata.topic(name)!
    return this.withRetries(async () => {
      const metadata = await this.refreshMetadata([name], options.allowAutoCreate ?? false)
      const topic = metadata.topics.find((t) => t.name === name)
      if (!topic || topic.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
        throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'UNKNOWN_TOPIC_OR_PARTITION', `topic ${name}`, {retriable: false})
      }
      if (topic.errorCode !== 0) throw KafkaError.fromCode(topic.errorCode, `topic ${name}`)
      if (topic.partitions.length === 0) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, 'LEADER_NOT_AVAILABLE', `topic ${name} has no partitions yet`, {retriable: true})
      return this.metadata.topic(name)!
    })
  }

  /** The leader of a partition (refreshing metadata when unknown); retriable errors when there is none. */
  async leaderFor(topic: string, partition: number): Promise<number> {
    const info = await this.topic(topic)
    const p = info.partitions.find((x) => x.partition === partition)
    if (!p) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'UNKNOWN_TOPIC_OR_PARTITION', `partition ${topic}-${partition} does not exist`, {retriable: false})
    if (p.leaderId < 0) {
      this.metadata.markStale(topic)
      throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, 'LEADER_NOT_AVAILABLE', `no leader for ${topic}-${partition}`, {retriable: true})
    }
    return p.leaderId
  }

  /** The broker the cluster names as controller, or any broker (KRaft brokers forward admin requests). */
  async controllerConnection(): Promise<Connection> {
    if (this.metadata.controllerId < 0 || !this.metadata.brokers.has(this.metadata.controllerId)) await this.refreshMetadata([])
    const id = this.metadata.controllerId
    return id >= 0 && this.metadata.brokers.has(id) ? this.connectionTo(id) : this.anyConnection()
  }

  /**
   * Runs `fn`, retrying retriable errors (ConnectionError, retriable KafkaErrors) with exponential
   * backoff, up to `retries` more times. `onRetry` may refresh state between attempts.
   */
  async withRetries<R>(fn: (attempt: number) => Promise<R>, onRetry?: (error: unknown) => Promise<void> | void): Promise<R> {
    let backoff = this.options.retryBackoffMs
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(attempt)
      } catch (error) {
        if (this.closed || attempt >= this.options.retries || !isRetriable(error)) throw error
        await sleep(backoff)
        backoff = Math.min(backoff * 2, this.options.retryBackoffMaxMs)
        await onRetry?.(error)
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true
    const all = [...this.pool.values()]
    if (this.bootstrapConnection) all.push(this.bootstrapConnection)
    this.pool.clear()
    this.bootstrapConnection = undefined
    await Promise.all(all.map(async (promise) => (await promise.catch(() => undefined))?.close()))
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
