/**
 * The broker's HTTP listener for operators (issue 16, `metrics.listener`), with fastify:
 * - GET /metrics: the registry of metrics-registry.ts in Prometheus text format (0.0.4);
 * - GET /healthz: 200 `{"status":"ok"}` while the process serves HTTP (liveness: no broker state
 *   is consulted, so a broker busy recovering its logs is not restarted for it);
 * - GET /readyz: 200 `{"ready":true}` or 503 `{"ready":false,"reasons":[...]}` from the broker's
 *   readiness (readiness.ts defines it).
 * It binds before the broker opens anything, so /healthz answers and /readyz says "starting"
 * during log recovery. A port it cannot bind fails the broker's start with MetricsListenerBindError
 * (a ListenerBindError: `kcli server start` exits 1 naming metrics.listener and the address).
 */
import {type FastifyInstance, fastify} from 'fastify'
import type {Registry} from 'prom-client'
import {ListenerBindError} from '../network/socket-server.js'
import type {Readiness} from './readiness.js'

export class MetricsListenerBindError extends ListenerBindError {
  constructor(host: string, port: number, cause: NodeJS.ErrnoException) {
    super('metrics.listener', host, port, cause)
    this.name = 'MetricsListenerBindError'
    this.message = this.message.replace(/^socket server failed to bind to (\S+) for listener metrics\.listener/, 'metrics listener (metrics.listener) failed to bind to http://$1')
  }
}

export interface MetricsServerOptions {
  host: string
  port: number
  /** The registry, once the broker has built it (null while starting: /metrics answers 503). */
  registry(): Registry | null
  readiness(): Readiness
}

export class MetricsServer {
  private app?: FastifyInstance
  /** The port it listens on, once bound. */
  port?: number

  constructor(private readonly options: MetricsServerOptions) {}

  async start(): Promise<number> {
    const {host, port} = this.options
    const app = fastify({logger: false, keepAliveTimeout: 5_000})
    app.get('/metrics', async (_request, reply) => {
      const registry = this.options.registry()
      if (!registry) return reply.code(503).type('text/plain; charset=utf-8').send('starting\n')
      const text = await registry.metrics()
      return reply.type(registry.contentType).send(text)
    })
    app.get('/healthz', async (_request, reply) => reply.send({status: 'ok'}))
    app.get('/readyz', async (_request, reply) => {
      const r = this.options.readiness()
      return reply.code(r.ready ? 200 : 503).send(r)
    })
    try {
      await app.listen({host, port})
    } catch (error) {
      await app.close().catch(() => undefined)
      throw new MetricsListenerBindError(host, port, error as NodeJS.ErrnoException)
    }
    this.app = app
    const address = app.server.address()
    this.port = typeof address === 'object' && address ? address.port : port
    return this.port
  }

  async stop(): Promise<void> {
    const app = this.app
    this.app = undefined
    await app?.close()
  }
}
