/**
 * A distributed worker's properties (Kafka's DistributedConfig names and defaults): group.id,
 * config.storage.topic, offset.storage.topic, status.storage.topic (all required), their
 * replication factors (default 3; -1: the broker's default) and partitions (offsets 25, status 5;
 * the config topic always has 1), session.timeout.ms (10 s), heartbeat.interval.ms (3 s),
 * rebalance.timeout.ms (60 s), scheduled.rebalance.max.delay.ms (5 min), connect.protocol
 * (eager, compatible or sessioned), rest.advertised.host.name / rest.advertised.port, and the
 * settings of both modes (worker-config.ts).
 */
import {CONNECT_PROTOCOLS, type ConnectProtocolName} from './connect-protocol.js'
import {parseWorkerConfig, type WorkerConfig} from '../worker-config.js'

export interface DistributedConfig extends WorkerConfig {
  groupId: string
  configTopic: string
  statusTopic: string
  configReplicationFactor: number
  offsetReplicationFactor: number
  offsetPartitions: number
  statusReplicationFactor: number
  statusPartitions: number
  sessionTimeoutMs: number
  heartbeatIntervalMs: number
  rebalanceTimeoutMs: number
  scheduledRebalanceMaxDelayMs: number
  protocol: ConnectProtocolName
  advertisedHost: string | undefined
  advertisedPort: number | undefined
}

export function parseDistributedConfig(props: Record<string, string>): DistributedConfig {
  const required = (key: string): string => {
    const v = (props[key] ?? '').trim()
    if (v === '') throw new Error(`Missing required configuration "${key}" which has no default value.`)
    return v
  }
  const int = (key: string, fallback: number, min = Number.MIN_SAFE_INTEGER): number => {
    const raw = props[key]
    if (raw === undefined || raw.trim() === '') return fallback
    const v = Number(raw)
    if (!Number.isInteger(v)) throw new Error(`Invalid value ${raw} for configuration ${key}: Not a number of type INT`)
    if (v < min) throw new Error(`Invalid value ${raw} for configuration ${key}: Value must be at least ${min}`)
    return v
  }
  const replication = (key: string): number => {
    const v = int(key, 3)
    if (v === 0 || v < -1) throw new Error(`Invalid value ${v} for configuration ${key}: Replication factor must be positive or -1 to use the broker's default`)
    return v
  }
  const groupId = required('group.id')
  const configTopic = required('config.storage.topic')
  required('offset.storage.topic')
  const statusTopic = required('status.storage.topic')
  // The config's values are eager/compatible/sessioned; eager's group protocol is named "default".
  const raw = (props['connect.protocol'] ?? 'sessioned').trim().toLowerCase()
  const protocol = raw === 'eager' ? 'default' : raw
  if (!(protocol in CONNECT_PROTOCOLS)) throw new Error(`Invalid value ${raw} for configuration connect.protocol: String must be one of: eager, compatible, sessioned`)
  const base = parseWorkerConfig(props, 'distributed')
  const config: DistributedConfig = {
    ...base,
    advertisedHost: props['rest.advertised.host.name'],
    advertisedPort: props['rest.advertised.port'] === undefined ? undefined : int('rest.advertised.port', 0, 0),
    configReplicationFactor: replication('config.storage.replication.factor'),
    configTopic,
    groupId,
    heartbeatIntervalMs: int('heartbeat.interval.ms', 3000, 1),
    offsetPartitions: int('offset.storage.partitions', 25, 1),
    offsetReplicationFactor: replication('offset.storage.replication.factor'),
    protocol: protocol as ConnectProtocolName,
    rebalanceTimeoutMs: int('rebalance.timeout.ms', 60_000, 1),
    scheduledRebalanceMaxDelayMs: int('scheduled.rebalance.max.delay.ms', 300_000, 0),
    sessionTimeoutMs: int('session.timeout.ms', 10_000, 1),
    statusPartitions: int('status.storage.partitions', 5, 1),
    statusReplicationFactor: replication('status.storage.replication.factor'),
    statusTopic,
  }
  if (config.heartbeatIntervalMs >= config.sessionTimeoutMs) throw new Error(`heartbeat.interval.ms (${config.heartbeatIntervalMs}) must be lower than session.timeout.ms (${config.sessionTimeoutMs})`)
  return config
}
