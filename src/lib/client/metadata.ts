// The client's view of the cluster: brokers, the controller, topics with their partitions, leaders
// and leader epochs, from Metadata responses. Producer, consumer and admin look leaders up here;
// when a broker says NOT_LEADER_OR_FOLLOWER (or the like) they mark the topic stale and the next
// lookup refreshes it, so the cache follows leader changes.

import type {MetadataResponse} from '../protocol/generated/metadata-response.js'
import {ZERO_UUID} from '../protocol/uuid.js'

export interface BrokerInfo {
  nodeId: number
  host: string
  port: number
  rack: string | null
}

export interface PartitionInfo {
  partition: number
  /** -1 when there is no leader. */
  leaderId: number
  leaderEpoch: number
  replicas: number[]
  isr: number[]
  offlineReplicas: number[]
  errorCode: number
}

export interface TopicInfo {
  name: string
  topicId: string
  isInternal: boolean
  errorCode: number
  /** By partition index, sorted. */
  partitions: PartitionInfo[]
}

export interface ClusterMetadata {
  clusterId: string | null
  controllerId: number
  brokers: BrokerInfo[]
  topics: TopicInfo[]
}

/** Converts a Metadata response into ClusterMetadata (partitions sorted by index). */
export function toClusterMetadata(response: MetadataResponse): ClusterMetadata {
  return {
    clusterId: response.clusterId,
    controllerId: response.controllerId,
    brokers: response.brokers.map(({host, nodeId, port, rack}) => ({host, nodeId, port, rack})).sort((a, b) => a.nodeId - b.nodeId),
    topics: response.topics.map((topic) => ({
      name: topic.name ?? '',
      topicId: topic.topicId ?? ZERO_UUID,
      isInternal: topic.isInternal,
      errorCode: topic.errorCode,
      partitions: topic.partitions
        .map((p) => ({
          partition: p.partitionIndex,
          leaderId: p.leaderId,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          offlineReplicas: p.offlineReplicas,
          errorCode: p.errorCode,
        }))
        .sort((a, b) => a.partition - b.partition),
    })),
  }
}

/** The cached metadata; refreshed by KafkaClient. */
export class MetadataCache {
  clusterId: string | null = null
  controllerId = -1
  readonly brokers = new Map<number, BrokerInfo>()
  readonly topics = new Map<string, TopicInfo & {fetchedAt: number; stale: boolean}>()

  update(metadata: ClusterMetadata, now = Date.now()): void {
    this.clusterId = metadata.clusterId
    this.controllerId = metadata.controllerId
    if (metadata.brokers.length > 0) {
      this.brokers.clear()
      for (const broker of metadata.brokers) this.brokers.set(broker.nodeId, broker)
    }
    for (const topic of metadata.topics) {
      if (topic.errorCode === 0) this.topics.set(topic.name, {...topic, fetchedAt: now, stale: false})
      else this.topics.delete(topic.name)
    }
  }

  topic(name: string): TopicInfo | undefined {
    return this.topics.get(name)
  }

  /** Whether `name` must be fetched again: unknown, marked stale, older than maxAgeMs, or with a leaderless partition. */
  needsRefresh(name: string, maxAgeMs: number, now = Date.now()): boolean {
    const topic = this.topics.get(name)
    if (!topic || topic.stale || now - topic.fetchedAt > maxAgeMs) return true
    return topic.partitions.some((p) => p.leaderId < 0)
  }

  /** Marked stale (a broker said it no longer leads) or older than maxAgeMs. */
  isStale(name: string, maxAgeMs: number, now = Date.now()): boolean {
    const topic = this.topics.get(name)
    return !topic || topic.stale || now - topic.fetchedAt > maxAgeMs
  }

  markStale(name: string): void {
    const topic = this.topics.get(name)
    if (topic) topic.stale = true
  }

  leader(topic: string, partition: number): number | undefined {
    const p = this.topics.get(topic)?.partitions.find((x) => x.partition === partition)
    return p && p.leaderId >= 0 ? p.leaderId : undefined
  }

  partitionInfo(topic: string, partition: number): PartitionInfo | undefined {
    return this.topics.get(topic)?.partitions.find((x) => x.partition === partition)
  }
}
