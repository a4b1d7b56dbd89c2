/**
 * The standalone worker (Kafka's StandaloneHerder + Worker): the connectors of this process,
 * their target state (STARTED, PAUSED, STOPPED), their tasks, and everything the REST API asks of
 * them. Operations that change connectors run one at a time (a queue), and each publishes its
 * result in one step: a request never sees a connector half-created or half-deleted.
 *
 * Worker config (Kafka Connect's names): bootstrap.servers, key.converter / value.converter (with
 * `key.converter.*` / `value.converter.*`, e.g. schemas.enable), offset.storage.file.filename,
 * offset.flush.interval.ms, plugin.path, listeners (or rest.host.name + rest.port),
 * exactly.once.source.support (enabled: see tasks.ts) with offset.storage.topic, and
 * `producer.*` / `consumer.*` client settings for the tasks. A connector may override the
 * converters in its own config.
 */
import type {Logger} from 'pino'
import {type BrokerAddress, parseBootstrapServers} from '../cli/bootstrap-server.js'
import {Admin} from '../client/admin.js'
import {KafkaClient} from '../client/client.js'
import {Consumer} from '../client/consumer.js'
import {ErrorCode} from '../client/errors.js'
import type {AnyConnector, OffsetMap, PluginDescriptor} from './api.js'
import {ConnectRestError, invalidConfigMessage, listValue, TransformationChain, validateConnectorConfig, type ValidateResponse} from './connector-config.js'
import {type Converter, createConverter} from './converters.js'
import {FileOffsetStore} from './offset-store.js'
import type {PluginRegistry} from './plugins.js'
import {SinkTaskRuntime, SourceTaskRuntime, type State, type TaskEnvironment, TaskRuntime, traceOf} from './tasks.js'

export const CONNECT_VERSION = '4.0.0'

export interface WorkerConfig {
  props: Record<string, string>
  bootstrapServers: BrokerAddress[]
  offsetFile: string
  flushIntervalMs: number
  pluginPath: string | undefined
  /** host and port the REST server binds (port 0: any free port). */
  restHost: string
  restPort: number
  exactlyOnceSource: boolean
  offsetTopic: string
}

/** Reads a worker's properties; throws a message naming the bad key. */
export function parseWorkerConfig(props: Record<string, string>): WorkerConfig {
  const offsetFile = props['offset.storage.file.filename']
  if (!offsetFile) throw new Error('Missing required configuration "offset.storage.file.filename" which has no default value.')
  const flush = Number(props['offset.flush.interval.ms'] ?? 60000)
  if (!Number.isInteger(flush) || flush < 0) throw new Error(`Invalid value ${props['offset.flush.interval.ms']} for configuration offset.flush.interval.ms: Not a number of type LONG`)
  let restHost = props['rest.host.name'] ?? ''
  let restPort = Number(props['rest.port'] ?? 8083)
  const listeners = props.listeners
  if (listeners !== undefined && listeners.trim() !== '') {
    const first = listeners.split(',')[0]!.trim()
    const m = /^(https?):\/\/(\[[^\]]*\]|[^:/]*):(\d+)\/?$/i.exec(first)
    if (!m) throw new Error(`Invalid value ${listeners} for configuration listeners: expected http://host:port`)
    if (m[1]!.toLowerCase() === 'https') throw new Error('listeners: https is not supported yet')
    restHost = m[2]!.replace(/^\[|\]$/g, '')
    restPort = Number(m[3])
  }
  const eos = (props['exactly.once.source.support'] ?? 'disabled').toLowerCase()
  if (!['disabled', 'enabled', 'preparing'].includes(eos)) throw new Error(`Invalid value ${eos} for configuration exactly.once.source.support: String must be one of: disabled, enabled, preparing`)
  return {
    bootstrapServers: parseBootstrapServers(props['bootstrap.servers'] ?? 'localhost:9092'),
    exactlyOnceSource: eos === 'enabled',
    flushIntervalMs: flush,
    offsetFile,
    offsetTopic: props['offset.storage.topic'] ?? 'connect-offsets',
    pluginPath: props['plugin.path'],
    props,
    restHost,
    restPort,
  }
}

