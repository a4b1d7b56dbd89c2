// A scripted broker for client tests: a TCP server on 127.0.0.1 that decodes each request with
// the project's codecs and answers with whatever the test's handler returns, so tests can make a
// broker say NOT_LEADER_OR_FOLLOWER, move a leader, or advertise old versions.

import {createServer, type Server, type Socket} from 'node:net'

import {decodeRequest, encodeResponse} from '../../../src/lib/protocol/index.js'
import type {ApiKeyNumber} from '../../../src/lib/protocol/generated/index.js'

export interface FakeRequest {
  apiKey: number
  apiVersion: number
  correlationId: number
  body: any
}

/** Returns the response body, or undefined for no response (acks=0), or 'raw' bytes. */
export type FakeHandler = (request: FakeRequest) => unknown | {raw: Buffer}

export interface FakeBroker {
  port: number
  requests: FakeRequest[]
  close(): Promise<void>
}

export async function fakeBroker(handler: FakeHandler): Promise<FakeBroker> {
  const requests: FakeRequest[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    let buffered = Buffer.alloc(0)
    socket.on('data', (data) => {
      buffered = Buffer.concat([buffered, data])
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        const frame = buffered.subarray(4, 4 + buffered.readInt32BE(0))
        buffered = buffered.subarray(4 + frame.length)
        const decoded = decodeRequest(Buffer.from(frame))
        const request = {apiKey: decoded.apiKey, apiVersion: decoded.apiVersion, body: decoded.body, correlationId: decoded.header.correlationId}
        requests.push(request)
        const response = handler(request)
        if (response === undefined) continue
        if (response && typeof response === 'object' && 'raw' in response) {
          const raw = (response as {raw: Buffer}).raw
          const head = Buffer.alloc(8)
          head.writeInt32BE(raw.length + 4, 0)
          head.writeInt32BE(request.correlationId, 4)
          socket.write(Buffer.concat([head, raw]))
          continue
        }
        for (const chunk of encodeResponse(decoded.apiKey as ApiKeyNumber, decoded.apiVersion, request.correlationId, response as never)) socket.write(chunk)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as {port: number}).port
  return {
    port,
    requests,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** ApiVersions response advertising `ranges` (apiKey -> [min, max]). */
export function apiVersionsBody(ranges: Record<number, [number, number]>): unknown {
  return {apiKeys: Object.entries(ranges).map(([apiKey, [minVersion, maxVersion]]) => ({apiKey: Number(apiKey), maxVersion, minVersion})), errorCode: 0}
}
