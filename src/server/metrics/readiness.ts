/**
 * /readyz (issue 16): whether this broker serves its share of the cluster. Ready when all of:
 * 1. started: start() has finished — logs recovered, partitions opened and reconciled with the
 *    metadata store, coordinators started, listeners bound, registration written — and it is
 *    not shutting down;
 * 2. joined: its metadata session is alive (a cluster's etcd lease: registered and not fenced;
 *    always true with the local store);
 * 3. leading: every partition the store names this broker leader of (in its current broker epoch)
 *    is led here — opened, in the leader role, so no partition it leads is offline on it;
 * 4. coordinators loaded: no __consumer_offsets or __transaction_state partition it leads is still
 *    loading (their requests would get COORDINATOR_LOAD_IN_PROGRESS);
 * 5. caught up: every partition it follows whose leader is registered has it in its ISR (a
 *    restarted broker is ready once it has replicated what it missed, so a rolling restart that
 *    waits for /readyz never takes a second replica of a partition out of the ISR).
 * Each unmet condition is one reason in the 503 answer (at most 10 partitions named per reason).
 */
import type {MetadataStore} from '../controller/metadata-store.js'
import type {ReplicaManager} from '../replica-manager.js'

export interface Readiness {
  ready: boolean
  reasons?: string[]
}

export interface ReadinessInputs {
  /** 'starting' until start() resolves, 'stopping' once stop() is called. */
  phase: 'starting' | 'serving' | 'stopping'
  nodeId: number
  metadata?: MetadataStore
  replicas?: ReplicaManager
  coordinatorsLoading?: () => string[]
}

const MAX_NAMED = 10

function named(what: string, partitions: string[]): string {
  const shown = partitions.slice(0, MAX_NAMED).join(', ')
  return `${what}: ${shown}${partitions.length > MAX_NAMED ? ` and ${partitions.length - MAX_NAMED} more` : ''}`
}

export function evaluateReadiness(inputs: ReadinessInputs): Readiness {
  const {phase, metadata, replicas, nodeId} = inputs
  if (phase === 'starting') return {ready: false, reasons: ['starting: recovering logs, loading partitions and coordinators, binding listeners']}
  if (phase === 'stopping') return {ready: false, reasons: ['shutting down']}
  if (!metadata || !replicas) return {ready: false, reasons: ['starting']}
  const reasons: string[] = []
  if (metadata.sessionAlive && !metadata.sessionAlive()) reasons.push('not joined: the metadata (etcd) session is lost; this broker is fenced until it registers again')
  const brokerEpoch = metadata.brokerEpoch?.()
  const live = new Set(metadata.brokers().map((b) => b.nodeId))
  const notLed: string[] = []
  const behind: string[] = []
  for (const topic of metadata.topics()) {
    for (const a of topic.partitions) {
      // A replica being added by a reassignment joins the ISR when it has copied the partition: not a restart's catching up.
      if (!a.replicas.includes(nodeId) || a.addingReplicas?.includes(nodeId)) continue
      const name = `${topic.name}-${a.partition}`
      const hosted = replicas.get(topic.name, a.partition)
      if (a.leader === nodeId && (a.leaderBrokerEpoch === undefined || brokerEpoch === undefined || a.leaderBrokerEpoch === brokerEpoch)) {
        if (!hosted || !replicas.leads(hosted)) notLed.push(name)
      } else if (a.leader >= 0 && a.leader !== nodeId && live.has(a.leader) && !a.isr.includes(nodeId)) {
        behind.push(name)
      }
    }
  }
  if (notLed.length > 0) reasons.push(named('partitions the metadata store names this broker leader of are not led here yet', notLed))
  const loading = inputs.coordinatorsLoading?.() ?? []
  if (loading.length > 0) reasons.push(named('coordinator partitions still loading', loading))
  if (behind.length > 0) reasons.push(named('not caught up: followed partitions whose ISR does not include this broker yet', behind))
  return reasons.length === 0 ? {ready: true} : {ready: false, reasons}
}
