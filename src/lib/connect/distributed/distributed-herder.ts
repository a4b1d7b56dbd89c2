/**
 * The distributed herder (Kafka's DistributedHerder): workers sharing a group.id form a group
 * (protocol type "connect", connect-protocol.ts) through the broker's group coordinator; the
 * leader assigns connectors and tasks (assignor.ts); each worker runs what it was assigned through
 * its WorkerRuntime. Connector configs, task configs and target states live in the config topic,
 * source offsets in the offsets topic, statuses in the status topic; every worker reads all three.
 *
 * One loop (tick) does everything that changes what this worker runs, in order: rejoin the group
 * when the coordinator asks (a heartbeat answered REBALANCE_IN_PROGRESS), when this worker's
 * leader saw connectors come or go, after revoking work, or when a scheduled delay ends; apply
 * config-topic changes to what runs here (config -> restart the connector, target state ->
 * pause/resume/stop, new task configs -> restart those tasks, restart requests); publish task
 * configs of the connectors run here when they changed; write the statuses of what runs here.
 *
 * Writes to the config topic are the leader's: a REST request that changes configs reaching
 * another worker is forwarded to the leader by rest.ts (forwardTo), and a connector's new task
 * configs are sent by its worker to the leader's internal endpoint (POST /connectors/{name}/tasks).
 * Restart requests go through the config topic (restart-connector-<name>) so that each worker
 * restarts what it runs; a single task's restart is forwarded to the worker running it.
 *
 * Exactly-once sources (exactly.once.source.support=enabled): tasks use the standalone path
 * (tasks.ts: each poll's records and offsets in one transaction, transactional id
 * `<group.id>-<connector>-<task>`, so a task restarted on another worker fences its previous
 * producer). Not implemented: KIP-618's task-count fencing records (tasks-fencing-<name>),
 * internal request signing of the sessioned protocol (its metadata is spoken, its session key is
 * not), and connector-level transaction boundaries.
 */
import type {Logger} from 'pino'
import {Admin} from '../../client/admin.js'
import {KafkaClient} from '../../client/client.js'
import {GroupMember} from '../../client/group-member.js'
import type {PluginDescriptor} from '../api.js'
import {ConnectRestError, invalidConfigMessage, validateConnectorConfig, type ValidateResponse} from '../connector-config.js'
import type {ConnectorInfo, ConnectorStatus, Herder, OffsetsInfo, PutOptions, StateInfo, TargetState, TaskConfigInfo, TaskStateInfo} from '../herder.js'
import type {PluginRegistry} from '../plugins.js'
import type {State} from '../tasks.js'
import {notStoppedError, WorkerRuntime} from '../worker-runtime.js'
import {assignEager, IncrementalCooperativeAssignor} from './assignor.js'
import {type RestartRequest, KafkaConfigBackingStore} from './config-backing-store.js'
import {CONFIG_MISMATCH, CONNECT_PROTOCOLS, type ConnectAssignment, type ConnectorTaskId, decodeConnectAssignment, decodeWorkerState, emptyAssignment, encodeConnectAssignment, joinProtocols} from './connect-protocol.js'
import type {DistributedConfig} from './distributed-config.js'
import {KafkaOffsetBackingStore} from './offset-backing-store.js'
import {KafkaStatusBackingStore, type Status} from './status-backing-store.js'

const taskKey = (t: ConnectorTaskId): string => `${t.connector}-${t.task}`
const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms))
/** JSON with sorted keys: equal configs compare equal. */
const canonical = (config: Record<string, string>): string => JSON.stringify(Object.keys(config).sort().map(k => [k, config[k]]))

const REBALANCING = 'Cannot complete request because of a conflicting operation (e.g. worker rebalance)'

export class DistributedHerder implements Herder {
  workerId = '127.0.0.1:8083'
  restUrl = 'http://127.0.0.1:8083'
  readonly runtime: WorkerRuntime
  readonly configStore: KafkaConfigBackingStore
  readonly offsetStore: KafkaOffsetBackingStore
  readonly statusStore: KafkaStatusBackingStore
  private readonly client: KafkaClient
  private readonly member: GroupMember
  private readonly assignor: IncrementalCooperativeAssignor

