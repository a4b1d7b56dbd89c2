/**
 * Kafka 4.0's topic configs: names, types, defaults and valid ranges as Kafka's LogConfig
 * declares them, and the broker config each one takes its default from (its DEFAULT_CONFIG
 * synonym in DescribeConfigs). The three lists validate as Kafka 4.0's: cleanup.policy with
 * ValidList (compact and/or delete; the empty list is valid: neither deletion nor compaction),
 * the throttled-replica lists with ThrottledReplicaListValidator.
 */
import {type ConfigDefinition, ConfigDefs, ConfigError, LONG_MAX} from './config-def.js'

const COMPRESSION_TYPES = ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'] as const

/**
 * Kafka's ThrottledReplicaListValidator: the literal '*' (alone), or partitionId:brokerId pairs
 * (empty items allowed); its message shows the list as Java prints it.
 */
function throttledReplicaList(name: string, items: readonly string[]): void {
  const trimmed = items.map((s) => s.trim())
  if (trimmed.every((s) => /^(?:[0-9]+:[0-9]+)?$/.test(s)) || trimmed.join('') === '*') return
  throw new ConfigError(name, `[${items.join(', ')}]`, `${name} must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...`)
}

export const TOPIC_CONFIGS = new ConfigDefs([
  {name: 'cleanup.policy', type: 'list', default: 'delete', validValues: ['compact', 'delete'], brokerSynonym: 'log.cleanup.policy', doc: 'Retention policy for old log segments: delete and/or compact.'},
  {name: 'compression.gzip.level', type: 'int', default: '-1', min: -1, max: 9, brokerSynonym: 'compression.gzip.level', doc: 'Compression level for gzip.'},
  {name: 'compression.lz4.level', type: 'int', default: '9', min: 1, max: 17, brokerSynonym: 'compression.lz4.level', doc: 'Compression level for lz4.'},
  {name: 'compression.type', type: 'string', default: 'producer', validValues: COMPRESSION_TYPES, brokerSynonym: 'compression.type', doc: 'Final compression type for the topic; producer keeps what the producer sent.'},
  {name: 'compression.zstd.level', type: 'int', default: '3', min: -131072, max: 22, brokerSynonym: 'compression.zstd.level', doc: 'Compression level for zstd.'},
  {name: 'delete.retention.ms', type: 'long', default: '86400000', min: 0, brokerSynonym: 'log.cleaner.delete.retention.ms', doc: 'How long tombstones are kept in compacted topics.'},
  {name: 'file.delete.delay.ms', type: 'long', default: '60000', min: 0, brokerSynonym: 'log.segment.delete.delay.ms', doc: 'Time to wait before deleting a file from the filesystem.'},
  {name: 'flush.messages', type: 'long', default: LONG_MAX, min: 1, brokerSynonym: 'log.flush.interval.messages', doc: 'Force an fsync after this many messages.'},
  {name: 'flush.ms', type: 'long', default: LONG_MAX, min: 0, doc: 'Force an fsync after this much time.'},
  {name: 'follower.replication.throttled.replicas', type: 'list', default: '', validateList: throttledReplicaList, doc: 'Replicas throttled on the follower side.'},
  {name: 'index.interval.bytes', type: 'int', default: '4096', min: 0, brokerSynonym: 'log.index.interval.bytes', doc: 'How often an offset index entry is added.'},
  {name: 'leader.replication.throttled.replicas', type: 'list', default: '', validateList: throttledReplicaList, doc: 'Replicas throttled on the leader side.'},
  {name: 'local.retention.bytes', type: 'long', default: '-2', min: -2, brokerSynonym: 'log.local.retention.bytes', doc: 'Local retention for tiered storage.'},
  {name: 'local.retention.ms', type: 'long', default: '-2', min: -2, brokerSynonym: 'log.local.retention.ms', doc: 'Local retention for tiered storage.'},
  {name: 'max.compaction.lag.ms', type: 'long', default: LONG_MAX, min: 1, brokerSynonym: 'log.cleaner.max.compaction.lag.ms', doc: 'Maximum time a message stays ineligible for compaction.'},
  {name: 'max.message.bytes', type: 'int', default: '1048588', min: 0, brokerSynonym: 'message.max.bytes', doc: 'Largest record batch size allowed.'},
  {name: 'message.timestamp.after.max.ms', type: 'long', default: '3600000', min: 0, brokerSynonym: 'log.message.timestamp.after.max.ms', doc: 'How far in the future a timestamp may be.'},
  {name: 'message.timestamp.before.max.ms', type: 'long', default: LONG_MAX, min: 0, brokerSynonym: 'log.message.timestamp.before.max.ms', doc: 'How far in the past a timestamp may be.'},
  {name: 'message.timestamp.type', type: 'string', default: 'CreateTime', validValues: ['CreateTime', 'LogAppendTime'], brokerSynonym: 'log.message.timestamp.type', doc: 'CreateTime or LogAppendTime.'},
  {name: 'min.cleanable.dirty.ratio', type: 'double', default: '0.5', min: 0, max: 1, brokerSynonym: 'log.cleaner.min.cleanable.ratio', doc: 'Dirty ratio above which the log is compacted.'},
  {name: 'min.compaction.lag.ms', type: 'long', default: '0', min: 0, brokerSynonym: 'log.cleaner.min.compaction.lag.ms', doc: 'Minimum time a message stays uncompacted.'},
  {name: 'min.insync.replicas', type: 'int', default: '1', min: 1, brokerSynonym: 'min.insync.replicas', doc: 'Minimum in-sync replicas for acks=all.'},
  {name: 'preallocate', type: 'boolean', default: 'false', brokerSynonym: 'log.preallocate', doc: 'Preallocate segment files.'},
  {name: 'remote.log.copy.disable', type: 'boolean', default: 'false', doc: 'Tiered storage: stop copying.'},
  {name: 'remote.log.delete.on.disable', type: 'boolean', default: 'false', doc: 'Tiered storage: delete on disable.'},
  {name: 'remote.storage.enable', type: 'boolean', default: 'false', doc: 'Tiered storage (not supported by kcli).'},
  {name: 'retention.bytes', type: 'long', default: '-1', brokerSynonym: 'log.retention.bytes', doc: 'Maximum size of a partition before old segments are deleted.'},
  {name: 'retention.ms', type: 'long', default: '604800000', min: -1, doc: 'Maximum age of a segment before it is deleted.'},
  {name: 'segment.bytes', type: 'int', default: '1073741824', min: 1048576, brokerSynonym: 'log.segment.bytes', doc: 'Segment file size.'},
  {name: 'segment.index.bytes', type: 'int', default: '10485760', min: 4, brokerSynonym: 'log.index.size.max.bytes', doc: 'Offset index size.'},
  {name: 'segment.jitter.ms', type: 'long', default: '0', min: 0, doc: 'Random jitter subtracted from segment.ms.'},
  {name: 'segment.ms', type: 'long', default: '604800000', min: 1, doc: 'Time after which a segment is rolled.'},
  {name: 'unclean.leader.election.enable', type: 'boolean', default: 'false', brokerSynonym: 'unclean.leader.election.enable', doc: 'Allow out-of-sync replicas to become leader.'},
] satisfies ConfigDefinition[])
