/**
 * The active controller of a cluster: the broker holding the store's controller key runs it.
 * It alone elects partition leaders; every decision is a compare-and-swap on the partition's
 * epoch (the store's alterPartitions: up to PARTITION_WRITE_BATCH partitions per store round
 * trip, each its own compare-and-swap), so it never overwrites an ISR change a leader made
 * meanwhile — it re-reads and decides again.
 *
 * On every change of the store (a broker gone or back, the controllership taken, a topic
 * created) it looks at each partition (decidePartitionState):
 * - a leader that is registered in the broker epoch it was elected in keeps leading; ISR members
 *   that are not registered leave the ISR (as Kafka's controller does when it fences a broker),
 *   unless that would empty it;
 * - otherwise (the leader is gone, restarted — a new registration — or there is none) the first
 *   replica, in assignment order, that is in the ISR and registered (and not shutting down) is elected with the next
 *   leader epoch (a restarted leader only when nobody else in the ISR is alive, and it leaves the
 *   ISR when another is elected: it may have lost what it had not flushed); with no such replica
 *   the partition goes offline (leader -1) and keeps its last ISR, so that the first of those
 *   brokers to come back is elected — unless `unclean.leader.election.enable` lets any registered
 *   replica lead (the records it lacks are lost, as in Kafka);
 * - a reassignment (KIP-455) whose added replicas have all joined the ISR completes: the replica
 *   set becomes the target, the removed replicas leave the ISR (and delete their copies), and a
 *   leader that is not in the target hands over to one that is;
 * - a broker in controlled shutdown (its registration says so) hands the leadership of each
 *   partition to another in-sync replica and leaves the ISRs, except where it is the only one left:
 *   there it leads until it exits.
 */
import type {Logger} from '../logger.js'
import {type MetadataStore, type PartitionAssignment, type PartitionStateChange, type PartitionStateWrite, type TopicMetadata, writePartitionStates} from './metadata-store.js'

/** Partition states per store write (one etcd transaction; etcd allows 128 operations). */
export const PARTITION_WRITE_BATCH = 100

/** A registered broker's id and broker epoch. */
export type LiveBrokers = ReadonlyMap<number, number | undefined>

/** The change the controller makes to one partition's state, or null to leave it. */
export function decidePartitionState(p: PartitionAssignment, live: LiveBrokers, uncleanElection: boolean, shuttingDown: ReadonlySet<number> = new Set()): PartitionStateChange | null {
  const completed = completeReassignment(p, live)
  if (completed) return completed
  const leaderValid = p.leader >= 0 && live.has(p.leader) && (p.leaderBrokerEpoch === undefined || live.get(p.leader) === p.leaderBrokerEpoch)
  const liveIsr = p.isr.filter((id) => live.has(id))
  const same = (isr: number[]) => isr.length === p.isr.length && isr.every((id, i) => id === p.isr[i])
  // In-sync replicas that may lead: alive and not shutting down, in assignment order.
  const eligible = p.replicas.filter((id) => liveIsr.includes(id) && !shuttingDown.has(id))
  if (leaderValid && (!shuttingDown.has(p.leader) || eligible.length === 0)) {
    // The leader stays (a shutting-down leader only while no other ISR member can take over);
    // dead and shutting-down followers leave the ISR.
    const isr = liveIsr.filter((id) => id === p.leader || !shuttingDown.has(id))
    if (same(isr)) return null
    return {leader: p.leader, leaderEpoch: p.leaderEpoch, isr, leaderBrokerEpoch: p.leaderBrokerEpoch}
  }
  if (leaderValid) {
    // Controlled shutdown of the leader: the first eligible ISR member takes over.
    const leader = eligible[0]!
    return {leader, leaderEpoch: p.leaderEpoch + 1, isr: liveIsr.filter((id) => !shuttingDown.has(id)), leaderBrokerEpoch: live.get(leader)}
  }
  const restartedLeader = p.leader >= 0 && live.has(p.leader) ? p.leader : -1
  const candidates = [...eligible, ...p.replicas.filter((id) => liveIsr.includes(id) && shuttingDown.has(id))]
  let leader: number | undefined = candidates.find((id) => id !== restartedLeader) ?? candidates[0]
  let isr: number[]
  if (leader !== undefined) {
    isr = liveIsr.filter((id) => id === leader || (id !== restartedLeader && !shuttingDown.has(id)))
  } else if (uncleanElection) {
    leader = p.replicas.find((id) => live.has(id) && !shuttingDown.has(id)) ?? p.replicas.find((id) => live.has(id))
    isr = leader === undefined ? p.isr : [leader]
  } else {
    isr = p.isr
  }
  if (leader === undefined) {
    if (p.leader === -1) return null
    return {leader: -1, leaderEpoch: p.leaderEpoch + 1, isr}
  }
  return {leader, leaderEpoch: p.leaderEpoch + 1, isr, leaderBrokerEpoch: live.get(leader)}
}