  // What the group gave this worker.
  private readonly ownedConnectors = new Set<string>()
  private readonly ownedTasks = new Map<string, ConnectorTaskId>()
  /** The task config each task here started with (canonical JSON), to restart it when it changes. */
  private readonly startedTaskConfigs = new Map<string, string>()
  private leaderUrl = ''
  private isLeader = false
  private generation = -1
  private protocol = ''
  private joined = false

  // Work for the loop.
  private rejoinRequested = true
  private rejoinAt = 0
  private readonly connectorChanges = new Set<string>()
  private readonly targetStateChanges = new Set<string>()
  private readonly taskConfigChanges = new Set<string>()
  private readonly restartRequests: RestartRequest[] = []
  /** Connectors run here whose task configs must be (re)published to the leader. */
  private readonly taskConfigsToPublish = new Set<string>()
  private readonly writtenStatuses = new Map<string, string>()
  private stopping = false
  private loop?: Promise<void>
  private wake: (() => void) | undefined
  private queue: Promise<unknown> = Promise.resolve()
  private firstJoin!: {promise: Promise<void>; resolve: () => void; reject: (e: Error) => void}

  constructor(readonly config: DistributedConfig, readonly plugins: PluginRegistry, readonly logger: Logger) {
    this.offsetStore = new KafkaOffsetBackingStore(config, logger, `connect-offsets-${config.groupId}`)
    this.configStore = new KafkaConfigBackingStore(config.configTopic, config, logger, `connect-configs-${config.groupId}`)
    this.statusStore = new KafkaStatusBackingStore(config.statusTopic, config, logger, `connect-statuses-${config.groupId}`)
    this.runtime = new WorkerRuntime(config, plugins, logger, this.offsetStore, config.groupId)
    this.client = new KafkaClient({bootstrapServers: config.bootstrapServers, clientId: `connect-${config.groupId}`})
    this.member = new GroupMember(new Admin(this.client), {
      groupId: config.groupId,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      protocolType: 'connect',
      rebalanceTimeoutMs: config.rebalanceTimeoutMs,
      sessionTimeoutMs: config.sessionTimeoutMs,
    })
    this.assignor = new IncrementalCooperativeAssignor(config.scheduledRebalanceMaxDelayMs)
    this.configStore.listener = {
      onConnectorConfig: (name) => { this.connectorChanges.add(name); this.poke() },
      onRestartRequest: (request) => { this.restartRequests.push(request); this.poke() },
      onTargetState: (name) => { this.targetStateChanges.add(name); this.poke() },
      onTaskConfigs: (name) => { this.taskConfigChanges.add(name); this.poke() },
    }
  }

  /** Creates the internal topics when missing and reads them to their ends. */
  async start(): Promise<void> {
    const c = this.config
    await this.configStore.start({partitions: 1, replicationFactor: c.configReplicationFactor})
    await this.offsetStore.start({partitions: c.offsetPartitions, replicationFactor: c.offsetReplicationFactor})
    await this.statusStore.start({partitions: c.statusPartitions, replicationFactor: c.statusReplicationFactor})
    // What was read at start is not a change to apply: the first assignment starts what is ours.
    for (const name of this.configStore.connectorNames()) {
      this.knownConnectors.add(name)
      this.taskCounts.set(name, this.configStore.tasks(name).length)
    }
    this.connectorChanges.clear()
    this.targetStateChanges.clear()
    this.taskConfigChanges.clear()
    this.restartRequests.length = 0
  }

  /** Joins the group (the REST server must be listening: its URL is in the metadata); resolves after the first assignment. */
  joinGroup(): Promise<void> {
    let resolve!: () => void
    let reject!: (e: Error) => void
    const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
    this.firstJoin = {promise, reject, resolve}
    this.loop = this.run()
    return promise
  }

  private poke(): void {
    this.wake?.()
  }

