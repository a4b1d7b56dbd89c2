// `kcli top` (issue 16): one view of a cluster — kcli's or Apache Kafka's, over the public protocol
// only — from two samples `intervalMs` apart: the brokers with the partitions they lead and hold
// and their under-replicated partitions (src/lib/client/partition-health.ts, Kafka's definitions,
// the same figures as the brokers' kafka_server_replicamanager_* metrics), messages in per second
// per topic and per broker (the growth of the partitions' log end offsets, ListOffsets latest,
// credited to each partition's leader), the under-replicated and offline partitions, and the
// consumer groups with the largest lag (latest offset minus committed, as kafka-consumer-groups).

import {type Admin, LATEST_TIMESTAMP} from './admin.js'
import {groupLag} from './group-lag.js'
import {clusterHealth, isUnderReplicated} from './partition-health.js'
import type {ClusterMetadata} from './metadata.js'

export interface TopBroker {
  nodeId: number
  host: string
  port: number
  rack: string | null
  controller: boolean
  /** Partitions it leads (LeaderCount). */
  leaders: number
  /** Replicas it holds. */
  replicas: number
  /** Partitions it leads with a short ISR (UnderReplicatedPartitions). */
  underReplicated: number
  /** Records appended per second to the partitions it leads. */
  messagesInPerSec: number
}

export interface TopTopic {
  topic: string
  partitions: number
  messagesInPerSec: number
  underReplicated: number
}

export interface TopPartition {
  topic: string
  partition: number
  leader: number
  replicas: number[]
  isr: number[]
}

export interface TopGroup {
  group: string
  state: string | null
  /** Sum over its partitions of latest offset minus committed offset. */
  lag: number
  partitions: Array<{topic: string; partition: number; lag: number}>
}

export interface TopSnapshot {
  clusterId: string | null
  controllerId: number
  /** The time between the two samples the rates come from. */
  intervalMs: number
  brokers: TopBroker[]
  topics: TopTopic[]
  underReplicatedPartitions: TopPartition[]
  offlinePartitions: number
  groups: TopGroup[]
}

interface Sample {
  at: number
  metadata: ClusterMetadata
  /** Log end offset per `topic\0partition`. */
  endOffsets: Map<string, bigint>
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`

async function sample(admin: Admin): Promise<Sample> {
  const metadata = await admin.listTopics()
  const queries = metadata.topics.flatMap((t) => t.partitions.filter((p) => p.leaderId >= 0).map((p) => ({topic: t.name, partition: p.partition, timestamp: LATEST_TIMESTAMP})))
  const listed = queries.length > 0 ? await admin.listOffsets(queries) : []
  const endOffsets = new Map<string, bigint>()
  for (const o of listed) if (o.errorCode === 0 && o.offset >= 0n) endOffsets.set(key(o.topic, o.partition), o.offset)
  return {at: Date.now(), metadata, endOffsets}
}

/** Samples the cluster twice, `intervalMs` apart, and computes the view; `maxGroups` groups by lag, largest first. */
export async function clusterTop(admin: Admin, opts: {intervalMs: number; maxGroups?: number; previous?: {at: number; endOffsets: Map<string, bigint>}}): Promise<TopSnapshot & {sample: {at: number; endOffsets: Map<string, bigint>}}> {
  const first = opts.previous ?? (await sample(admin))
  if (!opts.previous) await new Promise((resolve) => setTimeout(resolve, opts.intervalMs))
  const second = await sample(admin)
  const seconds = Math.max(1e-3, (second.at - first.at) / 1000)
  const {metadata} = second
  const health = clusterHealth(metadata)
  const rate = (topic: string, partition: number) => {
    const a = first.endOffsets.get(key(topic, partition))
    const b = second.endOffsets.get(key(topic, partition))
    return a === undefined || b === undefined || b < a ? 0 : Number(b - a) / seconds
  }
  const perBroker = new Map<number, number>()
  const topics: TopTopic[] = []
  const underReplicatedPartitions: TopPartition[] = []
  for (const t of metadata.topics) {
    let topicRate = 0
    let urp = 0
    for (const p of t.partitions) {
      const r = rate(t.name, p.partition)
      topicRate += r
      if (p.leaderId >= 0) perBroker.set(p.leaderId, (perBroker.get(p.leaderId) ?? 0) + r)
      if (p.leaderId >= 0 && isUnderReplicated(p)) {
        urp++
        underReplicatedPartitions.push({topic: t.name, partition: p.partition, leader: p.leaderId, replicas: p.replicas, isr: p.isr})
      }
    }
    topics.push({topic: t.name, partitions: t.partitions.length, messagesInPerSec: round(topicRate), underReplicated: urp})
  }
  topics.sort((a, b) => b.messagesInPerSec - a.messagesInPerSec || (a.topic < b.topic ? -1 : 1))
  const brokers: TopBroker[] = metadata.brokers.map((b) => {
    const h = health.brokers.find((x) => x.broker === b.nodeId)
    return {
      nodeId: b.nodeId,
      host: b.host,
      port: b.port,
      rack: b.rack,
      controller: b.nodeId === metadata.controllerId,
      leaders: h?.leaders ?? 0,
      replicas: h?.replicas ?? 0,
      underReplicated: h?.underReplicated ?? 0,
      messagesInPerSec: round(perBroker.get(b.nodeId) ?? 0),
    }
  })
  const groups: TopGroup[] = []
  const listed = await admin.listGroups()
  await Promise.all(
    listed
      .filter((g) => g.protocolType === 'consumer' || g.protocolType === '')
      .map(async (g) => {
        const lags = await groupLag(admin, g.groupId)
        const partitions = lags.filter((l) => l.lag !== null).map((l) => ({topic: l.topic, partition: l.partition, lag: Number(l.lag)}))
        if (partitions.length === 0) return
        groups.push({group: g.groupId, state: g.state, lag: partitions.reduce((n, p) => n + p.lag, 0), partitions})
      }),
  )
  groups.sort((a, b) => b.lag - a.lag || (a.group < b.group ? -1 : 1))
  return {
    clusterId: metadata.clusterId,
    controllerId: metadata.controllerId,
    intervalMs: second.at - first.at,
    brokers,
    topics,
    underReplicatedPartitions,
    offlinePartitions: health.offline,
    groups: groups.slice(0, opts.maxGroups ?? 10),
    sample: {at: second.at, endOffsets: second.endOffsets},
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10
}
