// One TCP connection to one broker: size-prefixed frames, pipelined requests matched to their
// responses by correlation id, and API version negotiation.
//
// On connect the client sends ApiVersions (v3, falling back to v0 as KIP-511 describes when the
// broker answers UNSUPPORTED_VERSION) and keeps the broker's ranges. Every later request is sent
// at the highest version both sides know, optionally capped by the caller (`maxVersion`) when it
// only handles a range of versions; an API the broker does not advertise fails with
// UNSUPPORTED_VERSION before anything is sent.
//
// Requests are written as soon as they are made (pipelining; Kafka answers them in order); each has
// a timeout, and a request that times out closes the connection, as Kafka's clients do, since the
// responses after it can no longer be trusted to be read in step. Produce with acks=0 has no
// response: `expectResponse: false` resolves once the bytes are written.

import {createConnection, isIP, type Socket} from 'node:net'
import {connect as tlsConnect} from 'node:tls'

import {apiCodecsLoaded, decodeResponse, encodeRequest, loadApiCodecs} from '../protocol/frame.js'
import {FrameReader} from '../protocol/frame-reader.js'
import {API_KEYS, ApiKey} from '../protocol/generated/api-keys.js'
import type {ApiKeyNumber, ApiMessages} from '../protocol/generated/index.js'
import type {Encodable} from '../protocol/message.js'
import {ConnectionError, ErrorCode, KafkaError} from './errors.js'
import {responseBuffers} from './response-buffers.js'
import type {SaslSettings, SecuritySettings} from './security.js'
import {plainMessage} from '../sasl/plain.js'
import {ScramClient, ScramError} from '../sasl/scram.js'

export interface BrokerEndpoint {
  host: string
  port: number
}

export interface ConnectionOptions {
  clientId?: string
  /** How long to wait for the TCP connection and ApiVersions. Default 10000 ms. */
  connectTimeoutMs?: number
  /** How long to wait for a response. Default 30000 ms; requests may override it. */
  requestTimeoutMs?: number
  /** The broker's node id, when known (used in messages). */
  nodeId?: number
  /** A larger response closes the connection (its size field is garbage: not a Kafka broker). Default 256 MiB. */
  maxResponseBytes?: number
  /** TLS and SASL (security.ts); plain TCP without. */
  security?: SecuritySettings
}

export interface RequestOptions {
  /** Send at exactly this version (it must be in both ranges). */
  version?: number
  /** Highest version the caller handles; the negotiated version is capped by it. */
  maxVersion?: number
  /** Lowest version the caller handles. */
  minVersion?: number
  /** False for Produce with acks=0: resolves when written. */
  expectResponse?: boolean
  /** Overrides the connection's request timeout (a long-poll Fetch adds its max wait). */
  timeoutMs?: number
}

export interface VersionRange {
  minVersion: number
  maxVersion: number
}

interface InFlight {
  apiKey: ApiKeyNumber
  version: number
  resolve(frame: Buffer): void
  reject(error: Error): void
  timer: NodeJS.Timeout
}

const CLIENT_SOFTWARE_NAME = 'kcli'
const CLIENT_SOFTWARE_VERSION = '0.1.0'
const OWN_VERSIONS = new Map(API_KEYS.filter((api) => api.minVersion <= api.maxVersion).map((api) => [api.apiKey, {maxVersion: api.maxVersion, minVersion: api.minVersion}]))

export class Connection {
  readonly host: string
  readonly port: number
  readonly nodeId: number | undefined
  readonly clientId: string
  /** The broker's version ranges by API key, from ApiVersions. */
  readonly brokerVersions = new Map<number, VersionRange>()

  private readonly socket: Socket
  private readonly requestTimeoutMs: number
  /** Plain TCP without SASL: then a broker that hangs up may want TLS or SASL (see securityHint). */
  private readonly unsecured: boolean
  private readonly inFlight = new Map<number, InFlight>()
  private nextCorrelationId = 1
  private readonly frames: FrameReader
  private closedError: Error | undefined
  private readonly closeListeners: ((error: Error | undefined) => void)[] = []

