// ElectLeaders: v0-2
//
// Behaviour (Kafka 4.0's controller, ReplicationControlManager.electLeaders): PREFERRED (type 0;
// v0 has no type and means it) hands each partition's leadership to its first replica if that
// broker is alive and in the ISR; UNCLEAN (1) elects a leader for a partition that has none — an
// in-sync replica if one is alive, else any live replica (what it lacks is lost). Each election is
// a compare-and-swap of the partition's state in the metadata store, answered once the store has
// it. With topicPartitions null every partition is considered and those that need no election
// are left out of the answer (each topic is listed, possibly with no partitions, as Kafka's
// controller answers); named partitions get ELECTION_NOT_NEEDED (84, "Leader election not needed
// for topic partition."), PREFERRED_LEADER_NOT_AVAILABLE, ELIGIBLE_LEADERS_NOT_AVAILABLE or
// UNKNOWN_TOPIC_OR_PARTITION. A single broker (the embedded store) always leads: nothing to elect.
// Not implemented: authorization (ALTER on the cluster), waiting for timeoutMs (the store's
// write is the election).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {electLeader, type LiveBrokers} from '../controller/cluster-controller.js'
import {defineHandler} from './handler.js'

const NOT_NEEDED = 'Leader election not needed for topic partition.'

export const electLeaders = defineHandler({
  apiKey: ApiKey.ElectLeaders,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    const {metadata} = ctx.broker
    const type = ctx.apiVersion === 0 || request.electionType === 0 ? 'preferred' : 'unclean'
    const registered = metadata.brokers()
    const live: LiveBrokers = new Map(registered.map((b) => [b.nodeId, b.epoch]))
    const shuttingDown = new Set(registered.filter((b) => b.shuttingDown).map((b) => b.nodeId))
    const all = request.topicPartitions === null
    const wanted = all ? metadata.topics().map((t) => ({topic: t.name, partitions: t.partitions.map((p) => p.partition)})) : request.topicPartitions!
    const results = []
    for (const t of wanted) {
      const topic = metadata.topic(t.topic)
      const partitionResult: Array<{partitionId: number; errorCode: number; errorMessage: string | null}> = []
      for (const index of t.partitions) {
        // A compare-and-swap that lost to another change (an ISR change) decides again.
        for (let attempt = 0; ; attempt++) {
          const p = metadata.topic(t.topic)?.partitions.find((x) => x.partition === index)
          if (!topic || !p) {
            partitionResult.push({partitionId: index, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'The topic partition does not exist.'})
            break
          }
          const change = metadata.alterPartition ? electLeader(p, type, live, shuttingDown) : 'ELECTION_NOT_NEEDED'
          if (change === 'ELECTION_NOT_NEEDED') {
            if (!all) partitionResult.push({partitionId: index, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: NOT_NEEDED})
            break
          }
          if (typeof change === 'string') {
            partitionResult.push({partitionId: index, errorCode: ErrorCode[change], errorMessage: `Failed to elect leader for partition ${t.topic}-${index} with election type ${type.toUpperCase()}`})
            break
          }
          if (await metadata.alterPartition!(t.topic, index, p.partitionEpoch ?? 0, change)) {
            partitionResult.push({partitionId: index, errorCode: ErrorCode.NONE, errorMessage: null})
            break
          }
          if (attempt >= 10) {
            partitionResult.push({partitionId: index, errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage: 'The partition state kept changing during the election.'})
            break
          }
        }
      }
      results.push({topic: t.topic, partitionResult})
    }
    return {throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults: results}
  },
})
