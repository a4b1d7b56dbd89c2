/**
 * A Kafka-aware TCP proxy that makes a client believe it talks to Apache Kafka 4.0.0 while one of
 * our brokers answers (test/e2e/kafka-4-compat.test.ts).
 *
 * Both directions are split into frames (int32 size + body). Requests pass unchanged; for each one
 * the proxy records its API key, version and client id (and whether it decodes at that version),
 * and remembers per connection which API/version each correlation id was, so that responses can be
 * decoded. Responses are rewritten where the client must see Kafka 4.0 or must stay on the proxy:
 * - ApiVersions: the apiKeys list becomes the one a real Kafka 4.0.0 broker advertised (given by
 *   the caller, from the Java client's golden capture), re-encoded at the version asked for;
 *   error responses (UNSUPPORTED_VERSION, answered in v0) pass through.
 * - Metadata brokers[], FindCoordinator (v0-3 top level, v4+ coordinators[]), DescribeCluster
 *   brokers[]: the broker's address becomes the proxy's.
 * Everything else passes byte for byte. Only 127.0.0.1, ephemeral port; stop() closes it all.
 */
import {createConnection, createServer, type Server, type Socket} from 'node:net'

import {FrameReader} from '../../src/lib/protocol/frame-reader.js'
import {ApiKey, decodeRequest, decodeResponse, encodeResponse, peekRequestApi} from '../../src/lib/protocol/index.js'
import type {ApiVersion} from '../../src/lib/protocol/generated/api-versions-response.js'

export interface RecordedRequest {
  apiKey: number
  apiVersion: number
  clientId: string | null
  /** The proxy's number for the client connection (1, 2, ... in order of accept). */
  connection: number
  /** What the caller said was going on when the request arrived (phase()). */
  phase: string
  /** Why the request did not decode at its version with Kafka 4.0's codecs (undefined: it did). */
  decodeError?: string
}

export interface Kafka4Proxy {
  port: number
  bootstrap: string
  /** Every request seen, in arrival order (all connections). */
  readonly requests: RecordedRequest[]
  /** Responses rewritten, by API name (ApiVersions, Metadata, FindCoordinator, DescribeCluster). */
  readonly rewritten: Map<string, number>
  /** Problems the proxy met (an undecodable response, a response to an unknown correlation id). */
  readonly problems: string[]
  stop(): Promise<void>
}

const MAX_FRAME = 256 * 1024 * 1024

/** encodeResponse's chunks (size first) as a frame body without its size, like the ones FrameReader hands over. */
function withoutSize(chunks: Buffer[]): Buffer {
  return Buffer.concat(chunks).subarray(4)
}

function frameWithSize(body: Buffer): Buffer {
  const size = Buffer.allocUnsafe(4)
  size.writeInt32BE(body.length, 0)
  return Buffer.concat([size, body])
}

/** The client id of a request header (v1 and v2 both carry it as a nullable int16 string at offset 8). */
function headerClientId(frame: Buffer): string | null {
  if (frame.length < 10) return null
  const length = frame.readInt16BE(8)
  if (length < 0) return null
  return frame.toString('utf8', 10, 10 + length)
}

/**
 * Starts the proxy in front of 127.0.0.1:`upstreamPort`. `kafkaApiKeys` is what ApiVersions
 * responses will advertise; `phase` labels each recorded request.
 */