  /** Runs `fn` after every operation queued before it (the loop's steps and local restarts). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => undefined)
    return run
  }

  private async run(): Promise<void> {
    let failures = 0
    while (!this.stopping) {
      try {
        await this.serial(() => this.tick())
        failures = 0
      } catch (error) {
        if (this.stopping) break
        failures++
        this.logger.warn({err: error}, `worker tick failed (${failures} in a row); rejoining`)
        this.rejoinRequested = true
        if (!this.joined && failures >= 30) this.firstJoin.reject(error as Error)
        await sleep(Math.min(1000 * failures, 5000))
        continue
      }
      await new Promise<void>(resolve => {
        const timer = setTimeout(() => { this.wake = undefined; resolve() }, 250)
        this.wake = () => { clearTimeout(timer); this.wake = undefined; resolve() }
      })
    }
  }

  private async tick(): Promise<void> {
    if (this.stopping) return
    const delayOver = this.rejoinAt > 0 && Date.now() >= this.rejoinAt
    if (this.member.needsRejoin || this.rejoinRequested || delayOver) {
      this.logger.debug(`rejoining the group: ${this.member.needsRejoin ? 'the coordinator asked' : this.rejoinRequested ? 'this worker asked' : 'the scheduled delay is over'}`)
      await this.rebalance()
    }
    if (this.member.heartbeatError) {
      const error = this.member.heartbeatError
      this.member.heartbeatError = undefined
      throw error
    }
    await this.applyConfigChanges()
    await this.publishTaskConfigs()
    await this.writeStatuses()
  }

  // --- the group ---------------------------------------------------------------------------------------

  private async rebalance(): Promise<void> {
    const mode = this.config.protocol
    if (mode === 'default' || this.protocol === 'default') {
      // Eager: everything is revoked before joining.
      for (const name of [...this.ownedConnectors]) await this.revokeConnector(name)
      for (const t of [...this.ownedTasks.values()]) await this.revokeTask(t)
    }
    const allocation: ConnectAssignment | null = this.ownedConnectors.size + this.ownedTasks.size === 0
      ? null
      : {...emptyAssignment(this.member.leaderId, this.leaderUrl, this.configStore.offset), connectors: [...this.ownedConnectors], tasks: [...this.ownedTasks.values()]}
    this.rejoinRequested = false
    this.rejoinAt = 0
    const joined = await this.member.joinWith(
      joinProtocols(mode, {allocation, configOffset: this.configStore.offset, url: this.restUrl}),
      (leaderId, protocol, members) => this.performAssignment(leaderId, protocol, members),
    )
    const a = decodeConnectAssignment(joined.assignment)
    this.protocol = joined.protocol
    this.isLeader = joined.leader
    this.generation = joined.generationId
    this.leaderUrl = a.leaderUrl
    if (a.error === CONFIG_MISMATCH) {
      this.logger.info('the leader has a newer config than this worker; reading the config topic and rejoining')
      await this.configStore.readToEnd()
      this.rejoinRequested = true
      return
    }
    if (this.configStore.offset < a.configOffset) await this.configStore.readToEnd()
    this.logger.info(`joined group ${this.config.groupId} generation ${joined.generationId} (${joined.protocol}${joined.leader ? ', leader' : ''}): assigned connectors [${a.connectors.join(', ')}] tasks [${a.tasks.map(taskKey).join(', ')}], revoked connectors [${a.revokedConnectors.join(', ')}] tasks [${a.revokedTasks.map(taskKey).join(', ')}]${a.delay > 0 ? `, rejoin in ${a.delay} ms` : ''}`)
    if (joined.protocol === 'default') {
      // Eager: the assignment is everything this worker runs.
      const keep = new Set(a.tasks.map(taskKey))
      for (const name of [...this.ownedConnectors]) if (!a.connectors.includes(name)) await this.revokeConnector(name)
      for (const t of [...this.ownedTasks.values()]) if (!keep.has(taskKey(t))) await this.revokeTask(t)
    } else {
      for (const name of a.revokedConnectors) await this.revokeConnector(name)
      for (const t of a.revokedTasks) await this.revokeTask(t)
      // The leader assigns revoked work in the next round: rejoin at once.
      if (a.revokedConnectors.length + a.revokedTasks.length > 0) this.rejoinRequested = true
    }
    if (a.delay > 0) this.rejoinAt = Date.now() + a.delay
    for (const name of a.connectors) {
      if (this.ownedConnectors.has(name)) continue
      this.ownedConnectors.add(name)
      await this.startOwnedConnector(name)
    }
    const newTasks = a.tasks.filter(t => !this.ownedTasks.has(taskKey(t)))
    if (newTasks.some(t => this.connectorPlugin(t.connector)?.type === 'source')) await this.offsetStore.readToEnd()
    for (const t of newTasks) {
      this.ownedTasks.set(taskKey(t), t)
      await this.startOwnedTask(t)
    }
    // Connector config changes read before this assignment are reflected in what was just started.
    if (!this.joined) {
      this.joined = true
      this.firstJoin.resolve()
    }
  }

  /** The leader: every member's assignment, from their metadata and the config topic. */
  private async performAssignment(leaderId: string, protocol: string, members: {memberId: string; metadata: Buffer}[]): Promise<Map<string, Buffer>> {
    await this.configStore.readToEnd()
    const states = members.map(m => ({memberId: m.memberId, ...decodeWorkerState(m.metadata)}))
    const leaderUrl = states.find(s => s.memberId === leaderId)?.url ?? this.restUrl
    const configOffset = this.configStore.offset
    const version = CONNECT_PROTOCOLS[protocol as keyof typeof CONNECT_PROTOCOLS] ?? 0
    const encode = (a: ConnectAssignment) => encodeConnectAssignment(a, version)
    if (states.some(s => s.configOffset > configOffset)) {
      // A member read further than the leader could: everyone reads to the end and rejoins.
      return new Map(states.map(s => [s.memberId, encode({...emptyAssignment(leaderId, leaderUrl, configOffset), error: CONFIG_MISMATCH})]))
    }
    const connectors = this.configStore.connectorNames()
    const configured = {connectors, tasks: connectors.flatMap(c => this.configStore.tasks(c).map((_, task) => ({connector: c, task})))}
    // Changes read up to here are in this assignment: they need no other rebalance.
    this.knownConnectors.clear()
    for (const c of connectors) {
      this.knownConnectors.add(c)
      this.taskCounts.set(c, this.configStore.tasks(c).length)
    }
    const result = protocol === 'default'
      ? assignEager(states.map(s => s.memberId), configured)
      : this.assignor.assign(states.map(s => ({connectors: s.allocation?.connectors ?? [], memberId: s.memberId, tasks: s.allocation?.tasks ?? []})), configured)
    return new Map(states.map(s => [s.memberId, encode({...emptyAssignment(leaderId, leaderUrl, configOffset), ...result.get(s.memberId)!})]))
  }

