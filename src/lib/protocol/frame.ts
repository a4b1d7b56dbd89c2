/**
 * Request and response framing. On the wire every frame is a 4-byte size followed by that many
 * bytes; the functions here work on the bytes after the size (what a framer hands over) and
 * produce chunks with the size in front (what a socket writes).
 *
 * Header versions (protocol guide): a request header is v2 for flexible API versions and v1
 * otherwise (v0, without a client id, belonged to ControlledShutdown v0, gone in Kafka 4.0); a
 * response header is v1 for flexible versions and v0 otherwise — except ApiVersions, whose response
 * header is always v0 so that a client can read it before it knows what the broker supports.
 */
import {ProtocolDecodeError, UnsupportedVersionError} from './errors.js'
import {ApiKey} from './generated/api-keys.js'
import type {ApiCodecs, ApiKeyNumber, ApiMessages} from './generated/index.js'
import {API_CODEC_LOADERS} from './generated/loaders.js'
import {RequestHeader} from './generated/request-header.js'
import {ResponseHeader} from './generated/response-header.js'
import type {Encodable, MessageCodec} from './message.js'
import {Reader} from './reader.js'
import {Writer} from './writer.js'

export type {RequestHeader} from './generated/request-header.js'
export type {ResponseHeader} from './generated/response-header.js'

export function isKnownApiKey(apiKey: number): apiKey is ApiKeyNumber {
  return Object.prototype.hasOwnProperty.call(API_CODEC_LOADERS, apiKey)
}

// The codecs the functions below use, by API key. They are loaded on demand: a client awaits
// loadApiCodecs() for each API before its first request (a command uses a handful of the 88 APIs,
// and importing all 186 generated modules costs tens of milliseconds at every start), while the
// broker, which serves them all, registers the whole table at once (registerApiCodecs).
const loaded = new Map<number, ApiCodecs>()
const loading = new Map<number, Promise<void>>()

/** Makes every codec of `table` available (e.g. API_CODECS from generated/index.js). */
export function registerApiCodecs(table: {readonly [K in ApiKeyNumber]: ApiCodecs<K>}): void {
  for (const [apiKey, pair] of Object.entries(table)) loaded.set(Number(apiKey), pair as ApiCodecs)
}

/** Whether the codecs of `apiKey` are loaded (then loadApiCodecs need not be awaited). */
export function apiCodecsLoaded(apiKey: number): boolean {
  return loaded.has(apiKey)
}

/** Loads the codecs of `apiKey` (once; later calls share the first). */
export function loadApiCodecs(apiKey: ApiKeyNumber): Promise<void> {
  if (loaded.has(apiKey)) return Promise.resolve()
  let promise = loading.get(apiKey)
  if (!promise) {
    promise = API_CODEC_LOADERS[apiKey]().then((pair) => {
      loaded.set(apiKey, pair as ApiCodecs)
      loading.delete(apiKey)
    })
    loading.set(apiKey, promise)
  }
  return promise
}

function codecs(apiKey: number): ApiCodecs {
  if (!isKnownApiKey(apiKey)) throw new UnsupportedVersionError(`API key ${apiKey}`, 0)
  const pair = loaded.get(apiKey)
  if (!pair) throw new Error(`the codecs of API key ${apiKey} are not loaded: await loadApiCodecs(${apiKey}) first`)
  return pair
}

function isFlexible(codec: MessageCodec<unknown>, version: number): boolean {
  return codec.flexibleMinVersion !== null && version >= codec.flexibleMinVersion
}

export function requestHeaderVersion(apiKey: number, apiVersion: number): number {
  return isFlexible(codecs(apiKey).request, apiVersion) ? 2 : 1
}

export function responseHeaderVersion(apiKey: number, apiVersion: number): number {
  if (apiKey === ApiKey.ApiVersions) return 0
  return isFlexible(codecs(apiKey).response, apiVersion) ? 1 : 0
}

/** The first fields of every request header, readable before the API is known to be valid. */
export function peekRequestApi(frame: Buffer): {apiKey: number; apiVersion: number; correlationId: number} {
  const r = new Reader(frame)
  return {apiKey: r.int16('RequestHeader.requestApiKey'), apiVersion: r.int16('RequestHeader.requestApiVersion'), correlationId: r.int32('RequestHeader.correlationId')}
}

export interface DecodedRequest<K extends ApiKeyNumber = ApiKeyNumber> {
  header: RequestHeader
  apiKey: K
  apiVersion: number
  body: ApiMessages[K]['request']
}

/**
 * Decodes a request frame (without its size). Throws UnsupportedVersionError for an API key or
 * version this codec does not have, ProtocolDecodeError for malformed bytes.
 */
export function decodeRequest(frame: Buffer): DecodedRequest {
  const {apiKey, apiVersion} = peekRequestApi(frame)
  const {request} = codecs(apiKey)
  if (apiVersion < request.minVersion || apiVersion > request.maxVersion) throw new UnsupportedVersionError(request.name, apiVersion)
  const r = new Reader(frame)
  const header = RequestHeader.read(r, requestHeaderVersion(apiKey, apiVersion))
  const body = request.read(r, apiVersion)
  return {header, apiKey: apiKey as ApiKeyNumber, apiVersion, body}
}

/** The bytes after the 4-byte size: a decoded response with its correlation id. */
export function decodeResponse<K extends ApiKeyNumber>(frame: Buffer, apiKey: K, apiVersion: number): {header: ResponseHeader; body: ApiMessages[K]['response']} {
  const {response} = codecs(apiKey)
  if (apiVersion < response.minVersion || apiVersion > response.maxVersion) throw new UnsupportedVersionError(response.name, apiVersion)
  const r = new Reader(frame)
  const header = ResponseHeader.read(r, responseHeaderVersion(apiKey, apiVersion))
  const body = (response as MessageCodec<ApiMessages[K]['response']>).read(r, apiVersion)
  return {header, body}
}

/** Reserves the 4-byte size at the front of a writer's output and fills it in at the end. */
function sized(write: (w: Writer) => void): Buffer[] {
  const w = new Writer()
  w.int32(0)
  write(w)
  const chunks = w.toChunks()
  chunks[0]!.writeInt32BE(w.length - 4, 0)
  return chunks
}

export function encodeRequest<K extends ApiKeyNumber>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  clientId: string | null,
  body: Encodable<ApiMessages[K]['request']>,
): Buffer[] {
  const {request} = codecs(apiKey)
  if (apiVersion < request.minVersion || apiVersion > request.maxVersion) throw new UnsupportedVersionError(request.name, apiVersion)
  return sized((w) => {
    RequestHeader.write(w, {requestApiKey: apiKey, requestApiVersion: apiVersion, correlationId, clientId}, requestHeaderVersion(apiKey, apiVersion))
    ;(request as MessageCodec<ApiMessages[K]['request']>).write(w, body, apiVersion)
  })
}

export function encodeResponse<K extends ApiKeyNumber>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  body: Encodable<ApiMessages[K]['response']>,
): Buffer[] {
  const {response} = codecs(apiKey)
  if (apiVersion < response.minVersion || apiVersion > response.maxVersion) throw new UnsupportedVersionError(response.name, apiVersion)
  return sized((w) => {
    ResponseHeader.write(w, {correlationId}, responseHeaderVersion(apiKey, apiVersion))
    ;(response as MessageCodec<ApiMessages[K]['response']>).write(w, body, apiVersion)
  })
}

export {ProtocolDecodeError, UnsupportedVersionError}
