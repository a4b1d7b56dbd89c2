/**
 * Turns request frames into response frames: reads the header, finds the handler, decodes the
 * body, calls the handler, encodes its response with the right header version.
 *
 * Kafka's answers to requests it cannot serve, which clients depend on:
 * - ApiVersions at a version the broker does not know: an ApiVersions v0 response with
 *   UNSUPPORTED_VERSION and the supported ranges, so the client can retry at a version it shares;
 * - any other unknown API key or unsupported version, or a malformed request: the connection is
 *   closed (Kafka's SocketServer does the same on InvalidRequestException);
 * - on a SASL listener before authentication completes, any request but the one the SASL state
 *   expects (ApiVersions, SaslHandshake, SaslAuthenticate): the connection is closed before the
 *   request body is read, as Kafka's SaslServerAuthenticator does (IllegalSaslStateException).
 */
import {ApiKey} from '../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../lib/protocol/generated/errors.js'
import {API_CODECS, type ApiKeyNumber} from '../lib/protocol/generated/index.js'
import {RequestHeader} from '../lib/protocol/generated/request-header.js'
import type {FetchRequest} from '../lib/protocol/generated/fetch-request.js'
import type {ProduceRequest} from '../lib/protocol/generated/produce-request.js'
import {encodeResponse, isKnownApiKey, peekRequestApi, registerApiCodecs, requestHeaderVersion} from '../lib/protocol/frame.js'
import {Reader} from '../lib/protocol/reader.js'
import type {BrokerServices} from './broker-services.js'
import type {ApiHandler, FetchQuota} from './handlers/handler.js'
import {apiVersionsFor} from './handlers/api-versions.js'
import {BufferPool} from '../lib/buffer-pool.js'
import {quotaUser} from './quotas/client-quota-manager.js'
import type {ConnectionInfo, RequestDispatcher, Response} from './network/connection.js'

// ---- Client quotas (issue 15) ----
/**
 * Requests no client quota records or throttles: the SASL exchange and ApiVersions (before a
 * client knows the broker), and WriteTxnMarkers (a broker's request: KafkaApis answers it
 * sendResponseExemptThrottle).
 */
const QUOTA_EXEMPT = new Set<number>([ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate, ApiKey.WriteTxnMarkers])


/** Fetches of follower replicas are never client-quota'd (replication throttles are separate). */
function isFollowerFetch(request: FetchRequest, apiVersion: number): boolean {
  return (apiVersion >= 15 ? request.replicaState.replicaId : request.replicaId) >= 0
}
// ---- end client quotas ----

// The broker serves every API: all codecs are loaded up front (a client loads them on demand).
registerApiCodecs(API_CODECS)

export class UnsupportedRequestError extends Error {}

/** A request on a connection whose SASL session expired (KIP-368): the connection is closed without an answer, as Kafka does. */
export class SessionExpiredError extends Error {}

