/**
 * The broker's TCP listeners. Accepts connections up to max.connections (more are closed at
 * once), hands each to a Connection, and shuts down gracefully: stop accepting, let every
 * connection answer what it has read, then close.
 *
 * SSL and SASL_SSL listeners are node:tls servers (tls-config.ts gives their options); a connection
 * is handed over once its TLS handshake is done. With ssl.client.auth=requested a client may come
 * without a certificate, but one whose certificate does not verify is closed (Java's
 * wantClientAuth); on SSL listeners a verified client certificate's subject is the principal.
 *
 * A listener that cannot bind (its port in use, a privileged port, an address not on this host)
 * fails start() with a ListenerBindError naming it and its address, after closing the listeners
 * bound before it: nothing is left listening.
 */
import {createServer, type Server, type Socket} from 'node:net'
import {createServer as createTlsServer, type TLSSocket} from 'node:tls'
import {formatBrokerAddress} from '../../lib/cli/bootstrap-server.js'
import type {SecurityProtocol} from '../../lib/config/broker-configs.js'
import {ConnectionSecurity} from '../security/connection-security.js'
import type {ListenerSecurity} from '../security/listener-security.js'
import {Connection, type ConnectionInfo, onReadSocket, type RequestDispatcher} from './connection.js'

export interface ListenerConfig {
  name: string
  host: string
  /** 0 picks an ephemeral port; `boundPort` tells which. */
  port: number
  /** TLS and SASL settings; a PLAINTEXT listener without one. */
  security?: ListenerSecurity
}

export interface SocketServerOptions {
  listeners: ListenerConfig[]
  maxRequestBytes: number
  maxQueuedBytes: number
  idleTimeoutMs: number
  maxConnections: number
  log: {warn(obj: object, msg: string): void; debug(obj: object, msg: string): void}
  /** Connection counts per listener (issue 16: socket-server-metrics), when metrics are on. */
  metrics?: {connectionOpened(listener: string): void; connectionClosed(listener: string): void}
}

export interface BoundListener extends ListenerConfig {
  boundPort: number
  securityProtocol: SecurityProtocol
}

/** A listener could not bind its address; `code` is the system's (EADDRINUSE, EACCES, EADDRNOTAVAIL...). */
export class ListenerBindError extends Error {
  readonly code: string | undefined

  constructor(
    readonly listener: string,
    readonly host: string,
    readonly port: number,
    cause: NodeJS.ErrnoException,
  ) {
    // Kafka's wording ("Socket server failed to bind to host:port: reason"), with the listener.
    super(`socket server failed to bind to ${formatBrokerAddress({host: host || '0.0.0.0', port})} for listener ${listener}: ${bindFailure(cause, host, port)}`, {cause})
    this.name = 'ListenerBindError'
    this.code = cause.code
  }
}

/** "address already in use (EADDRINUSE)" from node's "listen EADDRINUSE: address already in use 127.0.0.1:9092". */
function bindFailure(error: NodeJS.ErrnoException, host: string, port: number): string {
  let reason = error.message.replace(/^listen [A-Z]+: /, '')
  const address = [` ${host}:${port}`, ` ${host}`].find((a) => reason.endsWith(a))
  if (address) reason = reason.slice(0, -address.length)
  return error.code && !reason.includes(error.code) ? `${reason} (${error.code})` : reason
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
      const security = listener.security ?? {listenerName: listener.name, protocol: 'PLAINTEXT'}
      const accept = (accepted: Socket, principal?: string) => {
        if (!this.accepting || this.connections.size >= this.options.maxConnections) {
          accepted.destroy()
          return
        }
        const connectionSecurity = new ConnectionSecurity(security)
        if (principal) connectionSecurity.principal = principal
        // Plaintext sockets read in place (onReadSocket); TLS ones emit what they decrypted.
        const readsInPlace = !security.tls
        let connection: Connection | undefined
        const socket = readsInPlace ? onReadSocket(accepted, () => connection) : accepted
        connection = new Connection(
          this.nextId++,
          listener.name,
          socket,
          this.dispatcher,
          {
            maxRequestBytes: this.options.maxRequestBytes,
            maxQueuedBytes: this.options.maxQueuedBytes,
            idleTimeoutMs: this.options.idleTimeoutMs,
            timeRequests: this.options.metrics !== undefined,
            readsInPlace,
            onClose: (c) => this.connections.delete(c) && this.options.metrics?.connectionClosed(c.listenerName),
            onError: (c, reason, error) => this.options.log.debug({connection: describe(c), err: error}, reason),
          },
          connectionSecurity,
        )
        this.connections.add(connection)
        this.options.metrics?.connectionOpened(listener.name)
      }
      let server: Server
      if (security.tls) {
        const {clientAuth} = security.tls
        server = createTlsServer({...security.tls.options, noDelay: true}, (socket: TLSSocket) => {
          const certificate = clientAuth === 'none' ? undefined : socket.getPeerX509Certificate()
          if (certificate && !socket.authorized) {
            this.options.log.debug({listener: listener.name, remoteAddress: socket.remoteAddress, reason: socket.authorizationError}, 'closing a TLS connection whose client certificate does not verify')
            socket.destroy()
            return
          }
          let principal: string | undefined
          if (certificate && security.protocol === 'SSL') {
            try {
              const dn = distinguishedName(certificate.subject)
              principal = `User:${security.tls!.mapPrincipal ? security.tls!.mapPrincipal(dn) : dn}`
            } catch (error) {
              // No ssl.principal.mapping.rules rule applies: Kafka fails the authentication.
              this.options.log.debug({listener: listener.name, remoteAddress: socket.remoteAddress, err: error}, 'closing a TLS connection whose certificate no principal mapping rule applies to')
              socket.destroy()
              return
            }
          }
          accept(socket, principal)
        })
        server.on('tlsClientError', (error, socket) => {
          this.options.log.debug({listener: listener.name, remoteAddress: socket.remoteAddress, err: error}, 'TLS handshake failed')
          socket.destroy()
        })
      } else {
        // Paused: onReadSocket re-makes the socket before anything is read.
        server = createServer({noDelay: true, pauseOnConnect: true}, (socket) => accept(socket))
      }
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject)
          server.listen(listener.port, listener.host, () => {
            server.off('error', reject)
            resolve()
          })
        })
      } catch (error) {
        await this.stop(0)
        this.bound = []
        throw new ListenerBindError(listener.name, listener.host, listener.port, error as NodeJS.ErrnoException)
      }
      const address = server.address()
      this.servers.push({server, listener})
      this.bound.push({...listener, securityProtocol: security.protocol, boundPort: typeof address === 'object' && address ? address.port : listener.port})
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

/**
 * A certificate subject as Java's X500Principal.getName() writes it (RFC 2253: most specific
 * attribute first, comma-separated, special characters escaped) from node's one-per-line form.
 */
export function distinguishedName(subject: string): string {
  return subject
    .split('\n')
    .filter(Boolean)
    .reverse()
    .map((rdn) => {
      const eq = rdn.indexOf('=')
      return `${rdn.slice(0, eq)}=${rdn.slice(eq + 1).replace(/([,+"\\<>;])/g, '\\$1')}`
    })
    .join(',')
}

function describe(c: ConnectionInfo): string {
  return `${c.listenerName}#${c.id} ${c.remoteAddress}:${c.remotePort}`
}
