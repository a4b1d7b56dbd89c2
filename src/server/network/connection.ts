/**
 * One client connection: size-prefixed frames in, responses out in request order.
 *
 * Requests are handled one at a time per connection, as Kafka's SocketServer does (it mutes a
 * channel until the response of its current request is sent), so a client may pipeline and the
 * appends of one connection happen in the order it sent them. Frames read ahead of the one being
 * handled are queued; when the queue holds more than `maxQueuedBytes` or MAX_QUEUED_FRAMES
 * frames, reading pauses. A client that does not read its responses (the socket's write buffer is
 * full) gets no further request handled, so its queue fills and reading pauses: the memory a
 * connection can hold is bounded by socket.request.max.bytes + maxQueuedBytes (+ the frames of one
 * read chunk past the frame cap).
 *
 * A frame whose size is negative or above socket.request.max.bytes (sasl.server.max.receive.size
 * on a SASL listener until the client has authenticated), or a dispatcher that throws (a malformed
 * request, an unknown API, a request the SASL state does not allow), closes the connection:
 * Kafka's answer to all of them. A response marked `close` (a failed authentication) is written,
 * then the connection is closed and whatever was read after its request is dropped.
 */
import {Socket} from 'node:net'

import {FrameReader, FrameSizeError} from '../../lib/protocol/frame-reader.js'
import {ConnectionSecurity} from '../security/connection-security.js'

/**
 * Most frames read ahead per connection. Each queued frame also costs a Buffer object (about 100
 * bytes of heap), so tiny pipelined requests cannot be bounded by their bytes alone: 16 MiB of
 * 10-byte requests were 1.7 million frames and some 200 MB of heap.
 */
export const MAX_QUEUED_FRAMES = 1000

export interface ConnectionInfo {
  readonly id: number
  readonly remoteAddress: string
  readonly remotePort: number
  readonly listenerName: string
  /** Security protocol, principal and SASL state (src/server/security/connection-security.ts). */
  readonly security: ConnectionSecurity
}

export interface Response {
  chunks: Buffer[]
  /** Called once the chunks are written to the socket (or will never be): their memory may be reused. */
  sent?: () => void
  /**
   * Close the connection once this response is written, dropping requests read after it (a failed
   * SASL authentication, as Kafka's authenticator does).
   */
  close?: boolean
  /**
   * Client quotas (issue 15, KIP-219): the connection is muted (nothing read or handled) until
   * this response is written and this many ms have passed since `throttleStartedMs`, Kafka's
   * answer to a client over its quota (a ThrottledChannel ends at the instant the throttle was
   * computed plus the throttle, however long the response took to write).
   */
  throttleMs?: number
  /** When the throttle was computed (performance.now()); the write's start when not given. */
  throttleStartedMs?: number
  /**
   * Request metrics (issue 16, src/server/metrics/broker-metrics.ts RequestTimer), when on: told
   * when the write starts and when the socket has taken the response's last byte.
   */
  timer?: {sending(): void; sent(): void}
}

export interface RequestDispatcher {
  /**
   * The response to one request frame (without its size), or null when none is owed (acks=0).
   * `receivedAt` (performance.now() when the frame was read whole) and `dequeuedAt` (when its
   * handling starts) are given when the connection times its requests (ConnectionOptions.timeRequests).
   */
  dispatch(frame: Buffer, connection: ConnectionInfo, receivedAt?: number, dequeuedAt?: number): Promise<Response | null>
  /**
   * Memory for a request frame too large for the connection's scratch buffer (default: a fresh
   * allocation). The dispatcher may take it back once it has handled the frame.
   */
  allocateFrame?(size: number): Buffer
}

export interface ConnectionOptions {
  maxRequestBytes: number
  maxQueuedBytes: number
  idleTimeoutMs: number
  /** Notes when each frame was read whole, for the request metrics (issue 16; on with metrics.listener). */
  timeRequests?: boolean
  /** The socket was made by onReadSocket with this connection's readBuffer()/didRead(): no 'data' events. */
  readsInPlace?: boolean
  onClose(connection: Connection): void
  onError(connection: Connection, reason: string, error?: unknown): void
}

export class Connection implements ConnectionInfo {
  readonly remoteAddress: string
  readonly remotePort: number
  private readonly reader: FrameReader
  private readonly frames: Buffer[] = []
  /**
   * When each queued frame was read whole (performance.now()), with timeRequests. The clock is
   * read once per socket read that completes frames (they arrived together), and a frame handled
   * in that same turn starts at that instant: clock reads cost 0.1 µs on a loaded VM.
   */
  private readonly arrivals: number[] | undefined
  /** The instant of the socket read being processed, once read (0 outside received() or before a frame completed). */
  private readAt = 0
  private queuedBytes = 0
  private busy = false
  private closing = false
  private closed = false
  private drained: Promise<void> | null = null

