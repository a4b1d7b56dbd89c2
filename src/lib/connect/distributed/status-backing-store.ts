/**
 * Connector and task statuses in the status topic (Kafka's KafkaStatusBackingStore):
 * `status.storage.topic`, compacted, `status.storage.partitions` partitions (default 5). Each
 * worker writes the statuses of what it runs; every worker reads them all (GET .../status).
 *
 *   status-connector-<name>       {"state": "RUNNING", "trace": null, "worker_id": "host:port", "generation": 7}
 *   status-task-<name>-<n>        the same; a null value deletes it
 *
 * An update from another worker with an older group generation than the status held is ignored
 * (a worker that lost its work in a rebalance it missed does not overwrite the new owner's).
 */
import type {Logger} from 'pino'
import type {State} from '../tasks.js'
import type {WorkerConfig} from '../worker-config.js'
import {KafkaBasedLog, type LogRecord, type TopicSettings} from './kafka-based-log.js'

export interface Status {state: State; trace: string | null; worker_id: string; generation: number}

export class KafkaStatusBackingStore {
  private readonly connectors = new Map<string, Status>()
  private readonly tasks = new Map<string, Map<number, Status>>()
  readonly log: KafkaBasedLog

  constructor(topic: string, config: WorkerConfig, logger: Logger, clientId: string) {
    this.log = new KafkaBasedLog({bootstrapServers: config.bootstrapServers, clientId, logger, onRecord: (r) => this.apply(r), topic})
  }

  async start(settings: TopicSettings): Promise<void> {
    await this.log.ensureTopic(settings)
    await this.log.start()
  }

  stop(): Promise<void> {
    return this.log.stop()
  }

  connector(name: string): Status | undefined {
    return this.connectors.get(name)
  }

  task(name: string, task: number): Status | undefined {
    return this.tasks.get(name)?.get(task)
  }

  async putConnector(name: string, status: Status | null): Promise<void> {
    await this.log.send(`status-connector-${name}`, status === null ? null : JSON.stringify(status))
  }

  async putTask(name: string, task: number, status: Status | null): Promise<void> {
    await this.log.send(`status-task-${name}-${task}`, status === null ? null : JSON.stringify(status))
  }

  /** Deletes every status of a connector (it was deleted). */
  async remove(name: string): Promise<void> {
    const tasks = [...(this.tasks.get(name)?.keys() ?? [])]
    await Promise.all([this.putConnector(name, null), ...tasks.map(t => this.putTask(name, t, null))])
  }

  private apply(r: LogRecord): void {
    if (!r.key) return
    const key = r.key.toString()
    const status = r.value === null ? null : JSON.parse(r.value.toString()) as Status
    const accept = (held: Status | undefined) => status === null || !held || held.worker_id === status.worker_id || status.generation >= held.generation
    if (key.startsWith('status-connector-')) {
      const name = key.slice('status-connector-'.length)
      if (!accept(this.connectors.get(name))) return
      if (status === null) this.connectors.delete(name)
      else this.connectors.set(name, status)
    } else if (key.startsWith('status-task-')) {
      const m = /^status-task-(.*)-(\d+)$/.exec(key)
      if (!m) return
      const byNumber = this.tasks.get(m[1]!) ?? new Map<number, Status>()
      if (!accept(byNumber.get(Number(m[2])))) return
      if (status === null) byNumber.delete(Number(m[2]))
      else byNumber.set(Number(m[2]), status)
      this.tasks.set(m[1]!, byNumber)
    }
  }
}