  private constructor(endpoint: BrokerEndpoint, options: ConnectionOptions) {
    this.host = endpoint.host
    this.port = endpoint.port
    this.nodeId = options.nodeId
    this.clientId = options.clientId ?? 'kcli'
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000
    this.unsecured = options.security === undefined || options.security.protocol === 'PLAINTEXT'
    this.frames = new FrameReader({allocate: (size) => responseBuffers.take(size), maxFrameSize: options.maxResponseBytes ?? 256 * 1024 * 1024, onFrame: (frame) => this.onFrame(frame)})
    const tls = options.security?.tls
    if (tls) {
      // TLS: the decrypted bytes arrive as 'data' chunks.
      this.socket = tlsConnect({...tls, host: endpoint.host, port: endpoint.port, servername: isIP(endpoint.host) ? undefined : endpoint.host})
      this.socket.setNoDelay(true)
      this.socket.on('data', (chunk: Buffer) => this.onChunk(chunk))
    } else {
      // Connects at once; responses are read straight into the frame reader's buffers (frame-reader.ts).
      this.socket = createConnection({
        host: endpoint.host,
        noDelay: true,
        onread: {buffer: () => this.frames.readBuffer(), callback: (n) => this.onRead(n)},
        port: endpoint.port,
      })
    }
  }