  // --- running what is ours -------------------------------------------------------------------------

  private connectorPlugin(name: string): PluginDescriptor | undefined {
    const cls = this.configStore.connectorConfig(name)?.['connector.class']
    return cls === undefined ? undefined : this.plugins.find(cls, ['source', 'sink'])
  }

  private async startOwnedConnector(name: string): Promise<void> {
    const config = this.configStore.connectorConfig(name)
    if (!config) return
    const plugin = this.connectorPlugin(name)
    const target = this.configStore.targetState(name)
    if (!plugin) {
      const failed = this.runtime.connectors.get(name) ?? {config, name, plugin: undefined as never, state: 'FAILED' as State, target, trace: null}
      failed.state = 'FAILED'
      failed.trace = `org.apache.kafka.connect.errors.ConnectException: Failed to find any class that implements Connector and which name matches ${config['connector.class']}`
      this.runtime.connectors.set(name, failed)
      return
    }
    const c = await this.runtime.startConnector(name, config, plugin, target)
    // A STOPPED connector has no tasks; a PAUSED one keeps the tasks it has.
    if (target === 'STOPPED' ? this.configStore.tasks(name).length > 0 : target === 'STARTED' && c.connector !== undefined) this.taskConfigsToPublish.add(name)
  }

  private async startOwnedTask(t: ConnectorTaskId): Promise<void> {
    const config = this.configStore.connectorConfig(t.connector)
    const taskConfig = this.configStore.tasks(t.connector)[t.task]
    const plugin = this.connectorPlugin(t.connector)
    if (!config || !taskConfig || !plugin) return
    this.startedTaskConfigs.set(taskKey(t), canonical(taskConfig))
    await this.runtime.startTask(t.connector, t.task, config, taskConfig, plugin, this.configStore.targetState(t.connector))
  }

