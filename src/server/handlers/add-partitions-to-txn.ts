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
// COORDINATOR_NOT_AVAILABLE (no coordinator).
// Not implemented: transactions v2 (KIP-890 part 2, the v5 epoch semantics).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import type {AddPartitionsToTxnTopic} from '../../lib/protocol/generated/add-partitions-to-txn-request.js'
import {defineHandler, type RequestContext} from './handler.js'
import {transactionErrorCode} from './transactions-support.js'

interface TopicResult {
  name: string
  resultsByPartition: Array<{partitionIndex: number; partitionErrorCode: number}>
}

async function addOne(
  ctx: RequestContext,
  txn: {transactionalId: string; producerId: bigint; producerEpoch: number; verifyOnly: boolean; topics: AddPartitionsToTxnTopic[]},
): Promise<TopicResult[]> {
  const coordinator = ctx.broker.transactions
  const partitions = txn.topics.flatMap((t) => t.partitions.map((partition) => ({topic: t.name, partition})))
  const codes = new Map<string, number>()
  const key = (topic: string, partition: number) => `${topic}\u0000${partition}`
  const setAll = (code: number) => {
    for (const p of partitions) if (!codes.has(key(p.topic, p.partition))) codes.set(key(p.topic, p.partition), code)
  }
  if (!coordinator) {
    setAll(ErrorCode.COORDINATOR_NOT_AVAILABLE)
  } else {
    // Partitions led by any broker of the cluster: the markers go to their leaders.
    const unknown = partitions.filter((p) => !ctx.broker.metadata.topic(p.topic)?.partitions.some((a) => a.partition === p.partition))
    if (unknown.length > 0) {
      for (const p of unknown) codes.set(key(p.topic, p.partition), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
      setAll(ErrorCode.OPERATION_NOT_ATTEMPTED)
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
      })
      return {throttleTimeMs: 0, resultsByTopicV3AndBelow: results}
    }
    const resultsByTransaction = []
    for (const txn of request.transactions) {
      resultsByTransaction.push({transactionalId: txn.transactionalId, topicResults: await addOne(ctx, txn)})
    }
    return {throttleTimeMs: 0, errorCode: ErrorCode.NONE, resultsByTransaction}
  },
})
