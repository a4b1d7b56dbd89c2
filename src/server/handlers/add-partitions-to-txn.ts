// AddPartitionsToTxn: v0-5
//
// Behaviour: adds partitions to the producer's transaction (the transaction becomes Ongoing and
// is persisted in __transaction_state before the answer). v0-3 carry one transaction (clients);
// v4+ a batch of transactions, each possibly verifyOnly (KIP-890: only check that the partitions
// are already in the transaction, answering INVALID_TXN_STATE for those that are not).
// Partitions may be led by any broker (the coordinator writes markers to their leaders).
// Errors per partition: UNKNOWN_TOPIC_OR_PARTITION (the other partitions then get
// OPERATION_NOT_ATTEMPTED), and the transaction's error on every partition:
// INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before v2, as Kafka),
// CONCURRENT_TRANSACTIONS, INVALID_TXN_STATE, NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS,
// COORDINATOR_NOT_AVAILABLE (no coordinator). Authorization (issue 15): v0-3 TOPIC_AUTHORIZATION_FAILED
// (WRITE on the topic; internal topics always) with the others OPERATION_NOT_ATTEMPTED, or
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED on every partition; v4+ CLUSTER_AUTHORIZATION_FAILED for the
// request without CLUSTER_ACTION.
// Not implemented: transactions v2 (KIP-890 part 2, the v5 epoch semantics).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import type {AddPartitionsToTxnTopic} from '../../lib/protocol/generated/add-partitions-to-txn-request.js'
import {defineHandler, type RequestContext} from './handler.js'
import {transactionErrorCode} from './transactions-support.js'
import {AclOperation, authorize, authorizeCluster, ResourceType} from './authorize.js'
import {INTERNAL_TOPICS} from '../controller/topic-manager.js'

interface TopicResult {
  name: string
  resultsByPartition: Array<{partitionIndex: number; partitionErrorCode: number}>
}

async function addOne(
  ctx: RequestContext,
  txn: {transactionalId: string; producerId: bigint; producerEpoch: number; verifyOnly: boolean; topics: AddPartitionsToTxnTopic[]},
  fromClient: boolean,
): Promise<TopicResult[]> {
  const coordinator = ctx.broker.transactions
  const partitions = txn.topics.flatMap((t) => t.partitions.map((partition) => ({topic: t.name, partition})))
  const codes = new Map<string, number>()
  const key = (topic: string, partition: number) => `${topic}\u0000${partition}`
  const setAll = (code: number) => {
    for (const p of partitions) if (!codes.has(key(p.topic, p.partition))) codes.set(key(p.topic, p.partition), code)
  }
  // Authorization (issue 15), as KafkaApis for v0-3 (clients): WRITE on the transactional id (else
  // every partition TRANSACTIONAL_ID_AUTHORIZATION_FAILED), then WRITE on each topic — an internal
  // topic is never authorized. Refused (TOPIC_AUTHORIZATION_FAILED) and unknown partitions
  // (UNKNOWN_TOPIC_OR_PARTITION) fail the transaction, the others OPERATION_NOT_ATTEMPTED.
  // v4+ comes from brokers, authorized once for the request (CLUSTER_ACTION).
  const mayWrite = (topic: string) => !fromClient || (!INTERNAL_TOPICS.has(topic) && authorize(ctx, AclOperation.WRITE, ResourceType.TOPIC, topic))
  const exists = (p: {topic: string; partition: number}) => ctx.broker.metadata.topic(p.topic)?.partitions.some((a) => a.partition === p.partition) ?? false
  if (fromClient && !authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, txn.transactionalId)) {
    setAll(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
  } else if (partitions.some((p) => !mayWrite(p.topic) || !exists(p))) {
    // Partitions led by any broker of the cluster: the markers go to their leaders.
    for (const p of partitions) {
      if (!mayWrite(p.topic)) codes.set(key(p.topic, p.partition), ErrorCode.TOPIC_AUTHORIZATION_FAILED)
      else if (!exists(p)) codes.set(key(p.topic, p.partition), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
    }
    setAll(ErrorCode.OPERATION_NOT_ATTEMPTED)
  } else if (!coordinator) {
    setAll(ErrorCode.COORDINATOR_NOT_AVAILABLE)
  } else if (txn.verifyOnly) {
    for (const p of partitions) {
      codes.set(key(p.topic, p.partition), ErrorCode[coordinator.verifyPartition(txn.transactionalId, Number(txn.producerId), txn.producerEpoch, p.topic, p.partition)])
    }
  } else {
    try {
      await coordinator.addPartitions(txn.transactionalId, Number(txn.producerId), txn.producerEpoch, partitions)
      setAll(ErrorCode.NONE)
    } catch (error) {
      setAll(transactionErrorCode(error, ctx.apiVersion < 2))
    }
  }
  return txn.topics.map((t) => ({
    name: t.name,
    resultsByPartition: t.partitions.map((partitionIndex) => ({partitionIndex, partitionErrorCode: codes.get(key(t.name, partitionIndex)) ?? ErrorCode.NONE})),
  }))
}

export const addPartitionsToTxn = defineHandler({
  apiKey: ApiKey.AddPartitionsToTxn,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    if (ctx.apiVersion < 4) {
      const results = await addOne(ctx, {
        transactionalId: request.v3AndBelowTransactionalId,
        producerId: request.v3AndBelowProducerId,
        producerEpoch: request.v3AndBelowProducerEpoch,
        verifyOnly: false,
        topics: request.v3AndBelowTopics,
      }, true)
      return {throttleTimeMs: 0, resultsByTopicV3AndBelow: results}
    }
    // Newer versions come only from brokers (KIP-890 verification): CLUSTER_ACTION on the cluster.
    if (!authorizeCluster(ctx, AclOperation.CLUSTER_ACTION)) return {throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, resultsByTransaction: []}
    const resultsByTransaction = []
    for (const txn of request.transactions) {
      resultsByTransaction.push({transactionalId: txn.transactionalId, topicResults: await addOne(ctx, txn, false)})
    }
    return {throttleTimeMs: 0, errorCode: ErrorCode.NONE, resultsByTransaction}
  },
})
