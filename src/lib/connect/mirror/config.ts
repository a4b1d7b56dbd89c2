/**
 * MirrorMaker 2's connector configs (KIP-382; org.apache.kafka.connect.mirror.Mirror*Config) with
 * Kafka's names and defaults, the replication policies that name remote topics, the topic/group
 * filters, and the clients a mirror connector opens to its two clusters.
 *
 * Filters as MM2's DefaultTopicFilter / DefaultGroupFilter: `topics` (and `groups`) is a list of
 * regular expressions joined by `|` that must match the whole name; `topics.exclude` /
 * `groups.exclude` remove names again. Cluster clients: only `source.cluster.bootstrap.servers` /
 * `target.cluster.bootstrap.servers` are read (no `source.cluster.` security settings yet).
 */
import {parseBootstrapServers} from '../../cli/bootstrap-server.js'
import {KafkaClient} from '../../client/client.js'
import {atLeast, ConfigDef, ConfigException, nonEmptyString} from '../api.js'

export const VERSION = '4.0.0'

export const DEFAULT_REPLICATION_POLICY = 'org.apache.kafka.connect.mirror.DefaultReplicationPolicy'
export const IDENTITY_REPLICATION_POLICY = 'org.apache.kafka.connect.mirror.IdentityReplicationPolicy'
export const DEFAULT_TOPICS_EXCLUDE = '.*[\\-\\.]internal, .*\\.replica, __.*'
export const DEFAULT_GROUPS_EXCLUDE = 'console-consumer-.*, connect-.*, __.*'
/** MM2's DefaultConfigPropertyFilter: topic configs never copied to the remote topic. */
export const DEFAULT_CONFIG_PROPERTIES_EXCLUDE =
  'follower\\.replication\\.throttled\\.replicas, leader\\.replication\\.throttled\\.replicas, message\\.timestamp\\.difference\\.max\\.ms, message\\.timestamp\\.type, unclean\\.leader\\.election\\.enable, min\\.insync\\.replicas'

const replicationFactor = (name: string, value: unknown): string | null =>
  typeof value === 'number' && (value === 0 || value < -1) ? `Invalid value ${value} for configuration ${name}: must be -1 (the broker's default) or at least 1` : null

const policyClass = (name: string, value: unknown): string | null =>
  value === DEFAULT_REPLICATION_POLICY || value === IDENTITY_REPLICATION_POLICY || value === 'DefaultReplicationPolicy' || value === 'IdentityReplicationPolicy'
    ? null
    : `Invalid value ${String(value)} for configuration ${name}: Class ${String(value)} could not be found.`

const location = (name: string, value: unknown): string | null =>
  value === 'source' || value === 'target' ? null : `Invalid value ${String(value)} for configuration ${name}: String must be one of: source, target`

const regexList = (name: string, value: unknown): string | null => {
  try {
    compileFilter(value as string[])
    return null
  } catch (error) {
    return `Invalid value ${(value as string[]).join(',')} for configuration ${name}: ${(error as Error).message}`
  }
}

/** MirrorConnectorConfig: what every mirror connector takes. */
function commonConfig(): ConfigDef {
  return new ConfigDef()
    .define({name: 'source.cluster.alias', type: 'STRING', defaultValue: 'source', importance: 'HIGH', documentation: 'Alias of source cluster', validator: nonEmptyString})
    .define({name: 'target.cluster.alias', type: 'STRING', defaultValue: 'target', importance: 'HIGH', documentation: 'Alias of target cluster. Used in metrics reporting.', validator: nonEmptyString})
    .define({name: 'source.cluster.bootstrap.servers', type: 'STRING', importance: 'HIGH', documentation: 'The source cluster\'s bootstrap servers (host:port,...)', validator: bootstrap})
    .define({name: 'target.cluster.bootstrap.servers', type: 'STRING', importance: 'HIGH', documentation: 'The target cluster\'s bootstrap servers (host:port,...)', validator: bootstrap})
    .define({name: 'replication.policy.class', type: 'CLASS', defaultValue: DEFAULT_REPLICATION_POLICY, importance: 'LOW', documentation: 'Class which defines the remote topic naming convention.', validator: policyClass})
    .define({name: 'replication.policy.separator', type: 'STRING', defaultValue: '.', importance: 'LOW', documentation: 'Separator used in remote topic naming convention.'})
    .define({name: 'offset-syncs.topic.location', type: 'STRING', defaultValue: 'source', importance: 'LOW', documentation: 'The location (source/target) of the offset-syncs topic.', validator: location})
    .define({name: 'offset-syncs.topic.replication.factor', type: 'SHORT', defaultValue: '3', importance: 'LOW', documentation: 'Replication factor for offset-syncs topic.', validator: replicationFactor})
    .define({name: 'topics', type: 'LIST', defaultValue: '.*', importance: 'HIGH', documentation: 'Topics to replicate. Supports comma-separated topic names and regexes.', validator: regexList})
    .define({name: 'topics.exclude', type: 'LIST', defaultValue: DEFAULT_TOPICS_EXCLUDE, importance: 'HIGH', documentation: 'Excluded topics. Supports comma-separated topic names and regexes. Excludes take precedence over includes.', validator: regexList})
    .define({name: 'refresh.topics.interval.seconds', type: 'LONG', defaultValue: '600', importance: 'LOW', documentation: 'Frequency of topic refresh.', validator: atLeast(1)})
}

