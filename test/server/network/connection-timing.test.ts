// Request metrics (issue 16): the instants a timing connection reports — when a frame was read
// whole (frames of one socket read share it), when its handling starts (a pipelined frame waits
// behind the one before it), and when its response's write starts and ends (the end waits for a
// client that does not read: Kafka's ResponseSendTimeMs).
import {createServer, connect, type Server, type Socket} from 'node:net'
import {afterEach, describe, expect, it} from 'vitest'
import {Connection, type RequestDispatcher, type Response} from '../../../src/server/network/connection.js'

const frame = (id: number) => Buffer.from([0, 0, 0, 1, id])

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('a timing connection', () => {
  let server: Server | undefined
  let client: Socket | undefined
  afterEach(async () => {
    client?.destroy()
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
    server = undefined
  })

  it('gives each request its read, dequeue, write-start and sent instants', async () => {
    const seen = new Map<number, {receivedAt?: number; dequeuedAt?: number; sendingAt?: number; sentAt?: number}>()
    const big = Buffer.alloc(32 * 1024 * 1024)
    const dispatcher: RequestDispatcher = {
      async dispatch(f: Buffer, _c, receivedAt?: number, dequeuedAt?: number): Promise<Response> {
        const id = f[0]!
        const s = {receivedAt, dequeuedAt} as {receivedAt?: number; dequeuedAt?: number; sendingAt?: number; sentAt?: number}
        seen.set(id, s)
        const timer = {
          sending: () => void (s.sendingAt = performance.now()),
          sent: () => void (s.sentAt = performance.now()),
        }
        return {chunks: [id === 1 ? big : Buffer.from([id])], timer}
      },
    }
    let serverSocket: Socket | undefined
    const connections: Connection[] = []
    server = createServer((socket) => {
      serverSocket = socket
      connections.push(new Connection(1, 'PLAINTEXT', socket, dispatcher, {maxRequestBytes: 1024, maxQueuedBytes: 1 << 20, idleTimeoutMs: 0, timeRequests: true, onClose() {}, onError() {}}))
    })
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as {port: number}).port
    let received = 0
    client = connect({host: '127.0.0.1', port})
    client.pause()
    client.on('data', (d: Buffer) => void (received += d.length))
    await new Promise<void>((resolve) => client!.once('connect', () => resolve()))
    // Two frames in one write: one socket read on the broker's side.
    client.write(Buffer.concat([frame(1), frame(2)]))
    await until('the first response being written', () => seen.get(1)?.sendingAt !== undefined)
    // The client reads nothing: the 32 MiB response fills the socket buffers and is not sent.
    await until('the broker side of the socket backing up', () => (serverSocket?.writableLength ?? 0) > 1024 * 1024)
    expect(seen.get(1)!.sentAt).toBeUndefined()
    expect(seen.has(2)).toBe(false)
    const first = seen.get(1)!
    expect(first.dequeuedAt).toBe(first.receivedAt)
    client.resume()
    await until('both responses read', () => received === big.length + 1)
    await until('the second response sent', () => seen.get(2)?.sentAt !== undefined)
    const second = seen.get(2)!
    expect(first.sentAt).toBeGreaterThan(first.sendingAt!)
    // Read in the same socket read as the first, handled once the first was written.
    expect(second.receivedAt).toBe(first.receivedAt)
    expect(second.dequeuedAt).toBeGreaterThan(second.receivedAt!)
    expect(second.dequeuedAt).toBeGreaterThanOrEqual(first.sendingAt!)
    expect(second.sentAt).toBeGreaterThanOrEqual(second.sendingAt!)
    for (const c of connections) c.destroy()
  })
})
