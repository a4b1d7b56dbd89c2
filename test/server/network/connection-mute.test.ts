// Client quotas (issue 15): a throttled connection is muted as Kafka's SocketServer mutes it: from
// the instant the throttle was computed (ThrottledChannel's end time is computed then) until that
// instant plus the throttle, or until the response is written if that is later — not for the
// throttle counted from the end of the write.
import {createServer, connect, type Server, type Socket} from 'node:net'
import {afterEach, describe, expect, it} from 'vitest'
import {Connection, type RequestDispatcher, type Response} from '../../../src/server/network/connection.js'

const frame = (id: number) => Buffer.from([0, 0, 0, 1, id])

/** A server whose connections answer each one-byte frame with the dispatcher's response. */
async function serve(dispatcher: RequestDispatcher): Promise<{server: Server; port: number; connections: Connection[]}> {
  const connections: Connection[] = []
  let id = 0
  const server = createServer((socket) => {
    connections.push(new Connection(++id, 'PLAINTEXT', socket, dispatcher, {maxRequestBytes: 1024, maxQueuedBytes: 1 << 20, idleTimeoutMs: 0, onClose() {}, onError() {}}))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {server, port: (server.address() as {port: number}).port, connections}
}

/** Sends the frames at once and resolves with the ids answered, in order, once `count` came back. */
function exchange(port: number, ids: number[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({host: '127.0.0.1', port}, () => socket.write(Buffer.concat(ids.map(frame))))
    const answered: number[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('no answers in 10 s'))
    }, 10_000)
    socket.on('data', (d: Buffer) => {
      // Each answer is one byte.
      answered.push(...d)
      if (answered.length >= ids.length) {
        clearTimeout(timer)
        socket.destroy()
        resolve(answered)
      }
    })
    socket.on('error', reject)
  })
}

describe('a throttled connection is muted from the instant its throttle was computed', () => {
  let server: Server | undefined
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
    server = undefined
  })

  /**
   * Frame 1's throttle is computed, then its response takes `writeDelayMs` more to be ready (a
   * response slow to produce or to write); frame 2's dispatch time says how long the connection
   * stayed muted after the throttle was computed.
   */
  async function mutedFor(throttleMs: number, writeDelayMs: number): Promise<number> {
    let computedAt = 0
    let secondAt = 0
    const dispatcher: RequestDispatcher = {
      async dispatch(f: Buffer): Promise<Response> {
        const id = f[0]!
        if (id === 1) {
          computedAt = performance.now()
          await new Promise((r) => setTimeout(r, writeDelayMs))
          return {chunks: [Buffer.from([1])], throttleMs, throttleStartedMs: computedAt}
        }
        secondAt = performance.now()
        return {chunks: [Buffer.from([id])]}
      },
    }
    const s = await serve(dispatcher)
    server = s.server
    expect(await exchange(s.port, [1, 2])).toEqual([1, 2])
    for (const c of s.connections) c.destroy()
    return secondAt - computedAt
  }

  it('ends the mute at the throttle computed plus the throttle, not the throttle after the write', async () => {
    const muted = await mutedFor(500, 300)
    // Not before the throttle is over (timers may fire a millisecond early)...
    expect(muted).toBeGreaterThanOrEqual(495)
    // ...and not the throttle again after the 300 ms the response took (800 ms and more).
    expect(muted).toBeLessThan(750)
  })

  it('does not mute at all when the response took longer than the throttle', async () => {
    const muted = await mutedFor(300, 600)
    expect(muted).toBeGreaterThanOrEqual(595)
    expect(muted).toBeLessThan(850)
  })

  it('a response without throttle leaves the connection unmuted', async () => {
    const muted = await mutedFor(0, 50)
    expect(muted).toBeLessThan(400)
  })
})