  constructor(
    readonly id: number,
    readonly listenerName: string,
    private readonly socket: Socket,
    private readonly dispatcher: RequestDispatcher,
    private readonly options: ConnectionOptions,
    readonly security: ConnectionSecurity = ConnectionSecurity.plaintext(listenerName),
  ) {
    this.remoteAddress = socket.remoteAddress ?? 'unknown'
    this.remotePort = socket.remotePort ?? 0
    const limit = () => this.frameLimit
    const arrivals = (this.arrivals = options.timeRequests ? ([] as number[]) : undefined)
    this.reader = new FrameReader({
      // Read at every frame: smaller until a SASL connection has authenticated.
      get maxFrameSize() {
        return limit()
      },
      onFrame: (frame) => {
        this.frames.push(frame)
        if (arrivals) arrivals.push(this.readAt || (this.readAt = performance.now()))
        this.queuedBytes += frame.length
      },
      allocate: dispatcher.allocateFrame ? (size) => dispatcher.allocateFrame!(size) : undefined,
    })
    socket.setNoDelay(true)
    if (options.idleTimeoutMs > 0 && Number.isFinite(options.idleTimeoutMs)) socket.setTimeout(options.idleTimeoutMs)
    // A socket made with `onread` (onReadSocket) reads into readBuffer() and calls didRead(); any
    // other (TLS) emits the chunks it allocated.
    if (!options.readsInPlace) socket.on('data', (chunk: Buffer) => this.receivedChunk(chunk))
    socket.on('timeout', () => {
      if (!this.busy && this.frames.length === 0) this.destroy('idle for connections.max.idle.ms')
    })
    socket.on('error', () => this.destroy())
    socket.on('close', () => this.destroy())
  }

  /** The largest request frame accepted now: sasl.server.max.receive.size until SASL authentication completes. */
  private get frameLimit(): number {
    return this.security.maxFrameSize(this.options.maxRequestBytes)
  }

  /** True while a request is being handled or queued. */
  get inFlight(): boolean {
    return this.busy || this.frames.length > 0
  }

  /** Where the socket's next read puts its bytes (a socket made by onReadSocket). */
  readBuffer(): Buffer {
    return this.reader.readBuffer()
  }

  /** `n` bytes were read into the buffer readBuffer() returned. */
  didRead(n: number): void {
    this.received(n)
  }

  /** Bytes read into memory of their own (never reused: frames may be views of it). */
  receivedChunk(chunk: Buffer): void {
    this.received(chunk)
  }

  /**
   * Frames what was read — `n` bytes into readBuffer(), or a chunk of its own — then handles the
   * queued requests. (No closure per read: this runs for every socket read.)
   */
  private received(read: number | Buffer): void {
    // A framing bug must cost this connection, never the broker (an exception thrown from a
    // socket event is uncaught and ends the process).
    try {
      if (this.closing) return
      // One clock read per socket read: every frame completed by it shares the instant.
      this.readAt = 0
      try {
        if (typeof read === 'number') this.reader.didRead(read)
        else this.reader.push(read)
      } catch (error) {
        if (!(error instanceof FrameSizeError)) throw error
        const limit = this.security.authenticated ? 'socket.request.max.bytes' : 'sasl.server.max.receive.size, before SASL authentication'
        this.options.onError(this, `request size ${error.size} is outside 0..${error.maxFrameSize} (${limit})`)
        this.destroy()
        return
      }
      if (this.queueFull) this.socket.pause()
      try {
        void this.pump()
      } finally {
        this.readAt = 0
      }
    } catch (error) {
      this.options.onError(this, 'closing the connection after a framing error', error)
      this.destroy()
    }
  }

  private get queueFull(): boolean {
    return this.queuedBytes > this.options.maxQueuedBytes || this.frames.length >= MAX_QUEUED_FRAMES
  }

  private async pump(): Promise<void> {
    if (this.busy) return
    this.busy = true
    try {
      while (this.frames.length > 0 && !this.closed) {
        const frame = this.frames.shift()!
        const receivedAt = this.arrivals?.shift()
        // Handled in the turn it was read in: no time queued (and no clock read).
        const dequeuedAt = receivedAt === undefined ? undefined : receivedAt === this.readAt ? receivedAt : performance.now()
        let response: Response | null
        try {
          response = await this.dispatcher.dispatch(frame, this, receivedAt, dequeuedAt)
        } catch (error) {
          this.options.onError(this, 'closing the connection after a bad request', error)
          this.destroy()
          return
        }
        this.queuedBytes -= frame.length
        if (!this.queueFull && !this.closing) this.socket.resume()
        const throttleStartedMs = response?.throttleStartedMs ?? performance.now()
        if (response && !this.closed) await this.write(response)
        else response?.sent?.()
        if (response?.throttleMs && response.throttleMs > 0 && !this.closed && !response.close) {
          // Kafka unmutes once the response is sent and the throttle has ended, whichever is later.
          const remaining = throttleStartedMs + response.throttleMs - performance.now()
          if (remaining > 0) await this.mute(remaining)
        }
        if (response?.close) {
          this.frames.length = 0
          if (this.arrivals) this.arrivals.length = 0
          this.queuedBytes = 0
          this.closing = true
          this.socket.pause()
        }
      }
    } finally {
      this.busy = false
    }
    if (this.closing && !this.closed) this.socket.end()
  }

