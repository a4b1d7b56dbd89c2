/**
 * The broker configs the group coordinator reads, with Kafka 4.0's names and defaults. Configs
 * not (yet) defined in broker-configs.ts are read from the explicit broker config as strings
 * (unknown keys are kept there), falling back to Kafka's defaults here.
 */
import type {ResolvedBrokerConfig} from '../../lib/config/broker-configs.js'

export interface GroupCoordinatorConfig {
  /** offsets.topic.num.partitions */
  offsetsTopicPartitions: number
  /** offsets.topic.replication.factor (capped at the registered brokers when creating). */
  offsetsTopicReplicationFactor: number
  /** offsets.topic.segment.bytes */
  offsetsTopicSegmentBytes: number
  /** offsets.retention.minutes, in ms. */
  offsetsRetentionMs: number
  /** offsets.retention.check.interval.ms */
  offsetsRetentionCheckIntervalMs: number
  /** offset.metadata.max.bytes */
  offsetMetadataMaxBytes: number
  /** group.min.session.timeout.ms */
  groupMinSessionTimeoutMs: number
  /** group.max.session.timeout.ms */
  groupMaxSessionTimeoutMs: number
  /** group.initial.rebalance.delay.ms */
  groupInitialRebalanceDelayMs: number
  /** group.max.size */
  groupMaxSize: number
  /** group.coordinator.rebalance.protocols: "classic", "consumer". */
  rebalanceProtocols: string[]
  /** group.consumer.session.timeout.ms */
  consumerGroupSessionTimeoutMs: number
  /** group.consumer.heartbeat.interval.ms */
  consumerGroupHeartbeatIntervalMs: number
  /** group.consumer.max.size */
  consumerGroupMaxSize: number
  /** group.consumer.assignors: the first is the default. */
  consumerGroupAssignors: string[]
}

export const DEFAULT_GROUP_CONFIG: GroupCoordinatorConfig = {
  offsetsTopicPartitions: 50,
  offsetsTopicReplicationFactor: 3,
  offsetsTopicSegmentBytes: 104_857_600,
  offsetsRetentionMs: 10_080 * 60_000,
  offsetsRetentionCheckIntervalMs: 600_000,
  offsetMetadataMaxBytes: 4096,
  groupMinSessionTimeoutMs: 6000,
  groupMaxSessionTimeoutMs: 1_800_000,
  groupInitialRebalanceDelayMs: 3000,
  groupMaxSize: 2_147_483_647,
  rebalanceProtocols: ['classic', 'consumer'],
  consumerGroupSessionTimeoutMs: 45_000,
  consumerGroupHeartbeatIntervalMs: 5000,
  consumerGroupMaxSize: 2_147_483_647,
  consumerGroupAssignors: ['uniform', 'range'],
}

export function groupConfigFrom(config: ResolvedBrokerConfig): GroupCoordinatorConfig {
  const d = DEFAULT_GROUP_CONFIG
  const num = (name: string, fallback: number): number => {
    const v = config.get(name)
    if (v === null || v.trim() === '') return fallback
    const n = Number(v.trim())
    if (!Number.isFinite(n)) throw new Error(`Invalid value ${v} for configuration ${name}: not a number`)
    return n
  }
  const list = (name: string, fallback: string[]): string[] => {
    const v = config.get(name)
    if (v === null) return fallback
    return v.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)
  }
  return {
    offsetsTopicPartitions: num('offsets.topic.num.partitions', d.offsetsTopicPartitions),
    offsetsTopicReplicationFactor: num('offsets.topic.replication.factor', d.offsetsTopicReplicationFactor),
    offsetsTopicSegmentBytes: num('offsets.topic.segment.bytes', d.offsetsTopicSegmentBytes),
    offsetsRetentionMs: num('offsets.retention.minutes', d.offsetsRetentionMs / 60_000) * 60_000,
    offsetsRetentionCheckIntervalMs: num('offsets.retention.check.interval.ms', d.offsetsRetentionCheckIntervalMs),
    offsetMetadataMaxBytes: num('offset.metadata.max.bytes', d.offsetMetadataMaxBytes),
    groupMinSessionTimeoutMs: num('group.min.session.timeout.ms', d.groupMinSessionTimeoutMs),
    groupMaxSessionTimeoutMs: num('group.max.session.timeout.ms', d.groupMaxSessionTimeoutMs),
    groupInitialRebalanceDelayMs: num('group.initial.rebalance.delay.ms', d.groupInitialRebalanceDelayMs),
    groupMaxSize: num('group.max.size', d.groupMaxSize),
    rebalanceProtocols: list('group.coordinator.rebalance.protocols', d.rebalanceProtocols),
    consumerGroupSessionTimeoutMs: num('group.consumer.session.timeout.ms', d.consumerGroupSessionTimeoutMs),
    consumerGroupHeartbeatIntervalMs: num('group.consumer.heartbeat.interval.ms', d.consumerGroupHeartbeatIntervalMs),
    consumerGroupMaxSize: num('group.consumer.max.size', d.consumerGroupMaxSize),
    consumerGroupAssignors: list('group.consumer.assignors', d.consumerGroupAssignors),
  }
}