  private async revokeConnector(name: string): Promise<void> {
    this.ownedConnectors.delete(name)
    this.taskConfigsToPublish.delete(name)
    await this.runtime.removeConnector(name)
    await this.writeUnassigned(name, `connector:${name}`, () => this.statusStore.connector(name), s => this.statusStore.putConnector(name, s))
  }

  private async revokeTask(t: ConnectorTaskId): Promise<void> {
    this.ownedTasks.delete(taskKey(t))
    this.startedTaskConfigs.delete(taskKey(t))
    await this.runtime.stopTask(t.connector, t.task)
    await this.writeUnassigned(t.connector, `task:${taskKey(t)}`, () => this.statusStore.task(t.connector, t.task), s => this.statusStore.putTask(t.connector, t.task, s))
  }

  /** UNASSIGNED for what this worker stopped running, unless another worker's status is newer (Kafka's putSafe). */
  private async writeUnassigned(connector: string, key: string, held: () => Status | undefined, put: (s: Status) => Promise<void>): Promise<void> {
    this.writtenStatuses.delete(key)
    if (!this.has(connector)) return // deleted: the leader removed its statuses
    const h = held()
    if (h && h.worker_id !== this.workerId) return
    await put({state: 'UNASSIGNED', trace: null, worker_id: this.workerId, generation: this.generation}).catch(error => this.logger.warn({err: error}, `writing the status of ${key} failed`))
  }

  private async applyConfigChanges(): Promise<void> {
    for (const name of [...this.connectorChanges]) {
      this.connectorChanges.delete(name)
      const exists = this.configStore.connectorConfig(name) !== undefined
      if (this.isLeader) this.rejoinRequested ||= exists ? !this.knownConnectors.has(name) : this.knownConnectors.has(name)
      if (exists) this.knownConnectors.add(name)
      else this.knownConnectors.delete(name)
      if (!this.ownedConnectors.has(name)) {
        if (!exists) for (const t of [...this.ownedTasks.values()]) if (t.connector === name) await this.runtime.stopTask(t.connector, t.task)
        continue
      }
      if (!exists) {
        await this.runtime.stopTasks(name)
        await this.runtime.removeConnector(name)
        continue
      }
      // A new config: the connector restarts, and its task configs are published when they changed.
      await this.startOwnedConnector(name)
    }
    for (const name of [...this.targetStateChanges]) {
      this.targetStateChanges.delete(name)
      const target = this.configStore.targetState(name)
      const running = this.runtime.connectors.get(name)
      if (target === 'STOPPED') {
        for (const t of [...this.ownedTasks.values()]) if (t.connector === name) await this.runtime.stopTask(t.connector, t.task)
        if (this.ownedConnectors.has(name)) await this.startOwnedConnector(name)
        continue
      }
      if (this.ownedConnectors.has(name) && (running === undefined || running.target === 'STOPPED' || running.state === 'STOPPED')) await this.startOwnedConnector(name)
      else this.runtime.setTargetState(name, target)
      if (this.ownedConnectors.has(name) && target === 'STARTED') this.taskConfigsToPublish.add(name)
      // Tasks of a connector resumed after STOP start once their new configs are committed.
    }
    for (const name of [...this.taskConfigChanges]) {
      this.taskConfigChanges.delete(name)
      const configs = this.configStore.tasks(name)
      if (this.isLeader) this.rejoinRequested ||= this.taskCounts.get(name) !== configs.length
      this.taskCounts.set(name, configs.length)
      for (const t of [...this.ownedTasks.values()]) {
        if (t.connector !== name) continue
        const next = configs[t.task]
        if (next === undefined) { await this.runtime.stopTask(t.connector, t.task); continue }
        if (this.startedTaskConfigs.get(taskKey(t)) !== canonical(next) || !this.runtime.task(t.connector, t.task)) await this.startOwnedTask(t)
      }
    }
    for (const request of this.restartRequests.splice(0)) await this.applyRestart(request)
  }

