/**
 * Connector configs in the config topic (Kafka's KafkaConfigBackingStore): `config.storage.topic`,
 * one partition, compacted, read by every worker. Keys and values (JSON, as Kafka's JsonConverter
 * with schemas.enable=false writes Kafka's structs):
 *
 *   connector-<name>              {"properties": {...}}                 null: the connector is deleted
 *   task-<name>-<n>               {"properties": {...}}                 applied only once committed:
 *   commit-<name>                 {"tasks": <count>}                    the task configs written before it
 *   target-state-<name>           {"state": "STARTED"|"PAUSED", "state.v2": "STARTED"|"PAUSED"|"STOPPED"}
 *   restart-connector-<name>      {"include-tasks": bool, "only-failed": bool}
 *
 * ("state" says PAUSED for STOPPED, for workers older than Kafka 3.5.) The config offset is the
 * offset after the last record read; workers compare it when they join. Listeners hear of each
 * change once it is applied.
 */
import type {Logger} from 'pino'
import type {TargetState} from '../herder.js'
import type {WorkerConfig} from '../worker-config.js'
import {KafkaBasedLog, type LogRecord, type TopicSettings} from './kafka-based-log.js'

export interface RestartRequest {connector: string; includeTasks: boolean; onlyFailed: boolean}

export interface ConfigListener {
  /** A connector's config was written (created or changed) or deleted (no longer in connectorNames()). */
  onConnectorConfig(name: string): void
  onTaskConfigs(name: string): void
  onTargetState(name: string): void
  onRestartRequest(request: RestartRequest): void
}

export class KafkaConfigBackingStore {
  private readonly connectorConfigs = new Map<string, Record<string, string>>()
  private readonly targetStates = new Map<string, TargetState>()
  private readonly taskConfigs = new Map<string, Array<Record<string, string>>>()
  /** Task configs read but not committed yet. */
  private readonly deferred = new Map<string, Map<number, Record<string, string>>>()
  readonly log: KafkaBasedLog
  /** The offset after the last record applied (-1: nothing read yet). */
  offset = -1n
  listener: ConfigListener | undefined

  constructor(private readonly topicName: string, config: WorkerConfig, private readonly logger: Logger, clientId: string) {
    this.log = new KafkaBasedLog({bootstrapServers: config.bootstrapServers, clientId, logger, onRecord: (r) => this.apply(r), topic: topicName})
  }

  async start(settings: TopicSettings): Promise<void> {
    await this.log.ensureTopic(settings)
    await this.log.start()
  }

  readToEnd(): Promise<void> {
    return this.log.readToEnd()
  }

  stop(): Promise<void> {
    return this.log.stop()
  }

  // --- reads ------------------------------------------------------------------------------------------

  connectorNames(): string[] {
    return [...this.connectorConfigs.keys()].sort()
  }

  connectorConfig(name: string): Record<string, string> | undefined {
    const c = this.connectorConfigs.get(name)
    return c ? {...c} : undefined
  }

  /** STARTED unless written otherwise. */
  targetState(name: string): TargetState {
    return this.targetStates.get(name) ?? 'STARTED'
  }

  /** The committed task configs of a connector. */
  tasks(name: string): Array<Record<string, string>> {
    return this.taskConfigs.get(name) ?? []
  }

  // --- writes (the leader's) ------------------------------------------------------------------------

  async putConnectorConfig(name: string, config: Record<string, string>, targetState?: TargetState): Promise<void> {
    if (targetState) await this.putTargetState(name, targetState)
    await this.log.send(`connector-${name}`, JSON.stringify({properties: config}), 0)
  }

  async removeConnectorConfig(name: string): Promise<void> {
    await this.log.send(`connector-${name}`, null, 0)
    await this.log.send(`target-state-${name}`, null, 0)
  }

  async putTargetState(name: string, state: TargetState): Promise<void> {
    await this.log.send(`target-state-${name}`, JSON.stringify({state: state === 'STOPPED' ? 'PAUSED' : state, 'state.v2': state}), 0)
  }

  /** The task configs, then the commit record that makes them current. */
  async putTaskConfigs(name: string, configs: Array<Record<string, string>>): Promise<void> {
    for (const [i, c] of configs.entries()) await this.log.send(`task-${name}-${i}`, JSON.stringify({properties: c}), 0)
    await this.log.send(`commit-${name}`, JSON.stringify({tasks: configs.length}), 0)
  }

  async putRestartRequest(request: RestartRequest): Promise<void> {
    await this.log.send(`restart-connector-${request.connector}`, JSON.stringify({'include-tasks': request.includeTasks, 'only-failed': request.onlyFailed}), 0)
  }

  // --- applying what is read -------------------------------------------------------------------------

  private apply(r: LogRecord): void {
    this.offset = BigInt(r.offset) + 1n
    if (!r.key) return
    const key = r.key.toString()
    const value = r.value === null ? null : JSON.parse(r.value.toString()) as Record<string, unknown>
    const properties = (v: Record<string, unknown> | null): Record<string, string> | null => {
      const p = v?.properties
      return p && typeof p === 'object' ? Object.fromEntries(Object.entries(p as Record<string, unknown>).filter(([, x]) => x !== null).map(([k, x]) => [k, String(x)])) : null
    }
    if (key.startsWith('connector-')) {
      const name = key.slice('connector-'.length)
      const config = properties(value)
      if (config === null) {
        this.connectorConfigs.delete(name)
        this.targetStates.delete(name)
        this.taskConfigs.delete(name)
        this.deferred.delete(name)
      } else this.connectorConfigs.set(name, config)
      this.listener?.onConnectorConfig(name)
    } else if (key.startsWith('target-state-')) {
      const name = key.slice('target-state-'.length)
      if (value === null) { this.targetStates.delete(name); return }
      const state = String(value['state.v2'] ?? value.state ?? 'STARTED').toUpperCase()
      if (state !== 'STARTED' && state !== 'PAUSED' && state !== 'STOPPED') { this.logger.warn(`${this.topicName}: unknown target state ${state} for ${name}`); return }
      this.targetStates.set(name, state)
      this.listener?.onTargetState(name)
    } else if (key.startsWith('task-')) {
      const m = /^task-(.*)-(\d+)$/.exec(key)
      const config = properties(value)
      if (!m || config === null) return
      const pending = this.deferred.get(m[1]!) ?? new Map<number, Record<string, string>>()
      pending.set(Number(m[2]), config)
      this.deferred.set(m[1]!, pending)
    } else if (key.startsWith('commit-')) {
      const name = key.slice('commit-'.length)
      const count = Number(value?.tasks ?? 0)
      const pending = this.deferred.get(name) ?? new Map<number, Record<string, string>>()
      const previous = this.taskConfigs.get(name) ?? []
      const configs: Array<Record<string, string>> = []
      for (let i = 0; i < count; i++) {
        const c = pending.get(i) ?? previous[i]
        if (!c) { this.logger.warn(`${this.topicName}: commit of ${count} tasks for ${name} without task ${i}; ignored`); return }
        configs.push(c)
      }
      this.deferred.delete(name)
      this.taskConfigs.set(name, configs)
      this.listener?.onTaskConfigs(name)
    } else if (key.startsWith('restart-connector-')) {
      if (value === null) return
      this.listener?.onRestartRequest({connector: key.slice('restart-connector-'.length), includeTasks: value['include-tasks'] === true, onlyFailed: value['only-failed'] === true})
    }
  }
}