/**
 * AlterPartitionReassignments for one partition (KIP-455, as Kafka's controller): the replica set
 * becomes the target followed by the current replicas not in it; those are `removingReplicas`,
 * the target's new ones `addingReplicas`. A reassignment in progress is replaced (its original
 * replicas are the current ones minus those being added). Leader and ISR stay until completion.
 * Null when the target is the current replica set with nothing in progress.
 */
export function startReassignment(p: PartitionAssignment, target: readonly number[]): PartitionStateChange | null {
  const original = originalReplicas(p)
  const adding = target.filter((id) => !original.includes(id))
  const removing = original.filter((id) => !target.includes(id))
  if (adding.length === 0 && removing.length === 0 && !p.addingReplicas?.length && !p.removingReplicas?.length && sameOrder(target, p.replicas)) return null
  return {leader: p.leader, leaderEpoch: p.leaderEpoch, isr: p.isr, leaderBrokerEpoch: p.leaderBrokerEpoch, replicas: [...target, ...removing], addingReplicas: adding, removingReplicas: removing}
}

/** Cancelling (a null target): back to the original replicas; a leader outside them hands over. */
export function cancelReassignment(p: PartitionAssignment, live: LiveBrokers): PartitionStateChange | 'NO_REASSIGNMENT_IN_PROGRESS' {
  if (!p.addingReplicas?.length && !p.removingReplicas?.length) return 'NO_REASSIGNMENT_IN_PROGRESS'
  const original = originalReplicas(p)
  return finishWith(p, original, live)
}

/** A reassignment whose added replicas are all in the ISR completes: the removed ones leave. */
export function completeReassignment(p: PartitionAssignment, live: LiveBrokers): PartitionStateChange | null {
  if (!p.addingReplicas?.length && !p.removingReplicas?.length) return null
  if (!(p.addingReplicas ?? []).every((id) => p.isr.includes(id))) return null
  const target = p.replicas.filter((id) => !(p.removingReplicas ?? []).includes(id))
  const inSyncTarget = target.filter((id) => p.isr.includes(id) && live.has(id))
  if (inSyncTarget.length === 0) return null
  return finishWith(p, target, live)
}

/**
 * The end of a reassignment (completed or cancelled). As Kafka's PartitionChangeBuilder
 * (triggerLeaderEpochBumpForReplicaReassignmentIfNeeded), a replica set that loses a replica bumps
 * the leader epoch even when the leader stays, so the removed replicas' fetches are fenced.
 */
function finishWith(p: PartitionAssignment, replicas: number[], live: LiveBrokers): PartitionStateChange {
  const isr = p.isr.filter((id) => replicas.includes(id))
  const shrinks = p.replicas.some((id) => !replicas.includes(id))
  if (replicas.includes(p.leader) && isr.length > 0) return {leader: p.leader, leaderEpoch: shrinks ? p.leaderEpoch + 1 : p.leaderEpoch, isr, leaderBrokerEpoch: p.leaderBrokerEpoch, replicas, addingReplicas: [], removingReplicas: []}
  // The leader is leaving: the first in-sync replica that stays takes over.
  const leader = replicas.find((id) => isr.includes(id) && live.has(id))
  if (leader === undefined) return {leader: -1, leaderEpoch: p.leaderEpoch + 1, isr: isr.length > 0 ? isr : p.isr.filter((id) => replicas.includes(id)), replicas, addingReplicas: [], removingReplicas: []}
  return {leader, leaderEpoch: p.leaderEpoch + 1, isr, leaderBrokerEpoch: live.get(leader), replicas, addingReplicas: [], removingReplicas: []}
}

/** The replicas before the reassignment in progress (all of them when there is none). */
export function originalReplicas(p: PartitionAssignment): number[] {
  return p.replicas.filter((id) => !(p.addingReplicas ?? []).includes(id))
}

