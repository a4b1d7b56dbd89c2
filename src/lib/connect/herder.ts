/**
 * What the REST API (rest.ts) asks of a Connect worker, whatever its mode (Kafka's Herder):
 * StandaloneHerder keeps connector configs in memory and runs everything in this process;
 * distributed/distributed-herder.ts keeps them in the config topic and runs what the group
 * assigned to this worker. Both start and stop instances through a WorkerRuntime.
 */
import type {Logger} from 'pino'
import type {ValidateResponse} from './connector-config.js'
import type {State} from './tasks.js'

/** A connector's target state, as the config topic stores it. */
export type TargetState = 'STARTED' | 'PAUSED' | 'STOPPED'

export interface ConnectorInfo {name: string; config: Record<string, string>; tasks: Array<{connector: string; task: number}>; type: 'source' | 'sink'}
export interface StateInfo {state: State; worker_id: string; trace?: string}
export interface TaskStateInfo extends StateInfo {id: number}
export interface ConnectorStatus {name: string; connector: StateInfo; tasks: TaskStateInfo[]; type: 'source' | 'sink'}
export interface TaskConfigInfo {id: {connector: string; task: number}; config: Record<string, string>}
export interface OffsetsInfo {offsets: Array<{partition: Record<string, unknown>; offset: Record<string, unknown> | null}>}
export interface PutOptions {allowReplace: boolean; initialState?: TargetState}

export interface Herder {
  readonly logger: Logger
  /** host:port of this worker's REST server, as statuses name a worker. */
  workerId: string
  /** This worker's REST base URL (Location headers). */
  restUrl: string

  connectorNames(): string[]
  has(name: string): boolean
  info(name: string): ConnectorInfo
  status(name: string): ConnectorStatus
  taskStatus(name: string, task: number): TaskStateInfo
  taskConfigs(name: string): TaskConfigInfo[]
  validate(config: Record<string, string>): ValidateResponse
  putConnector(name: string, config: Record<string, string>, options: PutOptions): Promise<{created: boolean; info: ConnectorInfo}>
  deleteConnector(name: string): Promise<void>
  pause(name: string): Promise<void>
  resume(name: string): Promise<void>
  stop(name: string): Promise<void>
  /** Without includeTasks/onlyFailed: null (Kafka's plain 204); otherwise the status with what restarts RESTARTING. */
  restart(name: string, includeTasks: boolean, onlyFailed: boolean): Promise<ConnectorStatus | null>
  restartTask(name: string, task: number): Promise<void>
  getOffsets(name: string): Promise<OffsetsInfo>
  alterOffsets(name: string, body: unknown): Promise<{message: string}>
  resetOffsets(name: string): Promise<{message: string}>
  pluginList(connectorsOnly: boolean): Array<{class: string; type: string; version: string}>
  pluginConfig(name: string): Array<Record<string, unknown>>
  /**
   * Distributed mode: the base URL of the worker that must handle a request changing configs (the
   * group's leader) when it is not this one; null to handle it here. A request with a task
   * (`/connectors/{name}/tasks/{task}/restart`) goes to the task's worker: `task` names it.
   */
  forwardTo?(request: {connector?: string; task?: number}): string | null
  /** Distributed mode's internal endpoint (POST /connectors/{name}/tasks): a connector's new task configs, written by the leader. */
  putTaskConfigs?(name: string, configs: Array<Record<string, string>>): Promise<void>
  shutdown(): Promise<void>
}