  /** Connector names and task counts as this worker last applied them (the leader rebalances when they change). */
  private readonly knownConnectors = new Set<string>()
  private readonly taskCounts = new Map<string, number>()

  private async applyRestart(request: RestartRequest): Promise<void> {
    const name = request.connector
    if (this.configStore.targetState(name) === 'STOPPED') return
    const connector = this.runtime.connectors.get(name)
    if (this.ownedConnectors.has(name) && (!request.onlyFailed || connector?.state === 'FAILED')) {
      this.writtenStatuses.delete(`connector:${name}`)
      await this.startOwnedConnector(name)
    }
    if (!request.includeTasks) return
    for (const t of [...this.ownedTasks.values()]) {
      if (t.connector !== name) continue
      const task = this.runtime.task(t.connector, t.task)
      if (request.onlyFailed && task?.state !== 'FAILED') continue
      await this.startOwnedTask(t)
    }
  }

  /** Task configs of the connectors run here, sent to the leader when they differ from the committed ones. */
  private async publishTaskConfigs(): Promise<void> {
    for (const name of [...this.taskConfigsToPublish]) {
      if (!this.ownedConnectors.has(name)) { this.taskConfigsToPublish.delete(name); continue }
      const target = this.configStore.targetState(name)
      const configs = target === 'STOPPED' ? [] : this.runtime.generateTaskConfigs(name)
      if (target !== 'STOPPED' && !this.runtime.connectors.get(name)?.connector) { this.taskConfigsToPublish.delete(name); continue }
      const committed = this.configStore.tasks(name)
      if (configs.length === committed.length && configs.every((c, i) => canonical(c) === canonical(committed[i]!))) {
        this.taskConfigsToPublish.delete(name)
        continue
      }
      try {
        if (this.isLeader) await this.configStore.putTaskConfigs(name, configs)
        else await this.forwardTaskConfigs(name, configs)
        this.taskConfigsToPublish.delete(name)
      } catch (error) {
        this.logger.warn({err: error}, `publishing the task configs of ${name} failed; retrying`)
      }
    }
  }

  private async forwardTaskConfigs(name: string, configs: Array<Record<string, string>>): Promise<void> {
    if (this.leaderUrl === '') throw new Error('no leader known')
    const response = await fetch(`${this.leaderUrl.replace(/\/$/, '')}/connectors/${encodeURIComponent(name)}/tasks?forward=false`, {body: JSON.stringify(configs), headers: {'content-type': 'application/json'}, method: 'POST', signal: AbortSignal.timeout(10_000)})
    if (response.status >= 300) throw new Error(`the leader answered ${response.status}: ${await response.text()}`)
  }

  /** Statuses of what runs here, written when they change. */
  private async writeStatuses(): Promise<void> {
    const writes: Promise<void>[] = []
    const put = (key: string, state: State, trace: string | null, write: (s: Status) => Promise<void>) => {
      const text = JSON.stringify([state, trace, this.generation])
      if (this.writtenStatuses.get(key) === text) return
      this.writtenStatuses.set(key, text)
      writes.push(write({state, trace, worker_id: this.workerId, generation: this.generation}).catch((error) => {
        this.writtenStatuses.delete(key)
        this.logger.warn({err: error}, `writing the status of ${key} failed`)
      }))
    }
    for (const name of this.ownedConnectors) {
      if (!this.configStore.connectorConfig(name)) continue
      const c = this.runtime.connectors.get(name)
      put(`connector:${name}`, c?.state ?? 'UNASSIGNED', c?.trace ?? null, s => this.statusStore.putConnector(name, s))
    }
    for (const t of this.ownedTasks.values()) {
      if (!this.configStore.connectorConfig(t.connector)) continue
      const task = this.runtime.task(t.connector, t.task)
      put(`task:${taskKey(t)}`, task?.state ?? 'UNASSIGNED', task?.trace ?? null, s => this.statusStore.putTask(t.connector, t.task, s))
    }
    await Promise.all(writes)
  }

  // --- the REST API's reads (from the topics, on any worker) ---------------------------------------

  connectorNames(): string[] {
    return this.configStore.connectorNames()
  }

