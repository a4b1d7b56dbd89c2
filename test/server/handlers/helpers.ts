/**
 * Protocol-level test helpers: a broker with every handler (the admin ones included, whether or
 * not index.ts registers them yet) and a minimal client that sends one request at a time over a
 * real socket and decodes the response with the library's codecs.
 */
import {connect, type Socket} from 'node:net'
import {afterAll, beforeAll, expect} from 'vitest'
import {decodeResponse, encodeRequest} from '../../../src/lib/protocol/index.js'
import {ApiKey} from '../../../src/lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../../src/lib/protocol/generated/errors.js'
import type {ApiKeyNumber, ApiMessages} from '../../../src/lib/protocol/generated/index.js'
import type {Encodable} from '../../../src/lib/protocol/message.js'
import {ADMIN_HANDLERS} from '../../../src/server/handlers/admin.js'
import type {ApiHandler} from '../../../src/server/handlers/handler.js'
import {HANDLERS} from '../../../src/server/handlers/index.js'
import {startBroker, type TestBroker} from '../../e2e/harness.js'

const REQUEST_TIMEOUT_MS = 10_000

/** The broker's handlers with the admin ones (an admin handler replaces one with the same key). */
export function allHandlers(): ApiHandler[] {
  const adminKeys = new Set(ADMIN_HANDLERS.map((h) => h.apiKey))
  return [...HANDLERS.filter((h) => !adminKeys.has(h.apiKey)), ...ADMIN_HANDLERS]
}

/** An in-process broker with every handler; pass `dataDir` to restart on the data of a stopped one. */
export function startAdminBroker(overrides: Record<string, string> = {}, dataDir?: string): Promise<TestBroker> {
  return startBroker(overrides, dataDir, allHandlers())
}

export class ProtocolClient {
  private buffered = Buffer.alloc(0)
  private waiting: Array<{resolve: (frame: Buffer) => void; reject: (error: Error) => void}> = []
  private correlationId = 0
  private closedError: Error | undefined

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk])
      while (this.buffered.length >= 4) {
        const size = this.buffered.readInt32BE(0)
        if (this.buffered.length < 4 + size) break
        const frame = this.buffered.subarray(4, 4 + size)
        this.buffered = this.buffered.subarray(4 + size)
        this.waiting.shift()?.resolve(frame)
      }
    })
    const fail = (error: Error) => {
      this.closedError = error
      for (const w of this.waiting.splice(0)) w.reject(error)
    }
    socket.on('error', fail)
    socket.on('close', () => fail(new Error('connection closed')))
  }

  static connect(port: number): Promise<ProtocolClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({host: '127.0.0.1', port}, () => resolve(new ProtocolClient(socket)))
      socket.once('error', reject)
    })
  }

  async send<K extends ApiKeyNumber>(apiKey: K, apiVersion: number, body: Encodable<ApiMessages[K]['request']>): Promise<ApiMessages[K]['response']> {
    if (this.closedError) throw this.closedError
    const correlationId = ++this.correlationId
    const frame = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no response to API ${apiKey} v${apiVersion} in ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS)
      this.waiting.push({
        resolve: (f) => {
          clearTimeout(timer)
          resolve(f)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      })
      for (const chunk of encodeRequest(apiKey, apiVersion, correlationId, 'kcli-test', body)) this.socket.write(chunk)
    })
    const {header, body: response} = decodeResponse(frame, apiKey, apiVersion)
    if (header.correlationId !== correlationId) throw new Error(`correlation id ${header.correlationId}, expected ${correlationId}`)
    return response
  }

  close(): void {
    this.socket.destroy()
  }
}

export interface BrokerFixture {
  readonly broker: TestBroker
  readonly client: ProtocolClient
  /** Creates a topic (CreateTopics v7, replication factor 1, 1 partition unless told), expects NONE and gives its id. */
  createTopic(name: string, opts?: {numPartitions?: number; configs?: Array<{name: string; value: string}>}): Promise<string>
  /** Stops the broker keeping its data and starts a new one (same overrides) on it, with a new client. */
  restart(): Promise<void>
}

/**
 * Registers beforeAll/afterAll hooks (in the calling scope: the file, or the enclosing describe)
 * that start an admin broker with `overrides` and connect a client, then close and stop them.
 * `broker` and `client` are read when used, so only inside tests and later hooks.
 */
export function useBroker(overrides: Record<string, string> = {}): BrokerFixture {
  let broker: TestBroker | undefined
  let client: ProtocolClient | undefined

  beforeAll(async () => {
    broker = await startAdminBroker(overrides)
    client = await ProtocolClient.connect(broker.port)
  })

  afterAll(async () => {
    client?.close()
    await broker?.stop()
  })

  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useBroker: the broker is not started (used outside a test or hook?)')
    return value
  }

  return {
    get broker() {
      return started(broker)
    },
    get client() {
      return started(client)
    },
    async createTopic(name, opts = {}) {
      const res = await started(client).send(ApiKey.CreateTopics, 7, {topics: [{name, numPartitions: opts.numPartitions ?? 1, replicationFactor: 1, configs: opts.configs ?? []}], timeoutMs: 5000})
      expect(res.topics[0]!.errorCode).toBe(ErrorCode.NONE)
      return res.topics[0]!.topicId
    },
    async restart() {
      const dataDir = started(broker).dataDir
      started(client).close()
      await started(broker).stop({keepData: true})
      broker = await startAdminBroker(overrides, dataDir)
      client = await ProtocolClient.connect(broker.port)
    },
  }
}
