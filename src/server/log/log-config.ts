/**
 * The topic-level configs the log honours, with Kafka 4.0's names (as
 * camelCase properties; `topicConfigNames` maps them back) and defaults.
 * Kafka's "Long.MAX_VALUE means never" values are Infinity here.
 */

/** '' (an empty cleanup.policy, which Kafka 4.0 accepts): neither deletion by retention nor compaction. */
export type CleanupPolicy = '' | 'delete' | 'compact' | 'compact,delete'
export type TimestampTypeName = 'CreateTime' | 'LogAppendTime'

export interface LogConfig {
  /** segment.bytes */
  segmentBytes: number
  /** segment.ms */
  segmentMs: number
  /** segment.index.bytes */
  segmentIndexBytes: number
  /** index.interval.bytes */
  indexIntervalBytes: number
  /** flush.messages */
  flushMessages: number
  /** flush.ms */
  flushMs: number
  /** retention.ms (-1: keep forever) */
  retentionMs: number
  /** retention.bytes (-1: no limit) */
  retentionBytes: number
  /** max.message.bytes */
  maxMessageBytes: number
  /** message.timestamp.type */
  messageTimestampType: TimestampTypeName
  /** message.timestamp.before.max.ms */
  messageTimestampBeforeMaxMs: number
  /** message.timestamp.after.max.ms */
  messageTimestampAfterMaxMs: number
  /** cleanup.policy */
  cleanupPolicy: CleanupPolicy
  /** delete.retention.ms */
  deleteRetentionMs: number
  /** min.cleanable.dirty.ratio */
  minCleanableDirtyRatio: number
  /** min.compaction.lag.ms */
  minCompactionLagMs: number
  /** max.compaction.lag.ms */
  maxCompactionLagMs: number
  /** file.delete.delay.ms */
  fileDeleteDelayMs: number
  /** producer.id.expiration.ms (a broker config in Kafka) */
  producerIdExpirationMs: number
}

export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 1073741824,
  segmentMs: 604800000,
  segmentIndexBytes: 10485760,
  indexIntervalBytes: 4096,
  flushMessages: Infinity,
  flushMs: Infinity,
  retentionMs: 604800000,
  retentionBytes: -1,
  maxMessageBytes: 1048588,
  messageTimestampType: 'CreateTime',
  messageTimestampBeforeMaxMs: Infinity,
  messageTimestampAfterMaxMs: 3600000,
  cleanupPolicy: 'delete',
  deleteRetentionMs: 86400000,
  minCleanableDirtyRatio: 0.5,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Infinity,
  fileDeleteDelayMs: 60000,
  producerIdExpirationMs: 86400000,
})

export const topicConfigNames: Readonly<Record<keyof LogConfig, string>> = Object.freeze({
  segmentBytes: 'segment.bytes',
  segmentMs: 'segment.ms',
  segmentIndexBytes: 'segment.index.bytes',
  indexIntervalBytes: 'index.interval.bytes',
  flushMessages: 'flush.messages',
  flushMs: 'flush.ms',
  retentionMs: 'retention.ms',
  retentionBytes: 'retention.bytes',
  maxMessageBytes: 'max.message.bytes',
  messageTimestampType: 'message.timestamp.type',
  messageTimestampBeforeMaxMs: 'message.timestamp.before.max.ms',
  messageTimestampAfterMaxMs: 'message.timestamp.after.max.ms',
  cleanupPolicy: 'cleanup.policy',
  deleteRetentionMs: 'delete.retention.ms',
  minCleanableDirtyRatio: 'min.cleanable.dirty.ratio',
  minCompactionLagMs: 'min.compaction.lag.ms',
  maxCompactionLagMs: 'max.compaction.lag.ms',
  fileDeleteDelayMs: 'file.delete.delay.ms',
  producerIdExpirationMs: 'producer.id.expiration.ms',
})

const LONG_MAX = '9223372036854775807'

/** Builds a LogConfig from Kafka topic config strings; unknown names are ignored. */
export function logConfigFromTopicConfigs(configs: Readonly<Record<string, string>>): LogConfig {
  const config: LogConfig = {...DEFAULT_LOG_CONFIG}
  for (const [key, name] of Object.entries(topicConfigNames) as [keyof LogConfig, string][]) {
    const value = configs[name]
    if (value === undefined) continue
    if (key === 'messageTimestampType') {
      if (value !== 'CreateTime' && value !== 'LogAppendTime') throw new RangeError(`${name}=${value}`)
      config.messageTimestampType = value
    } else if (key === 'cleanupPolicy') {
      // A list (duplicates allowed, as Kafka's ValidList); empty means neither policy.
      const joined = [...new Set(value.split(',').map((s) => s.trim()).filter(Boolean))].sort().join(',')
      if (joined !== '' && joined !== 'delete' && joined !== 'compact' && joined !== 'compact,delete') throw new RangeError(`${name}=${value}`)
      config.cleanupPolicy = joined
    } else {
      const n = value === LONG_MAX ? Infinity : Number(value)
      if (Number.isNaN(n)) throw new RangeError(`${name}=${value}`)
      ;(config as unknown as Record<string, number>)[key] = n
    }
  }
  return config
}

/** Kafka's LogConfig.compact: cleanup.policy lists compact. */
export function isCompacted(config: LogConfig): boolean {
  return config.cleanupPolicy.includes('compact')
}

/** Kafka's LogConfig.delete: cleanup.policy lists delete (retention.ms / retention.bytes apply). */
export function isDeleteEnabled(config: LogConfig): boolean {
  return config.cleanupPolicy.includes('delete')
}

/** An injectable wall clock (milliseconds since the epoch). */
export interface Clock {
  now(): number
}

export const systemClock: Clock = {now: () => Date.now()}