  private async write({chunks, sent, timer}: Response): Promise<void> {
    timer?.sending()
    this.socket.cork()
    let ok = true
    // The last chunk's callback runs once all of them are written, or with an error on close.
    if (chunks.length === 0) sent?.()
    for (let i = 0; i < chunks.length; i++) ok = this.socket.write(chunks[i]!, i === chunks.length - 1 && sent ? () => sent() : undefined)
    this.socket.uncork()
    // ResponseSendTime ends when the socket has taken the response: now, when node's buffer took it
    // under its high-water mark, else once it drains (below). Not a write callback per response:
    // that measured as ~6% of the broker's CPU per produced record (BENCHMARKS.md, issue 16).
    if (timer && (ok || this.closed)) timer.sent()
    if (!ok && !this.closed) {
      // The client is not reading: stop handling its requests until it does.
      this.drained ??= new Promise<void>((resolve) => {
        const done = () => {
          this.socket.off('drain', done)
          this.socket.off('close', done)
          this.drained = null
          resolve()
        }
        this.socket.on('drain', done)
        this.socket.on('close', done)
      })
      await this.drained
      timer?.sent()
    }
  }

  /** Client quotas (issue 15): reads nothing and handles nothing for `ms` (the rest of Kafka's throttled channel mute). */
  private async mute(ms: number): Promise<void> {
    this.socket.pause()
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.socket.off('close', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.socket.on('close', done)
    })
    if (!this.queueFull && !this.closing && !this.closed) this.socket.resume()
  }

  /**
   * Answers what was already read, then closes. What arrives after is dropped unread (received()
   * ignores it once closing), but the socket keeps reading so that it sees the peer's FIN: a paused
   * socket that reads in place (onReadSocket) would never emit 'close' and stop() would wait out
   * its deadline.
   */
  close(): void {
    if (this.closing || this.closed) return
    this.closing = true
    // Reading again if backpressure had paused it; what it reads is dropped.
    this.socket.resume()
    if (!this.inFlight) this.socket.end()
  }

  destroy(reason?: string): void {
    if (this.closed) return
    if (reason) this.options.onError(this, reason)
    this.closed = true
    this.closing = true
    this.frames.length = 0
    if (this.arrivals) this.arrivals.length = 0
    this.socket.destroy()
    this.options.onClose(this)
  }

  get isClosed(): boolean {
    return this.closed
  }
}

/** What onReadSocket's socket reads into (a Connection; the throughput floor's reader). */
export interface ReadsInPlace {
  readBuffer(): Buffer
  didRead(n: number): void
  receivedChunk(chunk: Buffer): void
}

/**
 * The socket a plaintext server accepted, re-made so that it reads straight into the connection's
 * memory (net's `onread`, which a server's sockets do not get): `target()` names the connection
 * once it exists (before the first read completes). Requests that fit a socket read go through the
 * connection's 64 KiB scratch buffer and larger ones are read straight into their frame buffer,
 * instead of a fresh 64 KiB allocation per read and a copy from it into the frame. The accepted
 * socket must come from a server with `pauseOnConnect` (it has read nothing); it is destroyed
 * without its handle, which the new socket owns.
 */
export function onReadSocket(accepted: Socket, target: () => ReadsInPlace | undefined): Socket {
  const internal = accepted as unknown as {_handle: unknown}
  const handle = internal._handle
  internal._handle = null
  accepted.destroy()
  // net asks for the first buffer while constructing the socket, before the connection exists: that
  // read goes into a buffer of its own, handed over as a received chunk.
  let first: Buffer | undefined
  return new Socket({
    handle,
    readable: true,
    writable: true,
    onread: {
      buffer: () => target()?.readBuffer() ?? (first = Buffer.allocUnsafe(64 * 1024)),
      callback: (n: number) => {
        const connection = target()
        if (!connection) return
        if (first) {
          const chunk = first.subarray(0, n)
          first = undefined
          connection.receivedChunk(chunk)
        } else connection.didRead(n)
      },
    },
  } as ConstructorParameters<typeof Socket>[0])
}
