/**
 * The standalone herder (Kafka's StandaloneHerder): every connector of this process, its config
 * and target state (STARTED, PAUSED, STOPPED) in memory, its instances run by a WorkerRuntime,
 * source offsets in a local file. Operations that change connectors run one at a time (a queue),
 * and each publishes its result in one step: a request never sees a connector half-created or
 * half-deleted.
 *
 * With exactly.once.source.support=enabled, source tasks write their offsets to the offsets topic
 * in their transactions (tasks.ts); at start that topic is read (read_committed) over the file.
 */
import type {Logger} from 'pino'
import type {PluginDescriptor} from './api.js'
import {readOffsetsTopic} from './distributed/offset-backing-store.js'
import {ConnectRestError, invalidConfigMessage, listValue, validateConnectorConfig, type ValidateResponse} from './connector-config.js'
import type {ConnectorInfo, ConnectorStatus, Herder, OffsetsInfo, PutOptions, StateInfo, TargetState, TaskConfigInfo, TaskStateInfo} from './herder.js'
import {FileOffsetStore} from './offset-store.js'
import type {PluginRegistry} from './plugins.js'
import type {TaskRuntime} from './tasks.js'
import type {WorkerConfig} from './worker-config.js'
import {notStoppedError, WorkerRuntime} from './worker-runtime.js'

interface ConnectorEntry {
  name: string
  config: Record<string, string>
  plugin: PluginDescriptor
  target: TargetState
  taskConfigs: Array<Record<string, string>>
}

export class StandaloneHerder implements Herder {
  private readonly connectors = new Map<string, ConnectorEntry>()
  private queue: Promise<unknown> = Promise.resolve()
  readonly offsets: FileOffsetStore
  readonly runtime: WorkerRuntime
  workerId = '127.0.0.1:8083'
  restUrl = 'http://127.0.0.1:8083'

  constructor(readonly config: WorkerConfig, readonly plugins: PluginRegistry, readonly logger: Logger) {
    this.offsets = new FileOffsetStore(config.offsetFile)
    this.runtime = new WorkerRuntime(config, plugins, logger, this.offsets, config.props['group.id'] ?? 'connect')
  }

  /** Loads the offset file, and with exactly-once sources the offsets topic over it. */
  async start(): Promise<void> {
    await this.offsets.load()
    if (this.config.exactlyOnceSource) {
      const byConnector = await readOffsetsTopic(this.config, this.logger)
      for (const [connector, entries] of byConnector) await this.offsets.set(connector, entries)
    }
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
    const c = this.runtime.connectors.get(name)
    const connector: StateInfo = {state: c?.state ?? 'UNASSIGNED', worker_id: this.workerId, ...(c?.trace ? {trace: c.trace} : {})}
    return {name, connector, tasks: this.runtime.tasksOf(name).map((t) => this.taskState(t)), type: e.plugin.type as 'source' | 'sink'}
  }

  private taskState(t: TaskRuntime): TaskStateInfo {
    return {id: t.id.task, state: t.state, worker_id: this.workerId, ...(t.trace ? {trace: t.trace} : {})}
  }

  taskStatus(name: string, task: number): TaskStateInfo {
    const t = this.connectors.has(name) ? this.runtime.task(name, task) : undefined
    if (!t) throw new ConnectRestError(404, `No status found for task ${name}-${task}`)
    return this.taskState(t)
  }

  taskConfigs(name: string): TaskConfigInfo[] {
    const e = this.entry(name)
    return WorkerRuntime.taskConfigInfos(name, e.plugin, e.taskConfigs)
  }

  validate(config: Record<string, string>): ValidateResponse {
    return this.runtime.validate(config)
  }

  /** Create or replace (PUT config) a connector; `created` tells which. */
  putConnector(name: string, config: Record<string, string>, options: PutOptions): Promise<{created: boolean; info: ConnectorInfo}> {
    return this.serial(async () => {
      const existing = this.connectors.get(name)
      if (existing && !options.allowReplace) throw new ConnectRestError(409, `Connector ${name} already exists`)
      const full = {...config, name}
      const {plugin, response} = validateConnectorConfig(this.plugins, full)
      if (response.error_count > 0) throw new ConnectRestError(400, invalidConfigMessage(response))
      if (existing) await this.stopConnector(existing)
      const entry: ConnectorEntry = {config: full, name, plugin, target: existing?.target ?? options.initialState ?? 'STARTED', taskConfigs: []}
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
      await this.runtime.removeConnector(name)
      this.logger.info(`Deleted connector ${name}`)
    })
  }

  pause(name: string): Promise<void> {
    return this.serial(async () => {
      const e = this.entry(name, `Unknown connector ${name}`)
      e.target = 'PAUSED'
      this.runtime.setTargetState(name, 'PAUSED')
    })
  }