/** `prefix.*` keys of props, prefix removed. */
export function withPrefix(props: Record<string, string>, prefix: string): Record<string, string> {
  return Object.fromEntries(Object.entries(props).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]))
}

type TargetState = 'STARTED' | 'PAUSED' | 'STOPPED'

interface ConnectorEntry {
  name: string
  config: Record<string, string>
  plugin: PluginDescriptor
  target: TargetState
  connector?: AnyConnector
  state: State
  trace: string | null
  taskConfigs: Array<Record<string, string>>
  tasks: TaskRuntime[]
}

export interface ConnectorInfo {name: string; config: Record<string, string>; tasks: Array<{connector: string; task: number}>; type: 'source' | 'sink'}
export interface StateInfo {state: State; worker_id: string; trace?: string}
export interface ConnectorStatus {name: string; connector: StateInfo; tasks: Array<StateInfo & {id: number}>; type: 'source' | 'sink'}

export class Worker {
  private readonly connectors = new Map<string, ConnectorEntry>()
  private queue: Promise<unknown> = Promise.resolve()
  readonly offsets: FileOffsetStore
  /** host:port of the REST server, as Connect's statuses name a worker. */
  workerId = '127.0.0.1:8083'
  /** The REST server's base URL (Location headers). */
  restUrl = 'http://127.0.0.1:8083'

  constructor(readonly config: WorkerConfig, readonly plugins: PluginRegistry, readonly logger: Logger) {
    this.offsets = new FileOffsetStore(config.offsetFile)
  }

  /** Loads the offset file, and with exactly-once sources the offsets topic over it. */
  async start(): Promise<void> {
    await this.offsets.load()
    if (this.config.exactlyOnceSource) await this.loadOffsetsTopic()
  }

  /** Runs `fn` after every operation queued before it. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => undefined)
    return run
  }

  private entry(name: string, message = `Connector ${name} not found`): ConnectorEntry {
    const e = this.connectors.get(name)
    if (!e) throw new ConnectRestError(404, message)
    return e
  }

  connectorNames(): string[] {
    return [...this.connectors.keys()].sort()
  }

  has(name: string): boolean {
    return this.connectors.has(name)
  }

  info(name: string): ConnectorInfo {
    const e = this.entry(name)
    return {name, config: {...e.config}, tasks: e.taskConfigs.map((_, task) => ({connector: name, task})), type: e.plugin.type as 'source' | 'sink'}
  }

  status(name: string): ConnectorStatus {
    const e = this.entry(name, `No status found for connector ${name}`)
    const connector: StateInfo = {state: e.state, worker_id: this.workerId, ...(e.trace ? {trace: e.trace} : {})}
    return {name, connector, tasks: e.tasks.map((t, id) => this.taskState(t, id)), type: e.plugin.type as 'source' | 'sink'}
  }

  private taskState(t: TaskRuntime, id: number): StateInfo & {id: number} {
    return {id, state: t.state, worker_id: this.workerId, ...(t.trace ? {trace: t.trace} : {})}
  }

  taskStatus(name: string, task: number): StateInfo & {id: number} {
    const e = this.connectors.get(name)
    const t = e?.tasks[task]
    if (!e || !t) throw new ConnectRestError(404, `No status found for task ${name}-${task}`)
    return this.taskState(t, task)
  }

  taskConfigs(name: string): Array<{id: {connector: string; task: number}; config: Record<string, string>}> {
    const e = this.entry(name)
    return e.taskConfigs.map((config, task) => ({id: {connector: name, task}, config: {...config, 'task.class': taskClass(e.plugin.className)}}))
  }

  validate(config: Record<string, string>): ValidateResponse {
    return validateConnectorConfig(this.plugins, config).response
  }

  /** Create or replace (PUT config) a connector; `created` tells which. */
  putConnector(name: string, config: Record<string, string>, options: {allowReplace: boolean; initialState?: TargetState}): Promise<{created: boolean; info: ConnectorInfo}> {
    return this.serial(async () => {
      const existing = this.connectors.get(name)
      if (existing && !options.allowReplace) throw new ConnectRestError(409, `Connector ${name} already exists`)
      const full = {...config, name}
      const {plugin, response} = validateConnectorConfig(this.plugins, full)
      if (response.error_count > 0) throw new ConnectRestError(400, invalidConfigMessage(response))
      if (existing) await this.stopConnector(existing)
      const entry: ConnectorEntry = {config: full, name, plugin, state: 'UNASSIGNED', target: existing?.target ?? options.initialState ?? 'STARTED', taskConfigs: [], tasks: [], trace: null}
      this.connectors.set(name, entry)
      // Created PAUSED (initial_state): no tasks until resumed, as Kafka Connect.
      await this.startConnector(entry, {withTasks: !(!existing && options.initialState === 'PAUSED')})
      this.logger.info(`${existing ? 'Reconfigured' : 'Created'} connector ${name}`)
      return {created: !existing, info: this.info(name)}
    })
  }