export async function startKafka4Proxy(upstreamPort: number, kafkaApiKeys: readonly ApiVersion[], phase: () => string = () => ''): Promise<Kafka4Proxy> {
  const requests: RecordedRequest[] = []
  const rewritten = new Map<string, number>()
  const problems: string[] = []
  const sockets = new Set<Socket>()
  let proxyPort = 0
  let connections = 0

  const count = (name: string) => rewritten.set(name, (rewritten.get(name) ?? 0) + 1)
  const mapPort = (port: number) => (port === upstreamPort ? proxyPort : port)

  /** The response frame (without size) to send the client instead of `frame`. */
  function rewrite(frame: Buffer, apiKey: number, apiVersion: number): Buffer {
    const correlationId = frame.readInt32BE(0)
    switch (apiKey) {
      case ApiKey.ApiVersions: {
        // An error (UNSUPPORTED_VERSION comes as a v0 body whatever was asked) passes through.
        if (apiVersion > 4 || frame.length < 6 || frame.readInt16BE(4) !== 0) return frame
        const {body} = decodeResponse(frame, ApiKey.ApiVersions, apiVersion)
        count('ApiVersions')
        return withoutSize(encodeResponse(ApiKey.ApiVersions, apiVersion, correlationId, {...body, apiKeys: kafkaApiKeys.map((k) => ({apiKey: k.apiKey, minVersion: k.minVersion, maxVersion: k.maxVersion}))}))
      }
      case ApiKey.Metadata: {
        const {body} = decodeResponse(frame, ApiKey.Metadata, apiVersion)
        count('Metadata')
        const brokers = body.brokers.map((b) => (b.port === upstreamPort ? {...b, host: '127.0.0.1', port: proxyPort} : b))
        return withoutSize(encodeResponse(ApiKey.Metadata, apiVersion, correlationId, {...body, brokers}))
      }
      case ApiKey.FindCoordinator: {
        const {body} = decodeResponse(frame, ApiKey.FindCoordinator, apiVersion)
        count('FindCoordinator')
        const top = body.port === upstreamPort ? {host: '127.0.0.1', port: proxyPort} : {}
        const coordinators = body.coordinators.map((c) => (c.port === upstreamPort ? {...c, host: '127.0.0.1', port: proxyPort} : c))
        return withoutSize(encodeResponse(ApiKey.FindCoordinator, apiVersion, correlationId, {...body, ...top, coordinators}))
      }
      case ApiKey.DescribeCluster: {
        const {body} = decodeResponse(frame, ApiKey.DescribeCluster, apiVersion)
        count('DescribeCluster')
        const brokers = body.brokers.map((b) => ({...b, host: b.port === upstreamPort ? '127.0.0.1' : b.host, port: mapPort(b.port)}))
        return withoutSize(encodeResponse(ApiKey.DescribeCluster, apiVersion, correlationId, {...body, brokers}))
      }
      default:
        return frame
    }
  }

  function onClient(client: Socket): void {
    const connection = ++connections
    sockets.add(client)
    const upstream = createConnection({host: '127.0.0.1', port: upstreamPort, noDelay: true})
    sockets.add(upstream)
    client.setNoDelay(true)
    /** API key and version of each request in flight, by correlation id. */
    const pending = new Map<number, {apiKey: number; apiVersion: number}>()
    const closeBoth = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('close', () => {
      sockets.delete(client)
      upstream.destroy()
    })
    upstream.on('close', () => {
      sockets.delete(upstream)
      client.destroy()
    })
    client.on('error', closeBoth)
    upstream.on('error', closeBoth)

    const requestFrames = new FrameReader({
      maxFrameSize: MAX_FRAME,
      onFrame(frame) {
        const {apiKey, apiVersion, correlationId} = peekRequestApi(frame)
        const recorded: RecordedRequest = {apiKey, apiVersion, clientId: headerClientId(frame), connection, phase: phase()}
        try {
          recorded.clientId = decodeRequest(frame).header.clientId
        } catch (error) {
          recorded.decodeError = (error as Error).message
        }
        requests.push(recorded)
        pending.set(correlationId, {apiKey, apiVersion})
        upstream.write(frameWithSize(frame))
      },
    })
    const responseFrames = new FrameReader({
      maxFrameSize: MAX_FRAME,
      onFrame(frame) {
        const correlationId = frame.length >= 4 ? frame.readInt32BE(0) : -1
        const request = pending.get(correlationId)
        if (!request) {
          problems.push(`response with unknown correlation id ${correlationId}`)
          client.write(frameWithSize(frame))
          return
        }
        pending.delete(correlationId)
        let out = frame
        try {
          out = rewrite(frame, request.apiKey, request.apiVersion)
        } catch (error) {
          problems.push(`cannot rewrite the response to API ${request.apiKey} v${request.apiVersion}: ${(error as Error).message}`)
        }
        client.write(frameWithSize(out))
      },
    })
    client.on('data', (chunk: Buffer) => {
      try {
        requestFrames.push(chunk)
      } catch (error) {
        problems.push(`bad request stream: ${(error as Error).message}`)
        closeBoth()
      }
    })
    upstream.on('data', (chunk: Buffer) => {
      try {
        responseFrames.push(chunk)
      } catch (error) {
        problems.push(`bad response stream: ${(error as Error).message}`)
        closeBoth()
      }
    })
  }

  const server: Server = createServer(onClient)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  proxyPort = (server.address() as {port: number}).port

  return {
    port: proxyPort,
    bootstrap: `127.0.0.1:${proxyPort}`,
    requests,
    rewritten,
    problems,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const socket of sockets) socket.destroy()
      sockets.clear()
      await closed
    },
  }
}
