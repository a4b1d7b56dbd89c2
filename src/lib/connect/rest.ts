/**
 * Kafka Connect's REST API on fastify, answering as Kafka Connect 4.0 does (recordings in
 * shared/kafka-reference/connect): the same paths, statuses and JSON shapes, errors as
 * {error_code, message}. As Kafka's, a body that is not JSON, or JSON of the wrong shape, is a 500
 * with the parser's message (Jackson's there, V8's here); a body sent without
 * `Content-Type: application/json` is a 415; unknown paths 404 and other methods 405, with
 * Kafka's bodies. Config values may be JSON strings, numbers, booleans or null (kept as strings);
 * anything else is a 500 as Kafka's "Cannot deserialize value of type `java.lang.String`".
 *
 * Distributed mode: a request that changes configs, reaching a worker that is not the group's
 * leader, is forwarded to the leader (a task restart to the worker running the task) with
 * `forward=false`, and the answer relayed; a request with `forward=false` that cannot be handled
 * here is a 409, as Kafka's. POST /connectors/{name}/tasks is the workers' internal endpoint for
 * task configs.
 */
import Fastify, {type FastifyInstance, type FastifyReply, type FastifyRequest} from 'fastify'
import {ConnectRestError} from './connector-config.js'
import type {Herder} from './herder.js'
import {CONNECT_VERSION} from './worker-config.js'

const COMMIT = 'kcli'

/** A string map from a JSON body, Kafka's way (numbers/booleans stringified; null kept for PATCH). */
function stringMap(body: unknown, what: string, allowNull = false): Record<string, string> {
  if (body === null || body === undefined) throw new ConnectRestError(500, `Cannot invoke "java.util.Map.get(Object)" because "${what}" is null`)
  if (typeof body !== 'object' || Array.isArray(body)) throw new ConnectRestError(500, `Cannot deserialize value of type \`java.util.LinkedHashMap<java.lang.String,java.lang.String>\` from ${Array.isArray(body) ? 'Array' : typeof body} value`)
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (v === null) { if (allowNull) out[k] = null as unknown as string; continue }
    if (typeof v === 'object') throw new ConnectRestError(500, `Cannot deserialize value of type \`java.lang.String\` from ${Array.isArray(v) ? 'Array' : 'Object'} value (through reference chain: java.util.LinkedHashMap["${k}"])`)
    out[k] = String(v)
  }
  return out
}

function checkName(raw: unknown): string {
  const name = typeof raw === 'string' ? raw.trim() : ''
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new ConnectRestError(400, 'Connector name should not contain ISO control characters: ' + name)
  return name
}

const bool = (v: unknown): boolean => typeof v === 'string' && v.toLowerCase() === 'true'

export interface RestServer {
  app: FastifyInstance
  url: string
  port: number
  close(): Promise<void>
}

