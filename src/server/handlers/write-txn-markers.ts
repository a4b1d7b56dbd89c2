// WriteTxnMarkers: v1 (v0 was removed in Kafka 4.0)
//
// Behaviour: the inter-broker API by which a transaction coordinator has the leader of each
// partition of a transaction append its COMMIT or ABORT control batch (the coordinator epoch in
// the marker's value) for the producer id and epoch, as leader with acks=all (Kafka: acks=-1).
// Answers per partition; the coordinator retries the retriable errors.
// Errors: UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER (another broker leads it),
// NOT_ENOUGH_REPLICAS, NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT,
// COORDINATOR_NOT_AVAILABLE (no coordinator), KAFKA_STORAGE_ERROR and the log's append errors.
// Not implemented: coordinator epoch checks (TRANSACTION_COORDINATOR_FENCED).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {LogError} from '../log/errors.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorizeCluster} from './authorize.js'

export const writeTxnMarkers = defineHandler({
  apiKey: ApiKey.WriteTxnMarkers,
  minVersion: 1,
  maxVersion: 1,
  async handle(request, ctx) {
    const coordinator = ctx.broker.transactions
    // Authorization (issue 15): an inter-broker request, CLUSTER_ACTION on the cluster.
    // As KafkaApis: ALTER on the cluster, else CLUSTER_ACTION.
    if (!authorizeCluster(ctx, AclOperation.ALTER) && !authorizeCluster(ctx, AclOperation.CLUSTER_ACTION)) {
      return {markers: request.markers.map((m) => ({producerId: m.producerId, topics: m.topics.map((t) => ({name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({partitionIndex, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED}))}))}))}
    }
    const markers = []
    for (const marker of request.markers) {
      const topics = []
      for (const t of marker.topics) {
        const partitions = []
        for (const partitionIndex of t.partitionIndexes) {
          let errorCode: number = ErrorCode.NONE
          if (!coordinator) errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE
          else {
            try {
              const written = await coordinator.writeMarker(t.name, partitionIndex, Number(marker.producerId), marker.producerEpoch, marker.transactionResult, marker.coordinatorEpoch)
              if (!written) errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            } catch (error) {
              if (!(error instanceof LogError)) throw error
              errorCode = ErrorCode[error.code]
            }
          }
          partitions.push({partitionIndex, errorCode})
        }
        topics.push({name: t.name, partitions})
      }
      markers.push({producerId: marker.producerId, topics})
    }
    return {markers}
  },
})
