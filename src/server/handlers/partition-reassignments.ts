// AlterPartitionReassignments v0 and ListPartitionReassignments v0 (KIP-455).
//
// Alter: per partition, a target replica list starts (or replaces) a reassignment — the replica
// set becomes the target followed by the replicas leaving, the new ones are added as followers and
// copy the log, and once all of them are in the ISR the controller completes it (the leaving
// replicas go, a leaving leader hands over; cluster-controller.ts). A null target cancels: back to
// the original replicas, partial copies deleted. Checks and errors as Kafka 4.0's controller:
// UNKNOWN_TOPIC_OR_PARTITION, INVALID_REPLICA_ASSIGNMENT (an empty list, a broker twice, a broker
// that is not registered), NO_REASSIGNMENT_IN_PROGRESS (cancel with none). Each change is a
// compare-and-swap of the partition's state (up to 100 partitions per store round trip).
// List: the partitions with a reassignment in progress (all, or those asked for), with their
// replicas, addingReplicas and removingReplicas.
// A single broker (the embedded store) has nowhere to move a replica: a target other than the
// current replica set is INVALID_REPLICA_ASSIGNMENT.
// Not implemented: authorization (ALTER on the cluster).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {cancelReassignment, startReassignment} from '../controller/cluster-controller.js'
import {changePartitionStates, type PartitionStateChange} from '../controller/metadata-store.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorizeCluster} from './authorize.js'

type Outcome = {errorCode: number; errorMessage: string | null}

function checkTarget(target: readonly number[], registered: ReadonlySet<number>): Outcome | null {
  if (target.length === 0) return {errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: 'The manual partition assignment includes an empty replica list.'}
  const seen = new Set<number>()
  for (const id of target) {
    if (seen.has(id)) return {errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: `The manual partition assignment includes the broker ${id} more than once.`}
    seen.add(id)
    if (!registered.has(id)) return {errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: `The manual partition assignment includes broker ${id}, but no such broker is registered.`}
  }
  return null
}

export const alterPartitionReassignments = defineHandler({
  apiKey: ApiKey.AlterPartitionReassignments,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, ctx) {
    const {metadata} = ctx.broker
    // Authorization (issue 15): ALTER on the cluster, else CLUSTER_AUTHORIZATION_FAILED at the top and
    // on every partition (AlterPartitionReassignmentsRequest.getErrorResponse).
    if (!authorizeCluster(ctx, AclOperation.ALTER)) {
      const responses = request.topics.map((t) => ({name: t.name, partitions: t.partitions.map((p) => ({partitionIndex: p.partitionIndex, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null}))}))
      return {throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, responses}
    }
    const registered = metadata.brokers()
    const live = new Map(registered.map((b) => [b.nodeId, b.epoch]))
    const ids = new Set(registered.map((b) => b.nodeId))
    // The checks first, then every change in store batches (one that lost a compare-and-swap
    // decides again on the new state).
    const targets: Array<{topic: string; partition: number; replicas: number[] | null}> = []
    for (const t of request.topics) for (const r of t.partitions) targets.push({topic: t.name, partition: r.partitionIndex, replicas: r.replicas})
    const checked = targets.map((r) => (r.replicas === null ? null : checkTarget(r.replicas, ids)))
    const toWrite = targets.filter((_, i) => checked[i] === null)
    const outcomes = await changePartitionStates<Outcome>(metadata, toWrite, (p, target) => {
      if (!p) return {outcome: {errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'The topic partition does not exist.'}}
      const {replicas} = target as (typeof targets)[number]
      const change: PartitionStateChange | null | 'NO_REASSIGNMENT_IN_PROGRESS' = replicas === null ? cancelReassignment(p, live) : startReassignment(p, replicas)
      if (change === 'NO_REASSIGNMENT_IN_PROGRESS') return {outcome: {errorCode: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, errorMessage: `No reassignment is in progress for topic ${target.topic} partition ${target.partition}`}}
      if (change === null) return {outcome: {errorCode: ErrorCode.NONE, errorMessage: null}}
      if (!metadata.alterPartition) return {outcome: {errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: 'A single broker cannot move replicas: run a cluster on etcd (metadata.store).'}}
      return change
    })
    const responses = []
    let i = 0
    let written = 0
    for (const t of request.topics) {
      const partitions: Array<{partitionIndex: number} & Outcome> = []
      for (const r of t.partitions) {
        const invalid = checked[i++]
        const o = invalid ? {outcome: invalid} : outcomes[written++]!
        const outcome = o === 'written' ? {errorCode: ErrorCode.NONE, errorMessage: null} : o === 'fenced' ? {errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage: 'The partition state kept changing; try again.'} : o.outcome
        partitions.push({partitionIndex: r.partitionIndex, ...outcome})
      }
      responses.push({name: t.name, partitions})
    }
    return {throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, responses}
  },
})

export const listPartitionReassignments = defineHandler({
  apiKey: ApiKey.ListPartitionReassignments,
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    const {metadata} = ctx.broker
    // Authorization (issue 15): DESCRIBE on the cluster, else CLUSTER_AUTHORIZATION_FAILED with the
    // partitions asked for listed empty (ListPartitionReassignmentsRequest.getErrorResponse).
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE)) {
      const topics = (request.topics ?? []).map((t) => ({name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({partitionIndex, replicas: [], addingReplicas: [], removingReplicas: []}))}))
      return {throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, topics}
    }
    const wanted = request.topics === null ? null : new Map(request.topics.map((t) => [t.name, new Set(t.partitionIndexes)]))
    const topics = []
    for (const topic of metadata.topics()) {
      const asked = wanted?.get(topic.name)
      if (wanted && !asked) continue
      const partitions = topic.partitions
        .filter((p) => (p.addingReplicas?.length || p.removingReplicas?.length) && (!asked || asked.has(p.partition)))
        .map((p) => ({partitionIndex: p.partition, replicas: p.replicas, addingReplicas: p.addingReplicas ?? [], removingReplicas: p.removingReplicas ?? []}))
      if (partitions.length > 0) topics.push({name: topic.name, partitions})
    }
    return {throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, topics}
  },
})
