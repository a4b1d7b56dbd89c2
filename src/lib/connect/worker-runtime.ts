/**
 * The instances running on this worker (Kafka's Worker): connectors and tasks, started and stopped
 * by a herder (StandaloneHerder runs every connector; the distributed herder runs what the group
 * assigned to this worker). A task is built from its connector's config and its task config only:
 * it needs no running connector instance on this worker, as in distributed mode the connector may
 * run elsewhere. Also what both herders answer the same way: plugins, validation, and the offsets
 * of a connector (source offsets in the OffsetBackingStore, sink offsets in the consumer group
 * `connect-<name>`).
 */
import type {Logger} from 'pino'
import {Admin} from '../client/admin.js'
import {KafkaClient} from '../client/client.js'
import {ErrorCode} from '../client/errors.js'
import type {AnyConnector, ConfigDef, OffsetMap, PluginDescriptor} from './api.js'
import {ConnectRestError, TransformationChain, validateConnectorConfig, type ValidateResponse} from './connector-config.js'
import {type Converter, createConverter} from './converters.js'
import type {OffsetsInfo, TargetState, TaskConfigInfo} from './herder.js'
import type {OffsetBackingStore} from './offset-store.js'
import type {PluginRegistry} from './plugins.js'
import {SinkTaskRuntime, SourceTaskRuntime, type State, type TaskEnvironment, TaskRuntime, traceOf} from './tasks.js'
import {type WorkerConfig, withPrefix} from './worker-config.js'

/** A connector instance on this worker. */
export interface ConnectorInstance {
  name: string
  config: Record<string, string>
  plugin: PluginDescriptor
  target: TargetState
  connector?: AnyConnector
  state: State
  trace: string | null
}

export class WorkerRuntime {
  readonly connectors = new Map<string, ConnectorInstance>()
  /** Tasks by connector, then task number. */
  private readonly tasks = new Map<string, Map<number, TaskRuntime>>()

  constructor(
    readonly config: WorkerConfig,
    readonly plugins: PluginRegistry,
    readonly logger: Logger,
    readonly offsets: OffsetBackingStore,
    /** Exactly-once sources: transactional ids are `<prefix>-<connector>-<task>` (Kafka: the group.id). */
    private readonly transactionalIdPrefix: string,
  ) {}

  // --- connectors -----------------------------------------------------------------------------------

  /**
   * Starts (or, already known, starts again) a connector instance with `config`: RUNNING or
   * PAUSED by `target`, STOPPED with no instance, FAILED with the reason when start() throws.
   */
  async startConnector(name: string, config: Record<string, string>, plugin: PluginDescriptor, target: TargetState): Promise<ConnectorInstance> {
    const previous = this.connectors.get(name)
    if (previous) await this.stopConnector(name)
    const c: ConnectorInstance = {config, name, plugin, state: 'UNASSIGNED', target, trace: null}
    this.connectors.set(name, c)
    if (target === 'STOPPED') {
      c.state = 'STOPPED'
      return c
    }
    try {
      const connector = plugin.create() as AnyConnector
      await connector.start({...config})
      c.connector = connector
      c.state = target === 'PAUSED' ? 'PAUSED' : 'RUNNING'
    } catch (error) {
      c.state = 'FAILED'
      c.trace = traceOf(error)
      this.logger.error({err: error}, `[${name}] Failed to start connector`)
    }
    return c
  }

  /** The running connector's task configs (taskConfigs(tasks.max)); [] when it is not running. */
  generateTaskConfigs(name: string): Array<Record<string, string>> {
    const c = this.connectors.get(name)
    if (!c?.connector) return []
    try {
      return c.connector.taskConfigs(Number(c.config['tasks.max'] ?? 1))
    } catch (error) {
      c.state = 'FAILED'
      c.trace = traceOf(error)
      return []
    }
  }

  /** Stops the connector instance (not its tasks); it stays known with state UNASSIGNED. */
  async stopConnector(name: string): Promise<void> {
    const c = this.connectors.get(name)
    if (!c) return
    try {
      await c.connector?.stop()
    } catch (error) {
      this.logger.warn({err: error}, `[${name}] connector stop failed`)
    }
    c.connector = undefined
    c.state = 'UNASSIGNED'
  }