  deleteConnector(name: string): Promise<void> {
    return this.serial(async () => {
      const e = this.entry(name)
      this.connectors.delete(name)
      await this.stopConnector(e)
      this.logger.info(`Deleted connector ${name}`)
    })
  }

  pause(name: string): Promise<void> {
    return this.serial(async () => {
      const e = this.entry(name, `Unknown connector ${name}`)
      e.target = 'PAUSED'
      // A STOPPED connector becomes PAUSED with no tasks (as Kafka Connect).
      if (e.state === 'RUNNING' || e.state === 'STOPPED') e.state = 'PAUSED'
      for (const t of e.tasks) t.pause()
    })
  }

  resume(name: string): Promise<void> {
    return this.serial(async () => {
      const e = this.entry(name, `Unknown connector ${name}`)
      const wasStopped = e.target === 'STOPPED' || (e.tasks.length === 0 && e.target === 'PAUSED')
      e.target = 'STARTED'
      if (wasStopped) {
        await this.stopConnector(e)
        await this.startConnector(e)
        return
      }
      if (e.state === 'PAUSED') e.state = 'RUNNING'
      for (const t of e.tasks) t.resume()
    })
  }

  /** PUT stop: the connector and its tasks shut down; the connector stays, STOPPED with no tasks. */
  stop(name: string): Promise<void> {
    return this.serial(async () => {
      const e = this.connectors.get(name)
      if (!e) throw new ConnectRestError(404, `Connector ${name} not found`)
      e.target = 'STOPPED'
      await this.stopConnector(e)
      e.state = 'STOPPED'
      e.taskConfigs = []
    })
  }

  /**
   * POST restart. Without includeTasks/onlyFailed: the connector only (null: Kafka's plain 204).
   * With them: the instances restarted are reported RESTARTING in the status returned.
   */
  restart(name: string, includeTasks: boolean, onlyFailed: boolean): Promise<ConnectorStatus | null> {
    return this.serial(async () => {
      const e = this.entry(name, `Unknown connector: ${name}`)
      const restartConnector = !onlyFailed || e.state === 'FAILED'
      const restartTasks = includeTasks ? e.tasks.map((t, i) => ({i, t})).filter(({t}) => !onlyFailed || t.state === 'FAILED').map(({i}) => i) : []
      const plain = !includeTasks && !onlyFailed
      let snapshot: ConnectorStatus | null = null
      if (!plain) {
        snapshot = this.status(name)
        if (restartConnector) snapshot.connector.state = 'RESTARTING'
        for (const i of restartTasks) snapshot.tasks[i]!.state = 'RESTARTING'
      }
      if (e.target === 'STOPPED') return snapshot
      if (restartConnector && includeTasks && restartTasks.length === e.tasks.length) {
        await this.stopConnector(e)
        await this.startConnector(e)
      } else {
        if (restartConnector) await this.restartConnectorOnly(e)
        for (const i of restartTasks) await this.restartTaskAt(e, i)
      }
      return snapshot
    })
  }

  restartTask(name: string, task: number): Promise<void> {
    return this.serial(async () => {
      const e = this.connectors.get(name)
      if (!e || !e.tasks[task]) throw new ConnectRestError(404, `Task ${name}-${task} not found`)
      await this.restartTaskAt(e, task)
    })
  }

  // --- offsets (KIP-875) --------------------------------------------------------------------------

