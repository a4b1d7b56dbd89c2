// ElectLeaders: v0-2
//
// Behaviour (Kafka 4.0's controller, ReplicationControlManager.electLeaders): PREFERRED (type 0;
// v0 has no type and means it) hands each partition's leadership to its first replica if that
// broker is alive and in the ISR; UNCLEAN (1) elects a leader for a partition that has none — an
// in-sync replica if one is alive, else any live replica (what it lacks is lost). Each election is
// a compare-and-swap of the partition's state in the metadata store (up to 100 partitions per
// store round trip), answered once the store has it. With topicPartitions null every partition is considered and those that need no election
// are left out of the answer (each topic is listed, possibly with no partitions, as Kafka's
// controller answers); named partitions get ELECTION_NOT_NEEDED (84, "Leader election not needed
// for topic partition."), PREFERRED_LEADER_NOT_AVAILABLE, ELIGIBLE_LEADERS_NOT_AVAILABLE or
// UNKNOWN_TOPIC_OR_PARTITION. A single broker (the embedded store) always leads: nothing to elect.
// Not implemented: authorization (ALTER on the cluster), waiting for timeoutMs (the store's
// write is the election).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {electLeader, type LiveBrokers} from '../controller/cluster-controller.js'
import {changePartitionStates} from '../controller/metadata-store.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorizeCluster} from './authorize.js'

const NOT_NEEDED = 'Leader election not needed for topic partition.'

export const electLeaders = defineHandler({
  apiKey: ApiKey.ElectLeaders,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    const {metadata} = ctx.broker
    // Authorization (issue 15): ALTER on the cluster, else CLUSTER_AUTHORIZATION_FAILED at the top and
    // on every partition asked for (ElectLeadersRequest.getErrorResponse).
    if (!authorizeCluster(ctx, AclOperation.ALTER)) {
      const replicaElectionResults = (request.topicPartitions ?? []).map((t) => ({topic: t.topic, partitionResult: t.partitions.map((partitionId) => ({partitionId, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null}))}))
      return {throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, replicaElectionResults}
    }
    const type = ctx.apiVersion === 0 || request.electionType === 0 ? 'preferred' : 'unclean'
    const registered = metadata.brokers()
    const live: LiveBrokers = new Map(registered.map((b) => [b.nodeId, b.epoch]))
    const shuttingDown = new Set(registered.filter((b) => b.shuttingDown).map((b) => b.nodeId))
    const all = request.topicPartitions === null
    const wanted = all ? metadata.topics().map((t) => ({topic: t.name, partitions: t.partitions.map((p) => p.partition)})) : request.topicPartitions!
    type Outcome = {errorCode: number; errorMessage: string | null} | null
    const targets = wanted.flatMap((t) => t.partitions.map((partition) => ({topic: t.topic, partition})))
    // Every election in store batches; one that lost a compare-and-swap (an ISR change) decides again.
    const outcomes = await changePartitionStates<Outcome>(metadata, targets, (p, {topic, partition}) => {
      if (!p) return {outcome: {errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'The topic partition does not exist.'}}
      const change = metadata.alterPartition ? electLeader(p, type, live, shuttingDown) : 'ELECTION_NOT_NEEDED'
      if (change === 'ELECTION_NOT_NEEDED') return {outcome: all ? null : {errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: NOT_NEEDED}}
      if (typeof change === 'string') return {outcome: {errorCode: ErrorCode[change], errorMessage: `Failed to elect leader for partition ${topic}-${partition} with election type ${type.toUpperCase()}`}}
      return change
    })
    const results = []
    let i = 0
    for (const t of wanted) {
      const partitionResult: Array<{partitionId: number; errorCode: number; errorMessage: string | null}> = []
      for (const index of t.partitions) {
        const o = outcomes[i++]!
        const outcome: Outcome =
          o === 'written' ? {errorCode: ErrorCode.NONE, errorMessage: null} : o === 'fenced' ? {errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage: 'The partition state kept changing during the election.'} : o.outcome
        if (outcome) partitionResult.push({partitionId: index, ...outcome})
      }
      results.push({topic: t.topic, partitionResult})
    }
    return {throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults: results}
  },
})