  /** Connects and negotiates versions. Throws ConnectionError when the broker cannot be reached. */
  static async connect(endpoint: BrokerEndpoint, options: ConnectionOptions = {}): Promise<Connection> {
    const connectTimeoutMs = options.connectTimeoutMs ?? 10_000
    const connection = new Connection(endpoint, options)
    const {socket} = connection
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy()
        reject(new ConnectionError(`cannot connect to ${endpoint.host}:${endpoint.port}: no answer in ${connectTimeoutMs} ms`))
      }, connectTimeoutMs)
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer)
        const tlsProblem = options.security?.tls && error.code !== 'ECONNREFUSED' ? ` (TLS: ${error.message})` : ''
        reject(new ConnectionError(`cannot connect to ${endpoint.host}:${endpoint.port}: ${error.code ?? error.message}${tlsProblem}`, {cause: error}))
      })
      socket.once(options.security?.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer)
        socket.removeAllListeners('error')
        resolve()
      })
    })
    socket.on('error', (error) => connection.fail(new ConnectionError(`connection to ${connection.describe()} failed: ${error.message}`, {cause: error})))
    socket.on('close', () => connection.fail(new ConnectionError(`connection to ${connection.describe()} closed${connection.inFlight.size > 0 ? connection.securityHint() : ''}`)))
    try {
      await connection.negotiateVersions(connectTimeoutMs)
      if (options.security?.sasl) await connection.authenticate(options.security.sasl)
    } catch (error) {
      connection.close()
      throw error
    }
    return connection
  }

  get closed(): boolean {
    return this.closedError !== undefined
  }

  /** Called once when the connection closes (with the error that closed it, if any). */
  onClose(listener: (error: Error | undefined) => void): void {
    this.closeListeners.push(listener)
  }

  /** Whether the broker advertises `apiKey` in a range that overlaps ours. */
  supports(apiKey: number, minVersion = 0): boolean {
    const theirs = this.brokerVersions.get(apiKey)
    const ours = OWN_VERSIONS.get(apiKey)
    if (!theirs || !ours) return false
    return Math.min(theirs.maxVersion, ours.maxVersion) >= Math.max(theirs.minVersion, ours.minVersion, minVersion)
  }

  /** The version a request would be sent at; throws UNSUPPORTED_VERSION when there is none. */
  versionFor(apiKey: number, options: Pick<RequestOptions, 'maxVersion' | 'minVersion' | 'version'> = {}): number {
    const theirs = this.brokerVersions.get(apiKey)
    const ours = OWN_VERSIONS.get(apiKey)
    const name = API_KEYS.find((api) => api.apiKey === apiKey)?.name ?? `API ${apiKey}`
    if (!theirs || !ours) throw new KafkaError(ErrorCode.UNSUPPORTED_VERSION, 'UNSUPPORTED_VERSION', `the broker at ${this.describe()} does not support ${name}`)
    const low = Math.max(theirs.minVersion, ours.minVersion, options.minVersion ?? 0)
    const high = Math.min(theirs.maxVersion, ours.maxVersion, options.maxVersion ?? Number.POSITIVE_INFINITY)
    if (options.version !== undefined) {
      if (options.version < low || options.version > high) {
        throw new KafkaError(ErrorCode.UNSUPPORTED_VERSION, 'UNSUPPORTED_VERSION', `${name} v${options.version} is not supported by the broker at ${this.describe()} (it supports ${theirs.minVersion}-${theirs.maxVersion})`)
      }
      return options.version
    }
    if (high < low) {
      throw new KafkaError(ErrorCode.UNSUPPORTED_VERSION, 'UNSUPPORTED_VERSION', `no common version of ${name} with the broker at ${this.describe()} (it supports ${theirs.minVersion}-${theirs.maxVersion})`)
    }
    return high
  }

  /** Sends a request and resolves with the decoded response body and the version used. */
  async send<K extends ApiKeyNumber>(apiKey: K, body: Encodable<ApiMessages[K]['request']>, options: RequestOptions = {}): Promise<ApiMessages[K]['response']> {
    const {response} = await this.sendWithVersion(apiKey, body, options)
    return response
  }

  async sendWithVersion<K extends ApiKeyNumber>(
    apiKey: K,
    body: Encodable<ApiMessages[K]['request']>,
    options: RequestOptions = {},
  ): Promise<{response: ApiMessages[K]['response']; version: number}> {
    const version = this.versionFor(apiKey, options)
    if (!apiCodecsLoaded(apiKey)) await loadApiCodecs(apiKey)
    const frame = await this.sendRaw(apiKey, version, body, options)
    if (frame === undefined) return {response: undefined as unknown as ApiMessages[K]['response'], version}
    return {response: decodeResponse(frame, apiKey, version).body, version}
  }

  /** Writes the request at `version`; resolves with the response frame (undefined without one). */
  private sendRaw<K extends ApiKeyNumber>(apiKey: K, version: number, body: Encodable<ApiMessages[K]['request']>, options: RequestOptions): Promise<Buffer | undefined> {
    if (this.closedError) return Promise.reject(this.closedError)
    const correlationId = this.nextCorrelationId
    this.nextCorrelationId = (this.nextCorrelationId + 1) & 0x7fffffff
    const chunks = encodeRequest(apiKey, version, correlationId, this.clientId, body)
    if (options.expectResponse === false) {
      return new Promise((resolve, reject) => {
        this.write(chunks, (error) => (error ? reject(new ConnectionError(`write to ${this.describe()} failed: ${error.message}`)) : resolve(undefined)))
      })
    }
    return new Promise<Buffer>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs
      const timer = setTimeout(() => {
        this.inFlight.delete(correlationId)
        const error = new ConnectionError(`request to ${this.describe()} timed out after ${timeoutMs} ms`)
        reject(error)
        this.fail(error)
      }, timeoutMs)
      this.inFlight.set(correlationId, {apiKey, version, resolve, reject, timer})
      this.write(chunks)
    })
  }

  private write(chunks: Buffer[], callback?: (error?: Error | null) => void): void {
    if (chunks.length === 1) {
      this.socket.write(chunks[0]!, callback)
      return
    }
    this.socket.cork()
    for (let i = 0; i < chunks.length; i++) this.socket.write(chunks[i]!, i === chunks.length - 1 ? callback : undefined)
    this.socket.uncork()
  }

  /** Number of requests waiting for a response. */
  get pending(): number {
    return this.inFlight.size
  }

  close(): void {
    this.fail(undefined)
    this.socket.destroy()
  }

  describe(): string {
    const address = this.host.includes(':') ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`
    return this.nodeId === undefined ? address : `${address} (node ${this.nodeId})`
  }

  private async negotiateVersions(timeoutMs: number): Promise<void> {
    const body = {clientSoftwareName: CLIENT_SOFTWARE_NAME, clientSoftwareVersion: CLIENT_SOFTWARE_VERSION}
    let version = 3
    await loadApiCodecs(ApiKey.ApiVersions)
    let frame = await this.sendRaw(ApiKey.ApiVersions, version, body, {timeoutMs})
    // KIP-511: a broker that does not know v3 answers with a v0 body carrying UNSUPPORTED_VERSION.
    if (frame!.length >= 6 && frame!.readInt16BE(4) === ErrorCode.UNSUPPORTED_VERSION) {
      version = 0
      frame = await this.sendRaw(ApiKey.ApiVersions, version, {}, {timeoutMs})
    }
    const response = decodeResponse(frame!, ApiKey.ApiVersions, version).body
    if (response.errorCode !== 0) throw KafkaError.fromCode(response.errorCode, `ApiVersions from ${this.describe()}`)
    for (const api of response.apiKeys) this.brokerVersions.set(api.apiKey, {maxVersion: api.maxVersion, minVersion: api.minVersion})
  }

  /**
   * Said when a broker hangs up on requests or answers garbage over plain TCP: Kafka closes the
   * connection on a request before SASL authentication, and a TLS listener answers with TLS records.
   */
  private securityHint(): string {
    return this.unsecured ? ' (if the listener uses TLS or SASL, set security.protocol and its settings: --command-config or -X)' : ''
  }

  private onChunk(chunk: Buffer): void {
    try {
      this.frames.push(chunk)
    } catch (error) {
      this.fail(new ConnectionError(`malformed response from ${this.describe()}: ${(error as Error).message}${this.securityHint()}`))
    }
  }

  /**
   * SASL after ApiVersions, as Kafka's clients do it: SaslHandshake v1 names the mechanism, then
   * SaslAuthenticate carries its messages (PLAIN: one; SCRAM: two, and the server's proof is checked).
   */
  private async authenticate({mechanism, password, username}: SaslSettings): Promise<void> {
    const handshake = await this.send(ApiKey.SaslHandshake, {mechanism}, {minVersion: 1})
    if (handshake.errorCode !== 0) {
      const enabled = handshake.mechanisms.length > 0 ? ` (it enables ${handshake.mechanisms.join(', ')})` : ''
      throw KafkaError.fromCode(handshake.errorCode, `SASL mechanism ${mechanism} at ${this.describe()}${enabled}`)
    }
    const exchange = async (authBytes: Buffer): Promise<Buffer> => {
      const r = await this.send(ApiKey.SaslAuthenticate, {authBytes})
      if (r.errorCode !== 0) throw KafkaError.fromCode(r.errorCode, `authentication of ${username} with ${mechanism} at ${this.describe()}${r.errorMessage ? `: ${r.errorMessage}` : ''}`)
      return r.authBytes
    }
    if (mechanism === 'PLAIN') {
      await exchange(plainMessage(username, password))
      return
    }
    const scram = new ScramClient(mechanism, username, password)
    try {
      const serverFirst = await exchange(scram.firstMessage())
      scram.verifyServerFinal(await exchange(scram.finalMessage(serverFirst)))
    } catch (error) {
      if (error instanceof ScramError) throw new KafkaError(ErrorCode.SASL_AUTHENTICATION_FAILED, 'SASL_AUTHENTICATION_FAILED', `${mechanism} with ${this.describe()}: ${error.message}`)
      throw error
    }
  }

  private onRead(n: number): boolean {
    try {
      this.frames.didRead(n)
    } catch (error) {
      this.fail(new ConnectionError(`malformed response from ${this.describe()}: ${(error as Error).message}${this.securityHint()}`))
    }
    return true
  }

  private onFrame(frame: Buffer): void {
    if (frame.length < 4) {
      this.fail(new ConnectionError(`malformed response frame (size ${frame.length}) from ${this.describe()}`))
      return
    }
    const correlationId = frame.readInt32BE(0)
    const request = this.inFlight.get(correlationId)
    if (!request) {
      this.fail(new ConnectionError(`response with unknown correlation id ${correlationId} from ${this.describe()}`))
      return
    }
    this.inFlight.delete(correlationId)
    clearTimeout(request.timer)
    request.resolve(frame)
  }

  private fail(error: Error | undefined): void {
    if (this.closedError) return
    this.closedError = error ?? new ConnectionError(`connection to ${this.describe()} closed`)
    for (const request of this.inFlight.values()) {
      clearTimeout(request.timer)
      request.reject(this.closedError)
    }
    this.inFlight.clear()
    if (error) this.socket.destroy()
    for (const listener of this.closeListeners) listener(error)
  }
}