  async getOffsets(name: string): Promise<{offsets: Array<{partition: Record<string, unknown>; offset: Record<string, unknown> | null}>}> {
    const e = this.entry(name)
    if (e.plugin.type === 'source') return {offsets: this.offsets.offsets(name).filter(o => o.offset !== null)}
    return this.withAdmin(async admin => {
      const committed = await admin.fetchOffsets(`connect-${name}`)
      return {offsets: committed.filter(c => c.errorCode === 0 && c.offset >= 0n).map(c => ({partition: {kafka_topic: c.topic, kafka_partition: c.partition}, offset: {kafka_offset: Number(c.offset)}}))}
    })
  }

  alterOffsets(name: string, body: unknown): Promise<{message: string}> {
    return this.serial(async () => {
      const e = this.requireStopped(name)
      const list = (body as {offsets?: unknown} | null)?.offsets
      if (!Array.isArray(list)) throw new ConnectRestError(400, 'The offsets to be modified must be specified as an array of {partition, offset} objects')
      const entries = list.map((o: unknown) => {
        const x = o as {partition?: unknown; offset?: unknown}
        if (x === null || typeof x !== 'object' || x.partition === undefined || x.partition === null || typeof x.partition !== 'object') throw new ConnectRestError(400, 'Partitions must be specified for every offset entry')
        return {offset: (x.offset ?? null) as OffsetMap | null, partition: x.partition as OffsetMap}
      })
      if (e.plugin.type === 'source') {
        await this.offsets.set(name, entries)
      } else {
        const commits: Array<{topic: string; partition: number; offset: bigint}> = []
        const deletes: Array<{topic: string; partitions: number[]}> = []
        for (const en of entries) {
          const topic = en.partition.kafka_topic
          const partition = en.partition.kafka_partition
          if (typeof topic !== 'string' || typeof partition !== 'number' || !Number.isInteger(partition)) throw new ConnectRestError(400, 'Sink connector offsets must have a string "kafka_topic" and an integer "kafka_partition" in their partition')
          if (en.offset === null) { deletes.push({partitions: [partition], topic}); continue }
          const off = en.offset.kafka_offset
          if (typeof off !== 'number' || !Number.isInteger(off) || off < 0) throw new ConnectRestError(400, 'Failed to modify offsets for sink connector: "kafka_offset" must be a non-negative integer')
          commits.push({offset: BigInt(off), partition, topic})
        }
        await this.withAdmin(async admin => {
          if (commits.length > 0) {
            const r = await admin.commitOffsets(`connect-${name}`, commits)
            const bad = r.find(x => x.errorCode !== 0)
            if (bad) throw new ConnectRestError(500, `Failed to alter consumer group offsets for connector ${name}: ${bad.error}`)
          }
          for (const d of deletes) await admin.deleteOffsets(`connect-${name}`, [d])
        })
      }
      return {message: 'The offsets for this connector have been altered successfully'}
    })
  }

  resetOffsets(name: string): Promise<{message: string}> {
    return this.serial(async () => {
      const e = this.requireStopped(name)
      if (e.plugin.type === 'source') await this.offsets.reset(name)
      else {
        await this.withAdmin(async admin => {
          const [r] = await admin.deleteGroups([`connect-${name}`])
          if (r && r.errorCode !== 0 && r.errorCode !== ErrorCode.GROUP_ID_NOT_FOUND) throw new ConnectRestError(500, `Failed to reset consumer group offsets for connector ${name}: ${r.error}`)
        })
      }
      return {message: 'The offsets for this connector have been reset successfully'}
    })
  }

  private requireStopped(name: string): ConnectorEntry {
    const e = this.entry(name)
    if (e.target !== 'STOPPED') throw new ConnectRestError(400, `Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/${name}/stop' endpoint`)
    return e
  }