  has(name: string): boolean {
    return this.configStore.connectorConfig(name) !== undefined
  }

  private requireConfig(name: string, message = `Connector ${name} not found`): Record<string, string> {
    const config = this.configStore.connectorConfig(name)
    if (!config) throw new ConnectRestError(404, message)
    return config
  }

  private typeOf(name: string): 'source' | 'sink' {
    return (this.connectorPlugin(name)?.type ?? 'source') as 'source' | 'sink'
  }

  info(name: string): ConnectorInfo {
    const config = this.requireConfig(name)
    return {name, config, tasks: this.configStore.tasks(name).map((_, task) => ({connector: name, task})), type: this.typeOf(name)}
  }

  private stateInfo(s: Status | undefined): StateInfo {
    return s ? {state: s.state, worker_id: s.worker_id, ...(s.trace ? {trace: s.trace} : {})} : {state: 'UNASSIGNED', worker_id: ''}
  }

  status(name: string): ConnectorStatus {
    this.requireConfig(name, `No status found for connector ${name}`)
    const tasks = this.configStore.tasks(name).map((_, id) => ({id, ...this.stateInfo(this.statusStore.task(name, id))}))
    return {name, connector: this.stateInfo(this.statusStore.connector(name)), tasks, type: this.typeOf(name)}
  }

  taskStatus(name: string, task: number): TaskStateInfo {
    const s = this.has(name) && task < this.configStore.tasks(name).length ? this.statusStore.task(name, task) : undefined
    if (!s) throw new ConnectRestError(404, `No status found for task ${name}-${task}`)
    return {id: task, ...this.stateInfo(s)}
  }

  taskConfigs(name: string): TaskConfigInfo[] {
    this.requireConfig(name)
    const plugin = this.connectorPlugin(name)
    return plugin ? WorkerRuntime.taskConfigInfos(name, plugin, this.configStore.tasks(name)) : []
  }

  validate(config: Record<string, string>): ValidateResponse {
    return this.runtime.validate(config)
  }

  pluginList(connectorsOnly: boolean): Array<{class: string; type: string; version: string}> {
    return this.runtime.pluginList(connectorsOnly)
  }

  pluginConfig(name: string): Array<Record<string, unknown>> {
    return this.runtime.pluginConfig(name)
  }

  // --- the REST API's writes (the leader's; rest.ts forwards them here) -----------------------------

  forwardTo(request: {connector?: string; task?: number}): string | null {
    if (request.task !== undefined && request.connector !== undefined) {
      const owner = this.statusStore.task(request.connector, request.task)?.worker_id
      if (!owner || owner === this.workerId || this.ownedTasks.has(`${request.connector}-${request.task}`)) return null
      return `http://${owner}`
    }
    if (this.isLeader) return null
    if (this.leaderUrl === '') throw new ConnectRestError(409, REBALANCING)
    return this.leaderUrl.replace(/\/$/, '')
  }

  private requireLeader(): void {
    if (!this.isLeader) throw new ConnectRestError(409, REBALANCING)
  }

  async putConnector(name: string, config: Record<string, string>, options: PutOptions): Promise<{created: boolean; info: ConnectorInfo}> {
    this.requireLeader()
    await this.configStore.readToEnd()
    const existing = this.has(name)
    if (existing && !options.allowReplace) throw new ConnectRestError(409, `Connector ${name} already exists`)
    const full = {...config, name}
    const {response} = validateConnectorConfig(this.plugins, full)
    if (response.error_count > 0) throw new ConnectRestError(400, invalidConfigMessage(response))
    await this.configStore.putConnectorConfig(name, full, existing ? undefined : options.initialState)
    await this.configStore.readToEnd()
    this.logger.info(`${existing ? 'Reconfigured' : 'Created'} connector ${name}`)
    return {created: !existing, info: this.info(name)}
  }

  async deleteConnector(name: string): Promise<void> {
    this.requireLeader()
    this.requireConfig(name)
    await this.configStore.removeConnectorConfig(name)
    await this.configStore.readToEnd()
    await this.statusStore.remove(name)
    this.logger.info(`Deleted connector ${name}`)
  }

