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
import {encodeResponse, isKnownApiKey, peekRequestApi, registerApiCodecs, requestHeaderVersion} from '../lib/protocol/frame.js'
import {Reader} from '../lib/protocol/reader.js'
import type {BrokerServices} from './broker-services.js'
import type {ApiHandler} from './handlers/handler.js'
import {apiVersionsFor} from './handlers/api-versions.js'
import {BufferPool} from '../lib/buffer-pool.js'
import type {ConnectionInfo, RequestDispatcher, Response} from './network/connection.js'

// The broker serves every API: all codecs are loaded up front (a client loads them on demand).
registerApiCodecs(API_CODECS)

export class UnsupportedRequestError extends Error {}

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

  async dispatch(frame: Buffer, connection: ConnectionInfo): Promise<Response | null> {
    const {apiKey, apiVersion, correlationId} = peekRequestApi(frame)
    const handler = this.byKey.get(apiKey)
    if (!connection.security.authenticated) connection.security.checkAllowed(apiKey, apiKeyName(apiKey))
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
    const closeAfterResponse = () => {
      close = true
    }
    try {
      response = await handler.handle(request as never, {apiKey, apiVersion, header, connection, broker: this.services(), allocate, closeAfterResponse})
    } catch (error) {
      release()
      throw error
    }
    if (response === null) {
      release()
      return null
    }
    const chunks = encodeResponse(apiKey as ApiKeyNumber, apiVersion, correlationId, response as never)
    const out: Response = taken.length === 0 ? {chunks} : {chunks, sent: release}
    if (close) out.close = true
    return out
  }
}