  private async withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    const client = new KafkaClient({bootstrapServers: this.config.bootstrapServers, clientId: 'connect-admin'})
    try {
      return await fn(new Admin(client))
    } finally {
      await client.close()
    }
  }

  /** Stops everything (worker shutdown): tasks commit their offsets first. */
  async shutdown(): Promise<void> {
    await this.serial(async () => {
      await Promise.all([...this.connectors.values()].map(e => this.stopConnector(e)))
    })
  }

  // --- lifecycle ------------------------------------------------------------------------------------

  private async startConnector(e: ConnectorEntry, options: {withTasks?: boolean} = {}): Promise<void> {
    e.trace = null
    e.tasks = []
    e.taskConfigs = []
    if (e.target === 'STOPPED') { e.state = 'STOPPED'; return }
    try {
      const connector = e.plugin.create() as AnyConnector
      await connector.start({...e.config})
      e.connector = connector
      e.taskConfigs = connector.taskConfigs(Number(e.config['tasks.max'] ?? 1))
      e.state = e.target === 'PAUSED' ? 'PAUSED' : 'RUNNING'
    } catch (error) {
      e.state = 'FAILED'
      e.trace = traceOf(error)
      this.logger.error({err: error}, `[${e.name}] Failed to start connector`)
      return
    }
    if (options.withTasks === false) {
      e.taskConfigs = []
      return
    }
    e.tasks = e.taskConfigs.map((_, i) => this.createTask(e, i))
  }

  private createTask(e: ConnectorEntry, i: number): TaskRuntime {
    let env: TaskEnvironment
    try {
      env = this.taskEnvironment(e, i)
    } catch (error) {
      const failed = new FailedTask(e.name, i, this.logger)
      failed.trace = traceOf(error)
      return failed
    }
    const t = e.plugin.type === 'source' ? new SourceTaskRuntime(env, e.connector as never) : new SinkTaskRuntime(env, e.connector as never)
    t.start(e.target === 'PAUSED')
    return t
  }

  private taskEnvironment(e: ConnectorEntry, task: number): TaskEnvironment {
    const w = this.config.props
    const converter = (which: 'key' | 'value'): Converter => {
      const own = e.config[`${which}.converter`]
      const source = own === undefined ? w : e.config
      const cls = own ?? w[`${which}.converter`] ?? 'org.apache.kafka.connect.json.JsonConverter'
      return createConverter(cls, withPrefix(source, `${which}.converter.`), which === 'key')
    }
    return {
      bootstrapServers: this.config.bootstrapServers,
      chain: TransformationChain.build(this.plugins, e.config),
      connector: e.name,
      connectorConfig: e.config,
      consumerProps: {...withPrefix(w, 'consumer.'), ...withPrefix(e.config, 'consumer.override.')},
      exactlyOnce: this.config.exactlyOnceSource && e.plugin.type === 'source' ? {offsetTopic: this.config.offsetTopic, transactionalIdPrefix: w['group.id'] ?? 'connect'} : undefined,
      flushIntervalMs: this.config.flushIntervalMs,
      keyConverter: converter('key'),
      logger: this.logger,
      offsets: this.offsets,
      producerProps: {...withPrefix(w, 'producer.'), ...withPrefix(e.config, 'producer.override.')},
      task,
      taskConfig: e.taskConfigs[task]!,
      valueConverter: converter('value'),
    }
  }

  private async stopConnector(e: ConnectorEntry): Promise<void> {
    await Promise.all(e.tasks.map(t => t.stop()))
    e.tasks = []
    try {
      await e.connector?.stop()
    } catch (error) {
      this.logger.warn({err: error}, `[${e.name}] connector stop failed`)
    }
    e.connector = undefined
    e.state = 'UNASSIGNED'
  }

  private async restartConnectorOnly(e: ConnectorEntry): Promise<void> {
    try { await e.connector?.stop() } catch { /* restarting anyway */ }
    e.trace = null
    try {
      const connector = e.plugin.create() as AnyConnector
      await connector.start({...e.config})
      e.connector = connector
      e.state = e.target === 'PAUSED' ? 'PAUSED' : 'RUNNING'
    } catch (error) {
      e.state = 'FAILED'
      e.trace = traceOf(error)
    }
  }

  private async restartTaskAt(e: ConnectorEntry, i: number): Promise<void> {
    await e.tasks[i]?.stop()
    if (!e.connector) return
    e.tasks[i] = this.createTask(e, i)
  }

  /** Exactly-once sources: the offsets topic (created compacted when missing), read to its stable end. */
  private async loadOffsetsTopic(): Promise<void> {
    const topic = this.config.offsetTopic
    const client = new KafkaClient({bootstrapServers: this.config.bootstrapServers, clientId: 'connect-offsets-reader'})
    try {
      const admin = new Admin(client)
      const [created] = await admin.createTopics([{configs: {'cleanup.policy': 'compact'}, name: topic, numPartitions: 1, replicationFactor: Number(this.config.props['offset.storage.replication.factor'] ?? -1)}])
      if (created && created.errorCode !== 0 && created.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) throw new Error(`Could not create the offsets topic ${topic}: ${created.errorMessage ?? created.error}`)
      const meta = await admin.describeTopics([topic])
      const partitions = meta.topics[0]?.partitions.map(p => p.partition) ?? [0]
      const ends = await admin.listOffsets(partitions.map(partition => ({partition, timestamp: -1n, topic})), {isolationLevel: 1})
      const end = new Map(ends.map(l => [l.partition, l.offset]))
      const pending = new Set(partitions.filter(p => (end.get(p) ?? 0n) > 0n))
      if (pending.size === 0) return
      const consumer = new Consumer(client, {isolationLevel: 1})
      consumer.assign(partitions.map(partition => ({offset: 0n, partition, topic})))
      const latest = new Map<string, string | null>()
      const deadline = Date.now() + 60_000
      for await (const batch of consumer.batches()) {
        for (const r of batch.records) if (r.key) latest.set(r.key.toString(), r.value === null ? null : r.value.toString())
        if (batch.nextOffset >= (end.get(batch.partition) ?? 0n)) pending.delete(batch.partition)
        if (pending.size === 0) break
        if (Date.now() > deadline) throw new Error(`reading the offsets topic ${topic} took over 60 s`)
      }
      await consumer.close()
      const byConnector = new Map<string, Array<{partition: OffsetMap; offset: OffsetMap | null}>>()
      for (const [k, v] of latest) {
        try {
          const [connector, partition] = JSON.parse(k) as [string, OffsetMap]
          const list = byConnector.get(connector) ?? []
          list.push({offset: v === null ? null : (JSON.parse(v) as OffsetMap), partition})
          byConnector.set(connector, list)
        } catch {
          this.logger.warn(`ignoring a record of ${topic} whose key is not [connector, partition] JSON: ${k}`)
        }
      }
      for (const [connector, entries] of byConnector) await this.offsets.set(connector, entries)
    } finally {
      await client.close()
    }
  }

  /** Names of plugins, as GET /connector-plugins lists them. */
  pluginList(connectorsOnly: boolean): Array<{class: string; type: string; version: string}> {
    return this.plugins.plugins
      .filter(p => !connectorsOnly || p.type === 'source' || p.type === 'sink')
      .map(p => ({class: p.className, type: p.type, version: p.version}))
      .sort((a, b) => a.class.localeCompare(b.class))
  }

  /** The config definition of a plugin (GET /connector-plugins/{name}/config). */
  pluginConfig(name: string): Array<Record<string, unknown>> {
    const p = this.plugins.find(name, ['source', 'sink', 'transformation', 'predicate'])
    if (!p) throw new ConnectRestError(404, `Unknown plugin ${name}.`)
    const def = (p.create() as {config(): import('./api.js').ConfigDef}).config()
    return [...def.keys.values()].map(k => ({
      default_value: typeof k.defaultValue === 'symbol' ? null : k.defaultValue, dependents: k.dependents ?? [], display_name: k.displayName ?? k.name, documentation: k.documentation,
      group: k.group ?? null, importance: k.importance, name: k.name, order: k.orderInGroup ?? -1, required: typeof k.defaultValue === 'symbol', type: k.type, width: k.width ?? 'NONE',
    }))
  }

  /** `topics` of a sink connector, for callers that need them. */
  static sinkTopics(config: Record<string, string>): string[] {
    return listValue(config.topics)
  }
}

/** Kafka's task.class: the connector's class with Task for Connector. */
function taskClass(connectorClass: string): string {
  return connectorClass.endsWith('Connector') ? connectorClass.slice(0, -'Connector'.length) + 'Task' : connectorClass + 'Task'
}

/** A task that could not even be built (bad converter or transform config): FAILED with the reason. */
class FailedTask extends TaskRuntime {
  constructor(connector: string, task: number, logger: Logger) {
    super({connector, connectorConfig: {}, logger, task} as unknown as TaskEnvironment)
    this.state = 'FAILED'
  }

  override start(): void {}
  protected async run(): Promise<void> {}
  protected async cleanup(): Promise<void> {}
  protected interrupt(): void {}
}
