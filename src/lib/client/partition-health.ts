// What an operator asks of a partition and of a broker, from Metadata and the reassignments in
// progress, with Kafka's definitions (TopicCommand.PartitionDescription, and the controller's
// leader-imbalance check): one place that `kcli topics describe` filters with, `kcli cluster
// describe` counts with and `kcli preferred-election --dry-run` reports from.
//
// - under-replicated: the ISR is smaller than the replication factor, where a partition being
//   reassigned counts its replicas less the ones being added (a target replica still catching up
//   is not a missing one);
// - unavailable: no leader, or a leader that is not a live broker;
// - under min ISR: unavailable, or an ISR smaller than min.insync.replicas; at min ISR: equal to it;
// - a broker's leader imbalance: of the partitions whose preferred replica (the first) it is, the
//   share it does not lead, which Kafka's controller compares with
//   leader.imbalance.per.broker.percentage.
import type {ClusterMetadata, PartitionInfo} from './metadata.js'
import type {OngoingReassignment} from './reassignment-plan.js'

/** The reassignments in progress, by `topic\0partition`. */
export type ReassignmentIndex = ReadonlyMap<string, Pick<OngoingReassignment, 'addingReplicas' | 'removingReplicas'>>

export function reassignmentIndex(ongoing: readonly OngoingReassignment[]): ReassignmentIndex {
  return new Map(ongoing.map((r) => [`${r.topic}\u0000${r.partition}`, r]))
}

export function reassignmentOf(index: ReassignmentIndex, topic: string, partition: number): Pick<OngoingReassignment, 'addingReplicas' | 'removingReplicas'> | undefined {
  return index.get(`${topic}\u0000${partition}`)
}

type Partition = Pick<PartitionInfo, 'isr' | 'leaderId' | 'replicas'>

/** The replication factor Kafka's tools report: the replicas, less those a reassignment is adding. */
export function replicationFactor(p: Partition, addingReplicas: readonly number[] = []): number {
  return p.replicas.length - addingReplicas.length
}

export function isUnderReplicated(p: Partition, addingReplicas: readonly number[] = []): boolean {
  return p.isr.length < replicationFactor(p, addingReplicas)
}

export function isUnavailable(p: Partition, liveBrokers: ReadonlySet<number>): boolean {
  return p.leaderId < 0 || !liveBrokers.has(p.leaderId)
}

export function isUnderMinIsr(p: Partition, liveBrokers: ReadonlySet<number>, minIsr: number): boolean {
  return isUnavailable(p, liveBrokers) || p.isr.length < minIsr
}

export function isAtMinIsr(p: Partition, minIsr: number): boolean {
  return p.isr.length === minIsr
}

export interface BrokerHealth {
  broker: number
  /** Whether the broker is registered with the cluster (in Metadata's broker list). */
  live: boolean
  /** Replicas the broker holds (partitions whose replica list names it). */
  replicas: number
  /** Partitions the broker leads now. */
  leaders: number
  /** Partitions whose preferred replica (first in the list) is the broker. */
  preferred: number
  /** Of those, the ones it does not lead: Kafka's leader imbalance for the broker. */
  notLedByPreferred: number
  /** notLedByPreferred / preferred, in percent, one decimal. */
  imbalancePercent: number
  /** Partitions the broker leads whose ISR is short (Kafka's per-broker UnderReplicatedPartitions). */
  underReplicated: number
  /** Partitions with a replica on the broker and no live leader. */
  offline: number
}

export interface ClusterHealth {
  brokers: BrokerHealth[]
  partitions: number
  underReplicated: number
  /** Partitions without a live leader (Kafka's OfflinePartitionsCount). */
  offline: number
  /** Partitions being reassigned. */
  reassigning: number
}

/** Per-broker and cluster-wide counts over every partition of `metadata`. */
export function clusterHealth(metadata: ClusterMetadata, reassignments: ReassignmentIndex = new Map()): ClusterHealth {
  const live = new Set(metadata.brokers.map((b) => b.nodeId))
  const all = metadata.topics.flatMap((t) =>
    t.partitions.map((p) => {
      const adding = reassignmentOf(reassignments, t.name, p.partition)?.addingReplicas ?? []
      return {...p, under: isUnderReplicated(p, adding), unavailable: isUnavailable(p, live)}
    }),
  )
  const ids = [...new Set([...live, ...all.flatMap((p) => p.replicas)])].sort((a, b) => a - b)
  const brokers = ids.map((broker): BrokerHealth => {
    let replicas = 0, leaders = 0, preferred = 0, notLed = 0, underReplicated = 0, offline = 0
    for (const p of all) {
      if (p.replicas.includes(broker)) {
        replicas++
        if (p.unavailable) offline++
      }
      if (p.leaderId === broker) {
        leaders++
        if (p.under) underReplicated++
      }
      if (p.replicas[0] === broker) {
        preferred++
        if (p.leaderId !== broker) notLed++
      }
    }
    return {
      broker,
      live: live.has(broker),
      replicas,
      leaders,
      preferred,
      notLedByPreferred: notLed,
      imbalancePercent: preferred === 0 ? 0 : Math.round((notLed / preferred) * 1000) / 10,
      underReplicated,
      offline,
    }
  })
  return {
    brokers,
    partitions: all.length,
    underReplicated: all.filter((p) => p.under).length,
    offline: all.filter((p) => p.unavailable).length,
    reassigning: reassignments.size,
  }
}
