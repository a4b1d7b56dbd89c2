/**
 * A Connect worker's properties (Kafka Connect's names), shared by both modes: bootstrap.servers,
 * key.converter / value.converter (with `key.converter.*` / `value.converter.*`, e.g.
 * schemas.enable), offset.flush.interval.ms, plugin.path, listeners (or rest.host.name +
 * rest.port), exactly.once.source.support, offset.storage.topic, and `producer.*` / `consumer.*`
 * client settings for the tasks. Standalone mode also needs offset.storage.file.filename;
 * distributed mode's own settings are read by distributed/distributed-config.ts.
 */
import {type BrokerAddress, parseBootstrapServers} from '../cli/bootstrap-server.js'

export const CONNECT_VERSION = '4.0.0'

export interface WorkerConfig {
  props: Record<string, string>
  bootstrapServers: BrokerAddress[]
  /** Standalone: the offsets file ('' in distributed mode). */
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
export function parseWorkerConfig(props: Record<string, string>, mode: 'standalone' | 'distributed' = 'standalone'): WorkerConfig {
  const offsetFile = props['offset.storage.file.filename'] ?? ''
  if (mode === 'standalone' && !offsetFile) throw new Error('Missing required configuration "offset.storage.file.filename" which has no default value.')
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