/** An API key as Kafka's ApiKeys enum names it in messages (METADATA, SASL_HANDSHAKE). */
function apiKeyName(apiKey: number): string {
  if (!isKnownApiKey(apiKey)) return `API key ${apiKey}`
  return API_CODECS[apiKey].request.name
    .replace(/Request$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
}

export class HandlerRegistry implements RequestDispatcher {
  private readonly byKey = new Map<number, ApiHandler>()
  /** Buffers for response data (RequestContext.allocate), reused once the response is written. */
  private readonly responseData = new BufferPool(32)
  /**
   * Memory for large request frames, given back once a handler that keeps nothing of its request
   * (Produce) has answered. A fresh buffer per frame cost the broker a third of its produce CPU in
   * page faults and collections (a 1 MiB produce request is 16 socket reads copied into it).
   * Frames above 4 MiB are plain allocations, so the pool keeps at most 16 buffers of 4 MiB.
   */
  private readonly requestFrames = new BufferPool(16, 64 * 1024, 4 * 1024 * 1024)

  constructor(
    handlers: readonly ApiHandler[],
    private readonly services: () => BrokerServices,
  ) {
    for (const h of handlers) {
      if (this.byKey.has(h.apiKey)) throw new Error(`two handlers for API key ${h.apiKey}`)
      const codec = API_CODECS[h.apiKey].request
      if (h.minVersion < codec.minVersion || h.maxVersion > codec.maxVersion) throw new Error(`handler for ${codec.name} claims versions the codec lacks`)
      this.byKey.set(h.apiKey, h)
    }
  }

  get handlers(): ApiHandler[] {
    return [...this.byKey.values()].sort((a, b) => a.apiKey - b.apiKey)
  }

  allocateFrame(size: number): Buffer {
    return this.requestFrames.take(size)
  }

  async dispatch(frame: Buffer, connection: ConnectionInfo, receivedAt?: number, dequeuedAt?: number): Promise<Response | null> {
    const {apiKey, apiVersion, correlationId} = peekRequestApi(frame)
    // Request metrics (issue 16): the request's handling starts here (its queue time ends).
    const metrics = receivedAt === undefined ? undefined : this.services().metrics
    const timer = metrics?.requestStarted(apiKey, apiVersion, receivedAt!, dequeuedAt)
    const handler = this.byKey.get(apiKey)
    if (!connection.security.authenticated) connection.security.checkAllowed(apiKey, apiKeyName(apiKey))
    // KIP-368 (issue 15): past its session lifetime a connection may only re-authenticate.
    else if (apiKey !== ApiKey.SaslHandshake && connection.security.sessionExpired(Date.now())) throw new SessionExpiredError(`the SASL session of ${connection.security.principal} expired (connections.max.reauth.ms) without re-authentication`)
    if (!handler || !isKnownApiKey(apiKey)) throw new UnsupportedRequestError(`unknown API key ${apiKey}`)
    if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      if (apiKey === ApiKey.ApiVersions) {
        return {chunks: encodeResponse(ApiKey.ApiVersions, 0, correlationId, {errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: apiVersionsFor(this.handlers)})}
      }
      throw new UnsupportedRequestError(`${API_CODECS[apiKey].request.name} v${apiVersion} is not supported`)
    }
    const r = new Reader(frame)
    const header = RequestHeader.read(r, requestHeaderVersion(apiKey, apiVersion))
    const request = API_CODECS[apiKey].request.read(r, apiVersion)
    const taken: Buffer[] = []
    const allocate = (size: number) => {
      const buffer = this.responseData.take(size)
      taken.push(buffer)
      return buffer
    }
    const release = () => {
      for (const buffer of taken) this.responseData.release(buffer)
    }
    let response
    let close = false
    const startedNs = process.hrtime.bigint()
    let handlerNs = 0
    const services = this.services()
    const closeAfterResponse = () => {
      close = true
    }
    // ---- Client quotas (issue 15) ----
    const quotas = services.quotas
    const client = quotas && connection.security.authenticated && !QUOTA_EXEMPT.has(apiKey) ? {user: quotaUser(connection.security.principal), clientId: header.clientId ?? ''} : undefined
    // A follower's Fetch is exempt (replication throttles are separate; KafkaApis answers it
    // sendResponseExemptThrottle); a consumer's is recorded by the fetch itself (fetchQuota).
    const followerFetch = apiKey === ApiKey.Fetch && isFollowerFetch(request as FetchRequest, apiVersion)
    if (timer && followerFetch) timer.follower = true
    // acks=0: Kafka records the produce bytes but not the request time (the request quota is not enforced).
    const acksZero = apiKey === ApiKey.Produce && (request as ProduceRequest).acks === 0
    let fetchThrottle: {throttleMs: number; startedMs: number; body: object; chunks: Buffer[]} | undefined
    let fetchQuota: FetchQuota | undefined
    if (client && apiKey === ApiKey.Fetch && !followerFetch && (quotas!.quotasEnabled('consumer_byte_rate') || quotas!.quotasEnabled('request_percentage'))) {
      fetchQuota = {
        maxBytes: quotas!.maxValueInQuotaWindow('consumer_byte_rate', client.user, client.clientId),
        throttle: (body) => {
          // KafkaApis: the size of the response the fetch would send, recorded with the request time at one instant.
          const chunks = encodeResponse(ApiKey.Fetch, apiVersion, correlationId, body as never)
          const size = chunks.reduce((n, c) => n + c.length, 0)
          const now = Date.now()
          const requestThrottle = quotas!.recordAndGetThrottleTimeMs('request_percentage', client.user, client.clientId, (handlerNs / 1e9) * 100, now)
          const bytesThrottle = quotas!.recordAndGetThrottleTimeMs('consumer_byte_rate', client.user, client.clientId, size, now)
          const throttleMs = Math.max(requestThrottle, bytesThrottle)
          // Throttled, the fetch answers empty: its bytes are taken back (unrecordQuotaSensor).
          if (throttleMs > 0) quotas!.unrecord('consumer_byte_rate', client.user, client.clientId, size, now)
          fetchThrottle = {throttleMs, startedMs: performance.now(), body, chunks}
          return throttleMs
        },
      }
    }
    // ---- end client quotas ----
    try {
      // One shape for every request's context (no spread of optional parts): the handlers' property reads stay monomorphic.
      const pending = handler.handle(request as never, {apiKey, apiVersion, header, connection, broker: services, allocate, closeAfterResponse, fetchQuota, requestTimer: timer})
      // request_percentage (issue 15) charges the handler's synchronous work: the time a request
      // waits (a Fetch long poll, acks=all replication) is not work, as Kafka's purgatory is not.
      handlerNs = Number(process.hrtime.bigint() - startedNs)
      response = await pending
    } catch (error) {
      timer?.ready()
      release()
      throw error
    }
    // ---- Client quotas (issue 15) ----
    // The throttle is computed once the response is (KafkaApis records at the response callback),
    // and the connection stays muted until that instant plus the throttle (ThrottledChannel).
    let throttleMs = 0
    let throttleStartedMs = performance.now()
    if (fetchThrottle) {
      throttleMs = fetchThrottle.throttleMs
      throttleStartedMs = fetchThrottle.startedMs
    } else if (client && !followerFetch) {
      const now = Date.now()
      // request_percentage: the handler's synchronous time, as percent-seconds (Kafka: request thread time); not for acks=0.
      if (!acksZero) throttleMs = quotas!.recordAndGetThrottleTimeMs('request_percentage', client.user, client.clientId, (handlerNs / 1e9) * 100, now)
      if (apiKey === ApiKey.Produce) throttleMs = Math.max(throttleMs, quotas!.recordAndGetThrottleTimeMs('producer_byte_rate', client.user, client.clientId, frame.length, now))
    }
    if (response === null) {
      if (timer) {
        metrics!.responseReady(timer, response)
        timer.sent(timer.readyAt)
      }
      release()
      if (handler.releasesRequest) this.requestFrames.release(frame)
      // acks=0: no answer, but the connection is muted all the same (a producer_byte_rate violation).
      return throttleMs > 0 ? {chunks: [], throttleMs, throttleStartedMs} : null
    }
    // Handlers may have set a throttle of their own (controller_mutation_rate, a throttled fetch's
    // own): the connection is muted for the longest.
    const body = response as {throttleTimeMs?: number}
    const handlerThrottle = typeof body.throttleTimeMs === 'number' ? body.throttleTimeMs : 0
    if (throttleMs > handlerThrottle) body.throttleTimeMs = throttleMs
    throttleMs = Math.max(throttleMs, handlerThrottle)
    // A fetch within quota sends the response it was measured by, as encoded then.
    const chunks = fetchThrottle?.body === response && throttleMs === 0 ? fetchThrottle.chunks : encodeResponse(apiKey as ApiKeyNumber, apiVersion, correlationId, response as never)
    // ---- end client quotas ----
    if (handler.releasesRequest) this.requestFrames.release(frame)
    if (timer) metrics!.responseReady(timer, response)
    // One shape for every response (the connection's reads of it stay monomorphic).
    return {chunks, sent: taken.length === 0 ? undefined : release, timer, close, throttleMs: throttleMs > 0 ? throttleMs : undefined, throttleStartedMs: throttleMs > 0 ? throttleStartedMs : undefined}
  }
}