/** Starts the REST server for `worker` on host:port (port 0: any free port). */
export async function startRestServer(worker: Herder, host: string, port: number, options: {clusterId?: () => string | null; advertisedHost?: string; advertisedPort?: number} = {}): Promise<RestServer> {
  const app = Fastify({logger: false, bodyLimit: 16 * 1024 * 1024})

  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', {parseAs: 'string'}, (_req, body, done) => {
    const text = body as string
    if (text.trim() === '') { done(null, null); return }
    try {
      done(null, JSON.parse(text))
    } catch (error) {
      done(new ConnectRestError(500, (error as Error).message), undefined)
    }
  })

  app.setErrorHandler((error: Error & {statusCode?: number; code?: string}, _req, reply) => {
    if (error instanceof ConnectRestError) return reply.code(error.status).send({error_code: error.status, message: error.message})
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.code(415).send({error_code: 415, message: 'HTTP 415 Unsupported Media Type'})
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
    worker.logger.error({err: error}, 'REST request failed')
    return reply.code(status).send({error_code: status, message: error.message})
  })

  // Known paths answer 405 for other methods, as Jersey does; the rest 404.
  const methods = new Map<string, Set<string>>()
  const route = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, handler: (req: FastifyRequest, reply: FastifyReply) => unknown) => {
    app.route({handler: handler as never, method, url})
    const set = methods.get(url) ?? new Set()
    set.add(method)
    methods.set(url, set)
  }

  const params = (req: FastifyRequest) => req.params as Record<string, string>
  const query = (req: FastifyRequest) => req.query as Record<string, string | string[]>

  /** Distributed mode: relays the request to the worker that must handle it; false when it is this one. */
  const forwarded = async (req: FastifyRequest, reply: FastifyReply, request: {connector?: string; task?: number} = {}): Promise<boolean> => {
    const target = worker.forwardTo?.(request) ?? null
    if (target === null) return false
    if (query(req).forward === 'false') throw new ConnectRestError(409, 'Cannot complete request because of a conflicting operation (e.g. worker rebalance)')
    const url = new URL(req.url, target)
    url.searchParams.set('forward', 'false')
    const hasBody = req.body !== undefined && req.body !== null
    let response: Response
    try {
      response = await fetch(url, {body: hasBody ? JSON.stringify(req.body) : undefined, headers: hasBody ? {'content-type': 'application/json'} : {}, method: req.method, signal: AbortSignal.timeout(60_000)})
    } catch (error) {
      throw new ConnectRestError(500, `IO Error trying to forward REST request: ${(error as Error).message}`)
    }
    const text = await response.text()
    const location = response.headers.get('location')
    if (location) reply.header('location', location)
    reply.code(response.status)
    if (text === '') reply.send()
    else reply.type(response.headers.get('content-type') ?? 'application/json').send(text)
    return true
  }

  route('GET', '/', async () => ({version: CONNECT_VERSION, commit: COMMIT, kafka_cluster_id: options.clusterId?.() ?? null}))
  route('GET', '/health', async () => ({status: 'healthy', message: 'Worker has completed startup and is ready to handle requests.'}))

  route('GET', '/connectors', async (req) => {
    const expand = query(req).expand
    const wanted = (Array.isArray(expand) ? expand : expand === undefined ? [] : [expand])
    const names = worker.connectorNames()
    if (wanted.length === 0) return names
    const out: Record<string, Record<string, unknown>> = {}
    for (const n of names) {
      const o: Record<string, unknown> = {}
      if (wanted.includes('status')) o.status = worker.status(n)
      if (wanted.includes('info')) o.info = worker.info(n)
      out[n] = o
    }
    return out
  })

  route('POST', '/connectors', async (req, reply) => {
    if (await forwarded(req, reply)) return reply
    const body = req.body as {name?: unknown; config?: unknown; initial_state?: unknown} | null
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ConnectRestError(500, 'Cannot deserialize the request body as a connector creation request')
    const config = stringMap(body.config, 'connectorConfig')
    const name = checkName(body.name ?? config.name)
    if (name === '') throw new ConnectRestError(400, 'Connector configuration is invalid and contains the following 1 error(s):\nInvalid value  for configuration name: String may not be empty\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`')
    let initialState: 'STARTED' | 'PAUSED' | 'STOPPED' | undefined
    if (body.initial_state !== undefined && body.initial_state !== null) {
      const s = String(body.initial_state).toUpperCase()
      if (s !== 'RUNNING' && s !== 'PAUSED' && s !== 'STOPPED') throw new ConnectRestError(500, `Cannot deserialize value of type \`org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest$InitialState\` from String "${String(body.initial_state)}": not one of the values accepted for Enum class: [STOPPED, RUNNING, PAUSED]`)
      initialState = s === 'RUNNING' ? 'STARTED' : s
    }
    const {info} = await worker.putConnector(name, config, {allowReplace: false, initialState})
    return reply.code(201).header('location', `${worker.restUrl}/connectors/${name}`).send(info)
  })

  route('GET', '/connectors/:name', async (req) => worker.info(params(req).name!))
  route('GET', '/connectors/:name/config', async (req) => worker.info(params(req).name!).config)

  route('PUT', '/connectors/:name/config', async (req, reply) => {
    if (await forwarded(req, reply)) return reply
    const name = checkName(params(req).name)
    const config = stringMap(req.body, 'connectorConfig')
    if (config.name !== undefined && config.name.trim() !== name) throw new ConnectRestError(400, `Connector name configuration (${config.name}) doesn't match connector name in the URL (${name})`)
    const {created, info} = await worker.putConnector(name, config, {allowReplace: true})
    if (created) reply.code(201).header('location', `${worker.restUrl}/connectors/${name}`)
    return reply.send(info)
  })

  route('PATCH', '/connectors/:name/config', async (req, reply) => {
    if (await forwarded(req, reply)) return reply
    const name = params(req).name!
    const patch = stringMap(req.body, 'configPatch', true)
    const current = worker.info(name).config
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete current[k]
      else current[k] = v
    }
    return (await worker.putConnector(name, current, {allowReplace: true})).info
  })

  route('GET', '/connectors/:name/status', async (req) => worker.status(params(req).name!))
  route('PUT', '/connectors/:name/pause', async (req, reply) => { if (await forwarded(req, reply)) return reply; await worker.pause(params(req).name!); return reply.code(202).send() })
  route('PUT', '/connectors/:name/resume', async (req, reply) => { if (await forwarded(req, reply)) return reply; await worker.resume(params(req).name!); return reply.code(202).send() })
  route('PUT', '/connectors/:name/stop', async (req, reply) => { if (await forwarded(req, reply)) return reply; await worker.stop(params(req).name!); return reply.code(204).send() })

  route('POST', '/connectors/:name/restart', async (req, reply) => {
    if (await forwarded(req, reply)) return reply
    const q = query(req)
    const status = await worker.restart(params(req).name!, bool(q.includeTasks), bool(q.onlyFailed))
    return status === null ? reply.code(204).send() : reply.code(202).send(status)
  })

  route('DELETE', '/connectors/:name', async (req, reply) => { if (await forwarded(req, reply)) return reply; await worker.deleteConnector(params(req).name!); return reply.code(204).send() })

  route('GET', '/connectors/:name/tasks', async (req) => worker.taskConfigs(params(req).name!))
  const taskId = (req: FastifyRequest): number => {
    const raw = params(req).task!
    if (!/^-?\d+$/.test(raw)) throw new ConnectRestError(404, 'HTTP 404 Not Found')
    return Number(raw)
  }
  route('GET', '/connectors/:name/tasks/:task/status', async (req) => worker.taskStatus(params(req).name!, taskId(req)))
  route('POST', '/connectors/:name/tasks/:task/restart', async (req, reply) => {
    if (await forwarded(req, reply, {connector: params(req).name!, task: taskId(req)})) return reply
    await worker.restartTask(params(req).name!, taskId(req))
    return reply.code(204).send()
  })
  if (worker.putTaskConfigs) {
    const put = worker.putTaskConfigs.bind(worker)
    route('POST', '/connectors/:name/tasks', async (req, reply) => {
      if (!Array.isArray(req.body)) throw new ConnectRestError(500, 'Cannot deserialize value of type `java.util.ArrayList<java.util.Map<java.lang.String,java.lang.String>>`')
      await put(params(req).name!, req.body as Array<Record<string, string>>)
      return reply.code(204).send()
    })
  }

  route('GET', '/connectors/:name/topics', async (req) => {
    const name = params(req).name!
    const topics = worker.has(name) && worker.info(name).type === 'sink' ? (worker.info(name).config.topics ?? '').split(',').map(s => s.trim()).filter(Boolean) : worker.has(name) ? [worker.info(name).config.topic].filter(Boolean) : []
    return {[name]: {topics}}
  })

  route('GET', '/connectors/:name/offsets', async (req) => worker.getOffsets(params(req).name!))
  route('PATCH', '/connectors/:name/offsets', async (req, reply) => (await forwarded(req, reply)) ? reply : worker.alterOffsets(params(req).name!, req.body))
  route('DELETE', '/connectors/:name/offsets', async (req, reply) => (await forwarded(req, reply)) ? reply : worker.resetOffsets(params(req).name!))

  route('GET', '/connector-plugins', async (req) => {
    const only = query(req).connectorsOnly
    return worker.pluginList(only === undefined ? true : bool(only))
  })
  route('GET', '/connector-plugins/:plugin/config', async (req) => worker.pluginConfig(params(req).plugin!))
  route('PUT', '/connector-plugins/:plugin/config/validate', async (req) => {
    const plugin = params(req).plugin!
    const config = stringMap(req.body, 'connectorConfig')
    const cls = config['connector.class']
    if (cls === undefined) throw new ConnectRestError(500, `org.apache.kafka.connect.runtime.rest.errors.BadRequestException: Connector config {${Object.entries(config).map(([k, v]) => `${k}=${v}`).join(', ')}} contains no connector type`)
    if (!cls.endsWith(plugin)) throw new ConnectRestError(400, `Included connector type ${cls} does not match request type ${plugin}`)
    try {
      return worker.validate(config)
    } catch (error) {
      if (error instanceof ConnectRestError && error.status === 500) throw new ConnectRestError(500, `org.apache.kafka.connect.errors.ConnectException: ${error.message}`)
      throw error
    }
  })

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!.replace(/\/+$/, '') || '/'
    const known = [...methods.keys()].find(pattern => new RegExp('^' + pattern.replace(/:[a-z]+/g, '[^/]+') + '$').test(path))
    if (known && !methods.get(known)!.has(req.method)) return reply.code(405).send({error_code: 405, message: 'HTTP 405 Method Not Allowed'})
    return reply.code(404).send({error_code: 404, message: 'HTTP 404 Not Found'})
  })

  await app.listen({host: host === '' ? '0.0.0.0' : host, port})
  const address = app.server.address()
  const bound = typeof address === 'object' && address ? address.port : port
  const shownHost = options.advertisedHost ?? (host === '' || host === '0.0.0.0' ? '127.0.0.1' : host)
  const shownPort = options.advertisedPort ?? bound
  worker.workerId = `${shownHost}:${shownPort}`
  worker.restUrl = `http://${shownHost}:${shownPort}`
  return {app, close: () => app.close(), port: bound, url: worker.restUrl}
}