  /** Stops the connector instance and forgets it. */
  async removeConnector(name: string): Promise<void> {
    await this.stopConnector(name)
    this.connectors.delete(name)
  }

  /** PAUSED or STARTED: the connector's and its tasks' states follow (the instances keep running). */
  setTargetState(name: string, target: 'STARTED' | 'PAUSED'): void {
    const c = this.connectors.get(name)
    if (c) {
      c.target = target
      if (target === 'PAUSED' && (c.state === 'RUNNING' || c.state === 'STOPPED')) c.state = 'PAUSED'
      if (target === 'STARTED' && c.state === 'PAUSED') c.state = 'RUNNING'
    }
    for (const t of this.tasksOf(name)) {
      if (target === 'PAUSED') t.pause()
      else t.resume()
    }
  }

  // --- tasks --------------------------------------------------------------------------------------------

  /** Starts task `task` of a connector (replacing one already running). */
  async startTask(name: string, task: number, connectorConfig: Record<string, string>, taskConfig: Record<string, string>, plugin: PluginDescriptor, target: TargetState): Promise<TaskRuntime> {
    await this.stopTask(name, task)
    let t: TaskRuntime
    try {
      const env = this.taskEnvironment(name, task, connectorConfig, taskConfig, plugin)
      // The task class comes from a fresh connector instance: its createTask() needs no start().
      const connector = plugin.create() as AnyConnector
      t = plugin.type === 'source' ? new SourceTaskRuntime(env, connector as never) : new SinkTaskRuntime(env, connector as never)
      t.start(target === 'PAUSED')
    } catch (error) {
      t = new FailedTask(name, task, this.logger)
      t.trace = traceOf(error)
    }
    let byNumber = this.tasks.get(name)
    if (!byNumber) this.tasks.set(name, byNumber = new Map())
    byNumber.set(task, t)
    return t
  }

  async stopTask(name: string, task: number): Promise<void> {
    const t = this.tasks.get(name)?.get(task)
    if (!t) return
    this.tasks.get(name)!.delete(task)
    if (this.tasks.get(name)!.size === 0) this.tasks.delete(name)
    await t.stop()
  }

  /** Stops every task of a connector (in parallel). */
  async stopTasks(name: string): Promise<void> {
    const byNumber = this.tasks.get(name)
    if (!byNumber) return
    this.tasks.delete(name)
    await Promise.all([...byNumber.values()].map(t => t.stop()))
  }

  task(name: string, task: number): TaskRuntime | undefined {
    return this.tasks.get(name)?.get(task)
  }

  /** The tasks of a connector on this worker, by task number. */
  tasksOf(name: string): TaskRuntime[] {
    const byNumber = this.tasks.get(name)
    return byNumber ? [...byNumber.entries()].sort(([a], [b]) => a - b).map(([, t]) => t) : []
  }

  /** Every task on this worker. */
  taskIds(): Array<{connector: string; task: number}> {
    return [...this.tasks].flatMap(([connector, byNumber]) => [...byNumber.keys()].map(task => ({connector, task})))
  }