function sameOrder(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

/**
 * ElectLeaders for one partition (Kafka's ReplicationControlManager.electLeader): PREFERRED moves
 * leadership to the first replica if it is alive and in the ISR; UNCLEAN elects an ISR member if
 * one is alive, else any live replica, and only when the partition has no leader. Returns the
 * change, or the error Kafka answers (ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE,
 * ELIGIBLE_LEADERS_NOT_AVAILABLE).
 */
export function electLeader(p: PartitionAssignment, type: 'preferred' | 'unclean', live: LiveBrokers, shuttingDown: ReadonlySet<number> = new Set()): PartitionStateChange | 'ELECTION_NOT_NEEDED' | 'PREFERRED_LEADER_NOT_AVAILABLE' | 'ELIGIBLE_LEADERS_NOT_AVAILABLE' {
  const usable = (id: number) => live.has(id) && !shuttingDown.has(id)
  const leaderAlive = p.leader >= 0 && live.has(p.leader) && (p.leaderBrokerEpoch === undefined || live.get(p.leader) === p.leaderBrokerEpoch)
  if (type === 'preferred') {
    const preferred = p.replicas[0]
    if (preferred === undefined || (preferred === p.leader && leaderAlive)) return 'ELECTION_NOT_NEEDED'
    if (!usable(preferred) || !p.isr.includes(preferred)) return 'PREFERRED_LEADER_NOT_AVAILABLE'
    return {leader: preferred, leaderEpoch: p.leaderEpoch + 1, isr: p.isr, leaderBrokerEpoch: live.get(preferred)}
  }
  if (leaderAlive) return 'ELECTION_NOT_NEEDED'
  const clean = decidePartitionState(p, live, false, shuttingDown)
  if (clean && clean.leader >= 0) return clean
  const leader = p.replicas.find(usable)
  if (leader === undefined) return 'ELIGIBLE_LEADERS_NOT_AVAILABLE'
  return {leader, leaderEpoch: p.leaderEpoch + 1, isr: [leader], leaderBrokerEpoch: live.get(leader)}
}

/**
 * auto.leader.rebalance.enable: the partitions to hand back to their preferred replica — on each
 * broker whose share of partitions it prefers but does not lead is above
 * leader.imbalance.per.broker.percentage, those whose preferred replica is alive and in sync.
 */
export function imbalancedPartitions(topics: readonly TopicMetadata[], live: LiveBrokers, shuttingDown: ReadonlySet<number>, percentage: number): Array<{topic: string; partition: PartitionAssignment}> {
  const preferredCount = new Map<number, number>()
  const notLed = new Map<number, Array<{topic: string; partition: PartitionAssignment}>>()
  for (const topic of topics) {
    for (const p of topic.partitions) {
      const preferred = p.replicas[0]
      if (preferred === undefined) continue
      preferredCount.set(preferred, (preferredCount.get(preferred) ?? 0) + 1)
      if (p.leader !== preferred) notLed.set(preferred, [...(notLed.get(preferred) ?? []), {topic: topic.name, partition: p}])
    }
  }
  const out: Array<{topic: string; partition: PartitionAssignment}> = []
  for (const [broker, list] of notLed) {
    if (!live.has(broker) || shuttingDown.has(broker)) continue
    if ((list.length / preferredCount.get(broker)!) * 100 <= percentage) continue
    out.push(...list.filter(({partition}) => partition.isr.includes(broker)))
  }
  return out
}

export interface ClusterControllerOptions {
  nodeId: number
  metadata: MetadataStore
  log: Logger
  /** unclean.leader.election.enable of a topic (its config, else the broker's). */
  uncleanElection(topic: TopicMetadata): boolean
  /** How often it looks again without a change (etcd was away, a write failed); default 2 s. */
  recheckIntervalMs?: number
  /** auto.leader.rebalance.enable, leader.imbalance.per.broker.percentage, leader.imbalance.check.interval.seconds (in ms). */
  autoLeaderRebalance?: {percentage: number; intervalMs: number}
  /** LeaderElectionRateAndTimeMs / UncleanLeaderElectionsPerSec (issue 16), when metrics are on. */
  metrics?: {leaderElected(unclean: boolean): void}
}

export class ClusterController {
  private running = false
  private again = false
  private timer?: NodeJS.Timeout
  private rebalanceTimer?: NodeJS.Timeout
  private closed = false

  constructor(private readonly options: ClusterControllerOptions) {
    this.timer = setInterval(() => this.poke(), options.recheckIntervalMs ?? 2000)
    this.timer.unref()
    const rebalance = options.autoLeaderRebalance
    if (rebalance) {
      this.rebalanceTimer = setInterval(() => {
        if (this.active) void this.rebalanceLeaders(rebalance.percentage)
      }, rebalance.intervalMs)
      this.rebalanceTimer.unref()
    }
  }

  /** Hands leadership back to preferred replicas where a broker's imbalance is above the threshold. */
  private async rebalanceLeaders(percentage: number): Promise<void> {
    const {metadata, log} = this.options
    if (!metadata.alterPartition) return
    const registered = metadata.brokers()
    const live: LiveBrokers = new Map(registered.map((b) => [b.nodeId, b.epoch]))
    const shuttingDown = new Set(registered.filter((b) => b.shuttingDown).map((b) => b.nodeId))
    const writes: PartitionStateWrite[] = []
    for (const {topic, partition} of imbalancedPartitions(metadata.topics(), live, shuttingDown, percentage)) {
      const change = electLeader(partition, 'preferred', live, shuttingDown)
      if (typeof change !== 'string') writes.push({topic, partition: partition.partition, expectedPartitionEpoch: partition.partitionEpoch ?? 0, next: change})
    }
    await this.write(
      writes,
      (w) => {
        this.options.metrics?.leaderElected(false)
        log.info({topic: w.topic, partition: w.partition, leader: w.next.leader}, 'auto leader rebalance: preferred replica leads again')
      },
      'auto leader rebalance: writing the elections failed',
    )
  }

  /**
   * Writes the changes in batches of PARTITION_WRITE_BATCH (one store round trip each) while this
   * broker is the active controller; `written` is called for each stored change. A fenced change
   * makes the controller look again; a failed batch stops here (the next run tries again).
   */
  private async write(writes: readonly PartitionStateWrite[], written: (w: PartitionStateWrite) => void, failure: string): Promise<void> {
    const {metadata, log} = this.options
    for (let i = 0; i < writes.length; i += PARTITION_WRITE_BATCH) {
      if (!this.active) return
      const batch = writes.slice(i, i + PARTITION_WRITE_BATCH)
      let stored: Array<PartitionAssignment | null>
      try {
        stored = await writePartitionStates(metadata, batch)
      } catch (error) {
        log.warn({err: error, partitions: batch.length, first: `${batch[0]!.topic}-${batch[0]!.partition}`}, failure)
        return
      }
      batch.forEach((w, j) => {
        if (stored[j]) written(w)
        else this.again = true
      })
    }
  }

  /** Whether this broker is the active controller. */
  get active(): boolean {
    const {metadata, nodeId} = this.options
    return !this.closed && metadata.controllerId() === nodeId && (metadata.sessionAlive?.() ?? true)
  }

  /** Looks at every partition again (soon; runs never overlap). */
  poke(): void {
    if (!this.active) return
    if (this.running) {
      this.again = true
      return
    }
    this.running = true
    void this.run().finally(() => {
      this.running = false
      if (this.again) {
        this.again = false
        this.poke()
      }
    })
  }

  private async run(): Promise<void> {
    const {metadata, log} = this.options
    if (!metadata.alterPartition) return
    const registered = metadata.brokers()
    const live: LiveBrokers = new Map(registered.map((b) => [b.nodeId, b.epoch]))
    const shuttingDown = new Set(registered.filter((b) => b.shuttingDown).map((b) => b.nodeId))
    // Every decision from one snapshot, then written in batches: each partition's change is its
    // own compare-and-swap on its partition epoch, so one that lost to a leader's ISR change is
    // dropped (and decided again on the next run) without holding up the others.
    const writes: Array<PartitionStateWrite & {from: PartitionAssignment}> = []
    for (const topic of metadata.topics()) {
      const unclean = this.options.uncleanElection(topic)
      for (const p of topic.partitions) {
        const next = decidePartitionState(p, live, unclean, shuttingDown)
        if (next) writes.push({topic: topic.name, partition: p.partition, expectedPartitionEpoch: p.partitionEpoch ?? 0, next, from: p})
      }
    }
    await this.write(
      writes,
      (w) => {
        const {from: p, next} = w as PartitionStateWrite & {from: PartitionAssignment}
        if (next.leaderEpoch !== p.leaderEpoch) {
          if (next.leader >= 0) this.options.metrics?.leaderElected(!p.isr.includes(next.leader))
          log.info({topic: w.topic, partition: w.partition, from: p.leader, leader: next.leader, leaderEpoch: next.leaderEpoch, isr: next.isr}, next.leader === -1 ? 'partition offline: no in-sync replica is alive' : 'elected a partition leader')
        } else {
          log.info({topic: w.topic, partition: w.partition, leader: p.leader, isr: next.isr}, 'removed brokers that are gone from the ISR')
        }
      },
      'writing partition states failed; trying again',
    )
  }

  close(): void {
    this.closed = true
    clearInterval(this.timer)
    clearInterval(this.rebalanceTimer)
  }
}
