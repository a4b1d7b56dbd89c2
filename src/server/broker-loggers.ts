/**
 * Broker loggers (issue 15): DescribeConfigs and IncrementalAlterConfigs on BROKER_LOGGER
 * resources (type 8, named by the broker's node id), as Kafka's RuntimeLoggerManager answers them
 * (`kafka-configs.sh --entity-type broker-loggers`). kcli logs through one logger, so it has one:
 * `root`, whose level is the broker's log level (Log4j names: FATAL, ERROR, WARN, INFO, DEBUG,
 * TRACE), changed at once and not persisted (as Kafka: until restart). Any other name is
 * "Logger <name> does not exist!" (INVALID_CONFIG); removing root's level is INVALID_REQUEST; an
 * unknown level INVALID_CONFIG with Kafka's message; APPEND and SUBTRACT INVALID_REQUEST.
 */
import type {Logger} from './logger.js'

export const ROOT_LOGGER = 'root'
/** Kafka's LogLevelConfig.VALID_LOG_LEVELS, sorted as its message lists them. */
export const VALID_LOG_LEVELS = ['DEBUG', 'ERROR', 'FATAL', 'INFO', 'TRACE', 'WARN'] as const
const TO_PINO: Record<string, string> = {FATAL: 'fatal', ERROR: 'error', WARN: 'warn', INFO: 'info', DEBUG: 'debug', TRACE: 'trace'}
const FROM_PINO: Record<string, string> = {silent: 'OFF', fatal: 'FATAL', error: 'ERROR', warn: 'WARN', info: 'INFO', debug: 'DEBUG', trace: 'TRACE'}
/** ConfigSource.DYNAMIC_BROKER_LOGGER_CONFIG */
export const BROKER_LOGGER_SOURCE = 6

export class LoggerConfigError extends Error {
  constructor(
    readonly code: 'INVALID_CONFIG' | 'INVALID_REQUEST',
    message: string,
  ) {
    super(message)
  }
}

/** The broker's loggers and their levels (Log4j names). */
export function loggerLevels(log: Logger): Array<{name: string; level: string}> {
  return [{name: ROOT_LOGGER, level: FROM_PINO[log.level] ?? log.level.toUpperCase()}]
}

/** Throws LoggerConfigError unless the resource name is this node's id (RuntimeLoggerManager.validateResourceNameIsNodeId). */
export function checkLoggerResource(name: string, nodeId: number): void {
  if (!/^[+-]?\d{1,10}$/.test(name) || Number(name) > 2147483647 || Number(name) < -2147483648) throw new LoggerConfigError('INVALID_REQUEST', `Node id must be an integer, but it is: ${name}`)
  // Kafka's message repeats its own node id for both (RuntimeLoggerManager).
  if (Number(name) !== nodeId) throw new LoggerConfigError('INVALID_REQUEST', `Unexpected node id. Expected ${nodeId}, but received ${nodeId}`)
}

/** Validates every op, then (unless validateOnly) applies them: all or nothing, as Kafka. */
export function alterLoggerLevels(log: Logger, ops: ReadonlyArray<{name: string; configOperation: number; value: string | null}>, validateOnly: boolean): void {
  for (const op of ops) {
    if (op.configOperation === 2 || op.configOperation === 3) throw new LoggerConfigError('INVALID_REQUEST', `${op.configOperation === 2 ? 'APPEND' : 'SUBTRACT'} operation is not allowed for the BROKER_LOGGER resource`)
    if (op.configOperation !== 0 && op.configOperation !== 1) throw new LoggerConfigError('INVALID_REQUEST', `Unknown operation type ${op.configOperation} is not allowed for the BROKER_LOGGER resource`)
    if (op.name !== ROOT_LOGGER) throw new LoggerConfigError('INVALID_CONFIG', `Logger ${op.name} does not exist!`)
    if (op.configOperation === 1) throw new LoggerConfigError('INVALID_REQUEST', `Removing the log level of the ${ROOT_LOGGER} logger is not allowed`)
    if (!(VALID_LOG_LEVELS as readonly string[]).includes(op.value ?? '')) {
      throw new LoggerConfigError('INVALID_CONFIG', `Cannot set the log level of ${op.name} to ${op.value} as it is not a supported log level. Valid log levels are ${VALID_LOG_LEVELS.join(', ')}`)
    }
  }
  if (validateOnly) return
  for (const op of ops) log.level = TO_PINO[op.value!]!
}
