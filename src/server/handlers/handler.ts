/**
 * What a request handler is: one file per API key under src/server/handlers, each opening with a
 * header comment (versions, behaviour, what is not implemented) and exporting the value made by
 * `defineHandler`. The broker registers the handlers; ApiVersions advertises exactly their ranges.
 *
 * A handler returns its response (fields left out take their defaults) or null when no response
 * is owed (Produce with acks=0). Kafka errors of single items go into the response; a thrown
 * exception means "drop this connection".
 */
import type {ApiKeyNumber, ApiMessages} from '../../lib/protocol/generated/index.js'
import type {RequestHeader} from '../../lib/protocol/generated/request-header.js'
import type {Encodable} from '../../lib/protocol/message.js'
import type {ConnectionInfo} from '../network/connection.js'
import type {BrokerServices} from '../broker-services.js'

export interface RequestContext {
  apiKey: number
  apiVersion: number
  header: RequestHeader
  connection: ConnectionInfo
  broker: BrokerServices
  /**
   * A buffer for bytes that go into this request's response and nowhere else (Fetch's reads): it
   * comes from the broker's pool and goes back once the response is written to the socket.
   */
  allocate(size: number): Buffer
  /**
   * Close the connection once this response is written, dropping requests read after it (a
   * refused SASL mechanism or failed authentication).
   */
  closeAfterResponse(): void
  /**
   * Client quotas (issue 15), given to a consumer's Fetch when a consumer_byte_rate or
   * request_percentage quota is configured: KafkaApis.handleFetchRequest's quota steps.
   */
  fetchQuota?: FetchQuota
  /**
   * Request metrics (issue 16), when metrics.listener is on: the handler calls `delayed()` when
   * the request starts waiting in a purgatory (an acks=all produce for its ISR, a fetch's long
   * poll), which ends its LocalTimeMs and starts its RemoteTimeMs.
   */
  requestTimer?: {delayed(): void}
}

export interface FetchQuota {
  /** The response's byte cap: the consumer quota times samples - 1 windows (getMaxValueInQuotaWindow). */
  readonly maxBytes: number
  /**
   * Records the response's size against consumer_byte_rate and the request's time against
   * request_percentage, before the fetch commits its session state, and returns the throttle time
   * (0 within quota). Throttled, the bytes are taken back (unrecordQuotaSensor) and the fetch
   * answers empty, as Kafka's getThrottledResponse.
   */
  throttle(response: object): number
}

export type ResponseOf<K extends ApiKeyNumber> = Encodable<ApiMessages[K]['response']>

export interface ApiHandler<K extends ApiKeyNumber = ApiKeyNumber> {
  apiKey: K
  minVersion: number
  maxVersion: number
  /**
   * The lowest version advertised in ApiVersions when it differs from minVersion (Produce: Kafka
   * 4.0 advertises v0-v2 it does not accept, for librdkafka's sake, KAFKA-18659).
   */
  advertisedMinVersion?: number
  /**
   * The handler keeps no view of its request once its promise has resolved (Produce: the records
   * are written to the log before it answers), so the request frame's memory may be reused for a
   * later request. Only a handler that resolved gives it back; one that threw keeps it.
   */
  releasesRequest?: boolean
  handle(request: ApiMessages[K]['request'], ctx: RequestContext): Promise<ResponseOf<K> | null> | ResponseOf<K> | null
}

export function defineHandler<K extends ApiKeyNumber>(handler: ApiHandler<K>): ApiHandler<K> {
  return handler
}