function bootstrap(name: string, value: unknown): string | null {
  try {
    parseBootstrapServers(value as string)
    return null
  } catch (error) {
    return `Invalid value ${String(value)} for configuration ${name}: ${(error as Error).message}`
  }
}

/** MirrorSourceConfig. */
export const MIRROR_SOURCE_CONFIG = commonConfig()
  .define({name: 'replication.factor', type: 'INT', defaultValue: '2', importance: 'HIGH', documentation: 'Replication factor for newly created remote topics. Set -1 to use the broker\'s default.', validator: replicationFactor})
  .define({name: 'sync.topic.configs.enabled', type: 'BOOLEAN', defaultValue: 'true', importance: 'LOW', documentation: 'Whether to periodically configure remote topics to match their corresponding upstream topics.'})
  .define({name: 'sync.topic.configs.interval.seconds', type: 'LONG', defaultValue: '600', importance: 'LOW', documentation: 'Frequency of topic config sync.', validator: atLeast(1)})
  .define({name: 'config.properties.exclude', type: 'LIST', defaultValue: DEFAULT_CONFIG_PROPERTIES_EXCLUDE, importance: 'HIGH', documentation: 'Topic config properties that should not be replicated. Supports comma-separated property names and regexes.', validator: regexList})
  .define({name: 'refresh.topics.enabled', type: 'BOOLEAN', defaultValue: 'true', importance: 'LOW', documentation: 'Whether to periodically check for new topics and partitions.'})
  .define({name: 'emit.offset-syncs.enabled', type: 'BOOLEAN', defaultValue: 'true', importance: 'LOW', documentation: 'Whether to store the new offset of the replicated records in offset-syncs topic or not.'})
  .define({name: 'offset.lag.max', type: 'LONG', defaultValue: '100', importance: 'LOW', documentation: 'How out-of-sync a remote partition can be before it is resynced.', validator: atLeast(0)})
  .define({name: 'consumer.poll.timeout.ms', type: 'LONG', defaultValue: '1000', importance: 'LOW', documentation: 'Timeout when polling source cluster.', validator: atLeast(1)})

/** MirrorCheckpointConfig. */
export const MIRROR_CHECKPOINT_CONFIG = commonConfig()
  .define({name: 'groups', type: 'LIST', defaultValue: '.*', importance: 'HIGH', documentation: 'Consumer groups to replicate. Supports comma-separated group IDs and regexes.', validator: regexList})
  .define({name: 'groups.exclude', type: 'LIST', defaultValue: DEFAULT_GROUPS_EXCLUDE, importance: 'HIGH', documentation: 'Exclude groups. Supports comma-separated group IDs and regexes. Excludes take precedence over includes.', validator: regexList})
  .define({name: 'refresh.groups.interval.seconds', type: 'LONG', defaultValue: '600', importance: 'LOW', documentation: 'Frequency of group refresh.', validator: atLeast(1)})
  .define({name: 'emit.checkpoints.enabled', type: 'BOOLEAN', defaultValue: 'true', importance: 'LOW', documentation: 'Whether to replicate consumer offsets to target cluster.'})
  .define({name: 'emit.checkpoints.interval.seconds', type: 'LONG', defaultValue: '60', importance: 'LOW', documentation: 'Frequency of checkpoints.', validator: atLeast(1)})
  .define({name: 'sync.group.offsets.enabled', type: 'BOOLEAN', defaultValue: 'false', importance: 'LOW', documentation: 'Whether to periodically write the translated offsets to __consumer_offsets topic in target cluster, as long as no active consumers in that group are connected to the target cluster'})
  .define({name: 'sync.group.offsets.interval.seconds', type: 'LONG', defaultValue: '60', importance: 'LOW', documentation: 'Frequency of consumer group offset sync.', validator: atLeast(1)})
  .define({name: 'checkpoints.topic.replication.factor', type: 'SHORT', defaultValue: '3', importance: 'LOW', documentation: 'Replication factor for checkpoints topic.', validator: replicationFactor})
  .define({name: 'consumer.poll.timeout.ms', type: 'LONG', defaultValue: '1000', importance: 'LOW', documentation: 'Timeout when polling source cluster.', validator: atLeast(1)})

