/**
 * The broker's TCP listeners. Accepts connections up to max.connections (more are closed at
 * once), hands each to a Connection, and shuts down gracefully: stop accepting, let every
 * connection answer what it has read, then close.
 */
import {createServer, type Server} from 'node:net'
import {Connection, type ConnectionInfo, type RequestDispatcher} from './connection.js'

export interface ListenerConfig {
  name: string
  host: string
  /** 0 picks an ephemeral port; `boundPort` tells which. */
  port: number
}

export interface SocketServerOptions {
  listeners: ListenerConfig[]
  maxRequestBytes: number
  maxQueuedBytes: number
  idleTimeoutMs: number
  maxConnections: number
  log: {warn(obj: object, msg: string): void; debug(obj: object, msg: string): void}
}

export interface BoundListener extends ListenerConfig {
  boundPort: number
}

export class SocketServer {
  private readonly servers: Array<{server: Server; listener: ListenerConfig}> = []
  private readonly connections = new Set<Connection>()
  private nextId = 1
  private accepting = false
  bound: BoundListener[] = []

  constructor(
    private readonly options: SocketServerOptions,
    private readonly dispatcher: RequestDispatcher,
  ) {}

  get connectionCount(): number {
    return this.connections.size
  }

  async start(): Promise<BoundListener[]> {
    this.accepting = true
    for (const listener of this.options.listeners) {
      const server = createServer({noDelay: true}, (socket) => {
        if (!this.accepting || this.connections.size >= this.options.maxConnections) {
          socket.destroy()
          return
        }
        const connection = new Connection(this.nextId++, listener.name, socket, this.dispatcher, {
          maxRequestBytes: this.options.maxRequestBytes,
          maxQueuedBytes: this.options.maxQueuedBytes,
          idleTimeoutMs: this.options.idleTimeoutMs,
          onClose: (c) => this.connections.delete(c),
          onError: (c, reason, error) => this.options.log.debug({connection: describe(c), err: error}, reason),
        })
        this.connections.add(connection)
      })
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(listener.port, listener.host, () => {
          server.off('error', reject)
          resolve()
        })
      })
      const address = server.address()
      this.servers.push({server, listener})
      this.bound.push({...listener, boundPort: typeof address === 'object' && address ? address.port : listener.port})
    }
    return this.bound
  }

  /** Stops accepting, lets open connections finish what they read (up to `timeoutMs`), closes. */
  async stop(timeoutMs = 5_000): Promise<void> {
    this.accepting = false
    const closed = Promise.all(this.servers.map(({server}) => new Promise<void>((resolve) => server.close(() => resolve()))))
    for (const c of this.connections) c.close()
    const deadline = Date.now() + timeoutMs
    while (this.connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    for (const c of [...this.connections]) c.destroy()
    await closed
  }
}

function describe(c: ConnectionInfo): string {
  return `${c.listenerName}#${c.id} ${c.remoteAddress}:${c.remotePort}`
}
