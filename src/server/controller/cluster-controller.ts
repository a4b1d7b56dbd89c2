/**
 * The active controller of a cluster: the broker holding the store's controller key runs it.
 * It alone elects partition leaders; every decision is a compare-and-swap on the partition's
 * epoch (the store's alterPartition), so it never overwrites an ISR change a leader made
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
 * - a broker in controlled shutdown (its registration says so) hands the leadership of each
 *   partition to another in-sync replica and leaves the ISRs, except where it is the only one left:
 *   there it leads until it exits.
 */
import type {Logger} from '../logger.js'
import type {MetadataStore, PartitionAssignment, PartitionStateChange, TopicMetadata} from './metadata-store.js'

/** A registered broker's id and broker epoch. */
export type LiveBrokers = ReadonlyMap<number, number | undefined>

/** The change the controller makes to one partition's state, or null to leave it. */
export function decidePartitionState(p: PartitionAssignment, live: LiveBrokers, uncleanElection: boolean, shuttingDown: ReadonlySet<number> = new Set()): PartitionStateChange | null {
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

export interface ClusterControllerOptions {
  nodeId: number
  metadata: MetadataStore
  log: Logger
  /** unclean.leader.election.enable of a topic (its config, else the broker's). */
  uncleanElection(topic: TopicMetadata): boolean
  /** How often it looks again without a change (etcd was away, a write failed); default 2 s. */
  recheckIntervalMs?: number
}

export class ClusterController {
  private running = false
  private again = false
  private timer?: NodeJS.Timeout
  private closed = false

  constructor(private readonly options: ClusterControllerOptions) {
    this.timer = setInterval(() => this.poke(), options.recheckIntervalMs ?? 2000)
    this.timer.unref()
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
    const alter = metadata.alterPartition?.bind(metadata)
    if (!alter) return
    const registered = metadata.brokers()
    const live: LiveBrokers = new Map(registered.map((b) => [b.nodeId, b.epoch]))
    const shuttingDown = new Set(registered.filter((b) => b.shuttingDown).map((b) => b.nodeId))
    for (const topic of metadata.topics()) {
      const unclean = this.options.uncleanElection(topic)
      for (const p of topic.partitions) {
        if (!this.active) return
        const next = decidePartitionState(p, live, unclean, shuttingDown)
        if (!next) continue
        try {
          const stored = await alter(topic.name, p.partition, p.partitionEpoch ?? 0, next)
          if (!stored) {
            this.again = true
            continue
          }
          if (next.leaderEpoch !== p.leaderEpoch) {
            log.info({topic: topic.name, partition: p.partition, from: p.leader, leader: next.leader, leaderEpoch: next.leaderEpoch, isr: next.isr}, next.leader === -1 ? 'partition offline: no in-sync replica is alive' : 'elected a partition leader')
          } else {
            log.info({topic: topic.name, partition: p.partition, leader: p.leader, isr: next.isr}, 'removed brokers that are gone from the ISR')
          }
        } catch (error) {
          log.warn({err: error, topic: topic.name, partition: p.partition}, 'writing a partition state failed; trying again')
          return
        }
      }
    }
  }

  close(): void {
    this.closed = true
    clearInterval(this.timer)
  }
}