  /** Stops every task, then every connector (worker shutdown): tasks commit their offsets first. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.tasks.keys()].map(name => this.stopTasks(name)))
    await Promise.all([...this.connectors.keys()].map(name => this.removeConnector(name)))
  }

  private taskEnvironment(name: string, task: number, config: Record<string, string>, taskConfig: Record<string, string>, plugin: PluginDescriptor): TaskEnvironment {
    const w = this.config.props
    const converter = (which: 'key' | 'value'): Converter => {
      const own = config[`${which}.converter`]
      const source = own === undefined ? w : config
      const cls = own ?? w[`${which}.converter`] ?? 'org.apache.kafka.connect.json.JsonConverter'
      return createConverter(cls, withPrefix(source, `${which}.converter.`), which === 'key')
    }
    return {
      bootstrapServers: this.config.bootstrapServers,
      chain: TransformationChain.build(this.plugins, config),
      connector: name,
      connectorConfig: config,
      consumerProps: {...withPrefix(w, 'consumer.'), ...withPrefix(config, 'consumer.override.')},
      exactlyOnce: this.config.exactlyOnceSource && plugin.type === 'source' ? {offsetTopic: this.config.offsetTopic, transactionalIdPrefix: this.transactionalIdPrefix} : undefined,
      flushIntervalMs: this.config.flushIntervalMs,
      keyConverter: converter('key'),
      logger: this.logger,
      offsets: this.offsets,
      producerProps: {...withPrefix(w, 'producer.'), ...withPrefix(config, 'producer.override.')},
      task,
      taskConfig,
      valueConverter: converter('value'),
    }
  }

  // --- what both modes answer the same way ------------------------------------------------------------

  validate(config: Record<string, string>): ValidateResponse {
    return validateConnectorConfig(this.plugins, config).response
  }

  /** GET /connectors/{name}/tasks: the task configs with Kafka's task.class added. */
  static taskConfigInfos(name: string, plugin: PluginDescriptor, configs: Array<Record<string, string>>): TaskConfigInfo[] {
    return configs.map((config, task) => ({id: {connector: name, task}, config: {...config, 'task.class': taskClass(plugin.className)}}))
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
    const def = (p.create() as {config(): ConfigDef}).config()
    return [...def.keys.values()].map(k => ({
      default_value: typeof k.defaultValue === 'symbol' ? null : k.defaultValue, dependents: k.dependents ?? [], display_name: k.displayName ?? k.name, documentation: k.documentation,
      group: k.group ?? null, importance: k.importance, name: k.name, order: k.orderInGroup ?? -1, required: typeof k.defaultValue === 'symbol', type: k.type, width: k.width ?? 'NONE',
    }))
  }

  /** GET /connectors/{name}/offsets (KIP-875). */
  async getOffsets(name: string, type: string): Promise<OffsetsInfo> {
    if (type === 'source') return {offsets: this.offsets.offsets(name).filter(o => o.offset !== null)}
    return this.withAdmin(async admin => {
      const committed = await admin.fetchOffsets(`connect-${name}`)
      return {offsets: committed.filter(c => c.errorCode === 0 && c.offset >= 0n).map(c => ({partition: {kafka_topic: c.topic, kafka_partition: c.partition}, offset: {kafka_offset: Number(c.offset)}}))}
    })
  }

  /** PATCH /connectors/{name}/offsets; the herder has checked the connector is STOPPED. */
  async alterOffsets(name: string, type: string, body: unknown): Promise<{message: string}> {
    const list = (body as {offsets?: unknown} | null)?.offsets
    if (!Array.isArray(list)) throw new ConnectRestError(400, 'The offsets to be modified must be specified as an array of {partition, offset} objects')
    const entries = list.map((o: unknown) => {
      const x = o as {partition?: unknown; offset?: unknown}
      if (x === null || typeof x !== 'object' || x.partition === undefined || x.partition === null || typeof x.partition !== 'object') throw new ConnectRestError(400, 'Partitions must be specified for every offset entry')
      return {offset: (x.offset ?? null) as OffsetMap | null, partition: x.partition as OffsetMap}
    })
    if (type === 'source') {
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
  }

  /** DELETE /connectors/{name}/offsets; the herder has checked the connector is STOPPED. */
  async resetOffsets(name: string, type: string): Promise<{message: string}> {
    if (type === 'source') await this.offsets.reset(name)
    else {
      await this.withAdmin(async admin => {
        const [r] = await admin.deleteGroups([`connect-${name}`])
        if (r && r.errorCode !== 0 && r.errorCode !== ErrorCode.GROUP_ID_NOT_FOUND) throw new ConnectRestError(500, `Failed to reset consumer group offsets for connector ${name}: ${r.error}`)
      })
    }
    return {message: 'The offsets for this connector have been reset successfully'}
  }

  private async withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    const client = new KafkaClient({bootstrapServers: this.config.bootstrapServers, clientId: 'connect-admin'})
    try {
      return await fn(new Admin(client))
    } finally {
      await client.close()
    }
  }
}

/** The error of offsets requests on a connector that is not STOPPED (Kafka's message). */
export function notStoppedError(name: string): ConnectRestError {
  return new ConnectRestError(400, `Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/${name}/stop' endpoint`)
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
