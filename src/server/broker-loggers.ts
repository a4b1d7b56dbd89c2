/**
 * Broker loggers (issues 15, 16): DescribeConfigs and IncrementalAlterConfigs on BROKER_LOGGER
 * resources (type 8, named by the broker's node id), as Kafka's RuntimeLoggerManager answers them
 * (`kafka-configs.sh --entity-type broker-loggers`).
 *
 * The broker logs through `root` (its own lifecycle lines) and one child logger per component,
 * named as Kafka names the class that logs the same things (COMPONENT_LOGGERS) and tagged with a
 * `component` field on every line. Levels use Log4j's names (FATAL, ERROR, WARN, INFO, DEBUG,
 * TRACE) and change at once, until restart (as Kafka: not persisted):
 * - SET on `root`: the root level, and that of every component without a level of its own
 *   (Log4j's inheritance); SET on a component: that component only;
 * - DELETE on a component: it inherits root's level again; on `root`: INVALID_REQUEST;
 * - any other name: "Logger <name> does not exist!" (INVALID_CONFIG); an unknown level
 *   INVALID_CONFIG with Kafka's message; APPEND and SUBTRACT INVALID_REQUEST.
 * DescribeConfigs lists root and every component with its effective level.
 */
import type {Logger} from './logger.js'

export const ROOT_LOGGER = 'root'
/** Kafka's LogLevelConfig.VALID_LOG_LEVELS, sorted as its message lists them. */
export const VALID_LOG_LEVELS = ['DEBUG', 'ERROR', 'FATAL', 'INFO', 'TRACE', 'WARN'] as const
const TO_PINO: Record<string, string> = {FATAL: 'fatal', ERROR: 'error', WARN: 'warn', INFO: 'info', DEBUG: 'debug', TRACE: 'trace'}
const FROM_PINO: Record<string, string> = {silent: 'OFF', fatal: 'FATAL', error: 'ERROR', warn: 'WARN', info: 'INFO', debug: 'DEBUG', trace: 'TRACE'}
/** ConfigSource.DYNAMIC_BROKER_LOGGER_CONFIG */
export const BROKER_LOGGER_SOURCE = 6

/** The broker's components and the Kafka logger names they answer to. */
export const COMPONENT_LOGGERS = {
  requests: 'kafka.server.KafkaApis',
  network: 'kafka.network.SocketServer',
  replicaManager: 'kafka.server.ReplicaManager',
  replicaFetcher: 'kafka.server.ReplicaFetcherManager',
  controller: 'kafka.controller.KafkaController',
  groupCoordinator: 'kafka.coordinator.group.GroupCoordinator',
  transactionCoordinator: 'kafka.coordinator.transaction.TransactionCoordinator',
} as const

export class LoggerConfigError extends Error {
  constructor(
    readonly code: 'INVALID_CONFIG' | 'INVALID_REQUEST',
    message: string,
  ) {
    super(message)
  }
}

/** Root and the component loggers of a broker, found from any of them. */
export class BrokerLoggers {
  private static readonly byLogger = new WeakMap<Logger, BrokerLoggers>()
  /** Components by name, with the level set on them (undefined: root's). */
  private readonly components = new Map<string, {logger: Logger; own?: string}>()

  private constructor(readonly root: Logger) {
    BrokerLoggers.byLogger.set(root, this)
  }

  /** The loggers of `root` (made once per root logger: brokers sharing one share them). */
  static for(root: Logger): BrokerLoggers {
    return BrokerLoggers.byLogger.get(root) ?? new BrokerLoggers(root)
  }

  /** The loggers `log` belongs to; a bare logger (a test's) is a root without components. */
  static of(log: Logger): BrokerLoggers {
    return BrokerLoggers.for(log)
  }