// --- filters and naming ------------------------------------------------------------------------

/** MM2's filter: the list joined with `|`, matching the whole name. */
export function compileFilter(list: readonly string[]): RegExp | null {
  const parts = list.map((s) => s.trim()).filter((s) => s !== '')
  return parts.length === 0 ? null : new RegExp(`^(?:${parts.join('|')})$`)
}

export class NameFilter {
  private readonly include: RegExp | null
  private readonly exclude: RegExp | null
  constructor(include: readonly string[], exclude: readonly string[]) {
    this.include = compileFilter(include)
    this.exclude = compileFilter(exclude)
  }

  matches(name: string): boolean {
    return this.include !== null && this.include.test(name) && !(this.exclude?.test(name) ?? false)
  }
}

/** ReplicationPolicy: how a source topic is named on the target, and where a remote topic came from. */
export interface ReplicationPolicy {
  formatRemoteTopic(sourceClusterAlias: string, topic: string): string
  /** The alias of the cluster a remote topic came from, or null for a local topic. */
  topicSource(topic: string): string | null
  offsetSyncsTopic(clusterAlias: string): string
  checkpointsTopic(clusterAlias: string): string
}

/** DefaultReplicationPolicy: `<source alias><separator><topic>`. */
export class DefaultReplicationPolicy implements ReplicationPolicy {
  constructor(readonly separator = '.') {}
  formatRemoteTopic(sourceClusterAlias: string, topic: string): string {
    return sourceClusterAlias + this.separator + topic
  }

  topicSource(topic: string): string | null {
    const i = topic.indexOf(this.separator)
    return i <= 0 ? null : topic.slice(0, i)
  }

  offsetSyncsTopic(clusterAlias: string): string {
    return `mm2-offset-syncs${this.separator}${clusterAlias}${this.separator}internal`
  }

  checkpointsTopic(clusterAlias: string): string {
    return `${clusterAlias}${this.separator}checkpoints${this.separator}internal`
  }
}

/** IdentityReplicationPolicy: remote topics keep their names (no cycle detection). */
export class IdentityReplicationPolicy extends DefaultReplicationPolicy {
  override formatRemoteTopic(_sourceClusterAlias: string, topic: string): string {
    return topic
  }

  override topicSource(_topic: string): string | null {
    return null
  }
}

export function replicationPolicy(props: Record<string, unknown>): ReplicationPolicy {
  const cls = String(props['replication.policy.class'])
  const separator = String(props['replication.policy.separator'] ?? '.')
  if (cls === DEFAULT_REPLICATION_POLICY || cls === 'DefaultReplicationPolicy') return new DefaultReplicationPolicy(separator)
  if (cls === IDENTITY_REPLICATION_POLICY || cls === 'IdentityReplicationPolicy') return new IdentityReplicationPolicy(separator)
  throw new ConfigException(`Class ${cls} could not be found.`)
}

/** Internal topics never mirrored whatever `topics` says (MM2's ReplicationPolicy.isInternalTopic + mm2 topics). */
export function isInternalTopic(topic: string): boolean {
  return topic.startsWith('__') || topic.startsWith('.') || topic.startsWith('mm2-') || topic.endsWith('.internal') || topic.endsWith('-internal')
}

/** Task i of n owns a name (or a topic-partition) by a stable hash: tasks need no assignment list. */
export function ownedBy(name: string, taskIndex: number, taskCount: number): boolean {
  let h = 0
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 31) + name.charCodeAt(i)) | 0
  return ((h >>> 0) % taskCount) === taskIndex
}

export function clusterClient(bootstrapServers: string, clientId: string): KafkaClient {
  return new KafkaClient({bootstrapServers: parseBootstrapServers(bootstrapServers), clientId})
}

/** Task configs: the connector's props plus `task.index` / `task.count` (see ownedBy). */
export function shardedTaskConfigs(props: Record<string, string>, count: number): Array<Record<string, string>> {
  return Array.from({length: count}, (_, i) => ({...props, 'task.index': String(i), 'task.count': String(count)}))
}

export function taskShard(props: Record<string, string>): {index: number; count: number} {
  const index = Number(props['task.index'] ?? '0')
  const count = Number(props['task.count'] ?? '1')
  if (!Number.isInteger(index) || !Number.isInteger(count) || count < 1 || index < 0 || index >= count) throw new ConfigException(`Invalid task.index ${props['task.index']} / task.count ${props['task.count']}`)
  return {index, count}
}