  resume(name: string): Promise<void> {
    return this.serial(async () => {
      const e = this.entry(name, `Unknown connector ${name}`)
      const wasStopped = e.target === 'STOPPED' || (e.taskConfigs.length === 0 && e.target === 'PAUSED')
      e.target = 'STARTED'
      if (wasStopped) {
        await this.stopConnector(e)
        await this.startConnector(e)
        return
      }
      this.runtime.setTargetState(name, 'STARTED')
    })
  }

  /** PUT stop: the connector and its tasks shut down; the connector stays, STOPPED with no tasks. */
  stop(name: string): Promise<void> {
    return this.serial(async () => {
      const e = this.entry(name)
      e.target = 'STOPPED'
      await this.stopConnector(e)
      await this.startConnector(e)
    })
  }

  restart(name: string, includeTasks: boolean, onlyFailed: boolean): Promise<ConnectorStatus | null> {
    return this.serial(async () => {
      const e = this.entry(name, `Unknown connector: ${name}`)
      const state = this.runtime.connectors.get(name)?.state
      const tasks = this.runtime.tasksOf(name)
      const restartConnector = !onlyFailed || state === 'FAILED'
      const restartTasks = includeTasks ? tasks.filter(t => !onlyFailed || t.state === 'FAILED').map(t => t.id.task) : []
      const plain = !includeTasks && !onlyFailed
      let snapshot: ConnectorStatus | null = null
      if (!plain) {
        snapshot = this.status(name)
        if (restartConnector) snapshot.connector.state = 'RESTARTING'
        for (const t of snapshot.tasks) if (restartTasks.includes(t.id)) t.state = 'RESTARTING'
      }
      if (e.target === 'STOPPED') return snapshot
      if (restartConnector && includeTasks && restartTasks.length === tasks.length) {
        await this.stopConnector(e)
        await this.startConnector(e)
      } else {
        if (restartConnector) await this.runtime.startConnector(name, e.config, e.plugin, e.target)
        for (const i of restartTasks) await this.restartTaskAt(e, i)
      }
      return snapshot
    })
  }

  restartTask(name: string, task: number): Promise<void> {
    return this.serial(async () => {
      const e = this.connectors.get(name)
      if (!e || !this.runtime.task(name, task)) throw new ConnectRestError(404, `Task ${name}-${task} not found`)
      await this.restartTaskAt(e, task)
    })
  }

  // --- offsets (KIP-875) --------------------------------------------------------------------------

  async getOffsets(name: string): Promise<OffsetsInfo> {
    return this.runtime.getOffsets(name, this.entry(name).plugin.type)
  }

  alterOffsets(name: string, body: unknown): Promise<{message: string}> {
    return this.serial(async () => this.runtime.alterOffsets(name, this.requireStopped(name).plugin.type, body))
  }

  resetOffsets(name: string): Promise<{message: string}> {
    return this.serial(async () => this.runtime.resetOffsets(name, this.requireStopped(name).plugin.type))
  }

  private requireStopped(name: string): ConnectorEntry {
    const e = this.entry(name)
    if (e.target !== 'STOPPED') throw notStoppedError(name)
    return e
  }

  pluginList(connectorsOnly: boolean): Array<{class: string; type: string; version: string}> {
    return this.runtime.pluginList(connectorsOnly)
  }

  pluginConfig(name: string): Array<Record<string, unknown>> {
    return this.runtime.pluginConfig(name)
  }

  /** Stops everything (worker shutdown): tasks commit their offsets first. */
  async shutdown(): Promise<void> {
    await this.serial(() => this.runtime.stopAll())
  }

  // --- lifecycle ------------------------------------------------------------------------------------

  private async startConnector(e: ConnectorEntry, options: {withTasks?: boolean} = {}): Promise<void> {
    e.taskConfigs = []
    const c = await this.runtime.startConnector(e.name, e.config, e.plugin, e.target)
    if (!c.connector) return
    const taskConfigs = this.runtime.generateTaskConfigs(e.name)
    if (options.withTasks === false || c.state === 'FAILED') return
    e.taskConfigs = taskConfigs
    for (const [i, taskConfig] of taskConfigs.entries()) await this.runtime.startTask(e.name, i, e.config, taskConfig, e.plugin, e.target)
  }

  private async stopConnector(e: ConnectorEntry): Promise<void> {
    await this.runtime.stopTasks(e.name)
    await this.runtime.stopConnector(e.name)
  }

  private async restartTaskAt(e: ConnectorEntry, i: number): Promise<void> {
    await this.runtime.stopTask(e.name, i)
    if (!this.runtime.connectors.get(e.name)?.connector) return
    await this.runtime.startTask(e.name, i, e.config, e.taskConfigs[i]!, e.plugin, e.target)
  }

  /** `topics` of a sink connector, for callers that need them. */
  static sinkTopics(config: Record<string, string>): string[] {
    return listValue(config.topics)
  }
}