  /** The logger of a component (Kafka's name for it), made on first use. */
  component(name: string): Logger {
    let c = this.components.get(name)
    if (!c) {
      const logger = this.root.child({component: name})
      logger.level = this.root.level
      this.components.set(name, (c = {logger}))
      BrokerLoggers.byLogger.set(logger, this)
    }
    return c.logger
  }

  /** Root, then the components by name, with their levels (Log4j names). */
  levels(): Array<{name: string; level: string}> {
    const level = (l: Logger) => FROM_PINO[l.level] ?? l.level.toUpperCase()
    return [{name: ROOT_LOGGER, level: level(this.root)}, ...[...this.components].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, c]) => ({name, level: level(c.logger)}))]
  }

  has(name: string): boolean {
    return name === ROOT_LOGGER || this.components.has(name)
  }

  /** Sets a logger's level (Log4j name): root's carries to the components without one of their own. */
  set(name: string, level: string): void {
    const pinoLevel = TO_PINO[level]!
    if (name === ROOT_LOGGER) {
      this.root.level = pinoLevel
      for (const c of this.components.values()) if (c.own === undefined) c.logger.level = pinoLevel
      return
    }
    const c = this.components.get(name)!
    c.own = pinoLevel
    c.logger.level = pinoLevel
  }

  /** A component inherits root's level again. */
  unset(name: string): void {
    const c = this.components.get(name)!
    c.own = undefined
    c.logger.level = this.root.level
  }
}

/** The loggers of the broker `log` belongs to and their levels (Log4j names). */
export function loggerLevels(log: Logger): Array<{name: string; level: string}> {
  return BrokerLoggers.of(log).levels()
}

/** Throws LoggerConfigError unless the resource name is this node's id (RuntimeLoggerManager.validateResourceNameIsNodeId). */
export function checkLoggerResource(name: string, nodeId: number): void {
  if (!/^[+-]?\d{1,10}$/.test(name) || Number(name) > 2147483647 || Number(name) < -2147483648) throw new LoggerConfigError('INVALID_REQUEST', `Node id must be an integer, but it is: ${name}`)
  // Kafka's message repeats its own node id for both (RuntimeLoggerManager).
  if (Number(name) !== nodeId) throw new LoggerConfigError('INVALID_REQUEST', `Unexpected node id. Expected ${nodeId}, but received ${nodeId}`)
}

/** Validates every op, then (unless validateOnly) applies them: all or nothing, as Kafka. */
export function alterLoggerLevels(log: Logger, ops: ReadonlyArray<{name: string; configOperation: number; value: string | null}>, validateOnly: boolean): void {
  const loggers = BrokerLoggers.of(log)
  for (const op of ops) {
    if (op.configOperation === 2 || op.configOperation === 3) throw new LoggerConfigError('INVALID_REQUEST', `${op.configOperation === 2 ? 'APPEND' : 'SUBTRACT'} operation is not allowed for the BROKER_LOGGER resource`)
    if (op.configOperation !== 0 && op.configOperation !== 1) throw new LoggerConfigError('INVALID_REQUEST', `Unknown operation type ${op.configOperation} is not allowed for the BROKER_LOGGER resource`)
    if (!loggers.has(op.name)) throw new LoggerConfigError('INVALID_CONFIG', `Logger ${op.name} does not exist!`)
    if (op.configOperation === 1) {
      if (op.name === ROOT_LOGGER) throw new LoggerConfigError('INVALID_REQUEST', `Removing the log level of the ${ROOT_LOGGER} logger is not allowed`)
      continue
    }
    if (!(VALID_LOG_LEVELS as readonly string[]).includes(op.value ?? '')) {
      throw new LoggerConfigError('INVALID_CONFIG', `Cannot set the log level of ${op.name} to ${op.value} as it is not a supported log level. Valid log levels are ${VALID_LOG_LEVELS.join(', ')}`)
    }
  }
  if (validateOnly) return
  for (const op of ops) {
    if (op.configOperation === 1) loggers.unset(op.name)
    else loggers.set(op.name, op.value!)
  }
}