  private async putTargetState(name: string, state: TargetState): Promise<void> {
    this.requireLeader()
    this.requireConfig(name, `Unknown connector ${name}`)
    await this.configStore.putTargetState(name, state)
    await this.configStore.readToEnd()
  }

  pause(name: string): Promise<void> {
    return this.putTargetState(name, 'PAUSED')
  }

  resume(name: string): Promise<void> {
    return this.putTargetState(name, 'STARTED')
  }

  /** PUT stop: STOPPED, then no task configs (as Kafka's leader writes them). */
  async stop(name: string): Promise<void> {
    await this.putTargetState(name, 'STOPPED')
    await this.configStore.putTaskConfigs(name, [])
    await this.configStore.readToEnd()
  }

  async restart(name: string, includeTasks: boolean, onlyFailed: boolean): Promise<ConnectorStatus | null> {
    this.requireLeader()
    this.requireConfig(name, `Unknown connector: ${name}`)
    let snapshot: ConnectorStatus | null = null
    if (includeTasks || onlyFailed) {
      snapshot = this.status(name)
      if (!onlyFailed || snapshot.connector.state === 'FAILED') snapshot.connector.state = 'RESTARTING'
      if (includeTasks) for (const t of snapshot.tasks) if (!onlyFailed || t.state === 'FAILED') t.state = 'RESTARTING'
    }
    if (this.configStore.targetState(name) === 'STOPPED') return snapshot
    await this.configStore.putRestartRequest({connector: name, includeTasks, onlyFailed})
    return snapshot
  }

  /** Restarts a task run here (rest.ts forwarded the request to this worker, forwardTo). */
  restartTask(name: string, task: number): Promise<void> {
    return this.serial(async () => {
      const t = this.ownedTasks.get(`${name}-${task}`)
      if (!this.has(name) || task >= this.configStore.tasks(name).length) throw new ConnectRestError(404, `Task ${name}-${task} not found`)
      if (!t) throw new ConnectRestError(409, REBALANCING)
      await this.startOwnedTask(t)
    })
  }

  /** The internal endpoint: a connector's task configs from the worker that runs it. */
  async putTaskConfigs(name: string, configs: Array<Record<string, string>>): Promise<void> {
    this.requireLeader()
    this.requireConfig(name)
    if (!Array.isArray(configs) || configs.some(c => c === null || typeof c !== 'object')) throw new ConnectRestError(400, 'Task configs must be a list of maps')
    await this.configStore.putTaskConfigs(name, configs.map(c => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, String(v)]))))
  }

  // --- offsets (KIP-875) --------------------------------------------------------------------------

  async getOffsets(name: string): Promise<OffsetsInfo> {
    this.requireConfig(name)
    if (this.typeOf(name) === 'source') await this.offsetStore.readToEnd()
    return this.runtime.getOffsets(name, this.typeOf(name))
  }

  private requireStopped(name: string): void {
    this.requireLeader()
    this.requireConfig(name)
    if (this.configStore.targetState(name) !== 'STOPPED') throw notStoppedError(name)
  }

  async alterOffsets(name: string, body: unknown): Promise<{message: string}> {
    this.requireStopped(name)
    return this.runtime.alterOffsets(name, this.typeOf(name), body)
  }

  async resetOffsets(name: string): Promise<{message: string}> {
    this.requireStopped(name)
    await this.offsetStore.readToEnd()
    return this.runtime.resetOffsets(name, this.typeOf(name))
  }

  // --- shutdown ---------------------------------------------------------------------------------------

  /** Stops what runs here (tasks commit first), leaves the group, closes the topics. */
  async shutdown(): Promise<void> {
    this.stopping = true
    this.poke()
    await this.loop?.catch(() => undefined)
    await this.serial(async () => {
      for (const t of [...this.ownedTasks.values()]) await this.revokeTask(t)
      for (const name of [...this.ownedConnectors]) await this.revokeConnector(name)
      await this.runtime.stopAll()
    })
    await this.member.leave('the Connect worker is stopping')
    await Promise.all([this.configStore.stop(), this.offsetStore.stop(), this.statusStore.stop()])
    await this.client.close()
  }
}
