// CreatePartitions: v0-3
//
// Behaviour: grows each topic to `count` partitions; the new partitions keep the topic's
// replication factor and are placed as Kafka's StripedReplicaPlacer places them (replica-placer.ts:
// leaders and followers spread over the brokers, rack-aware), or on the brokers of
// `assignments` (one broker list per new partition). validateOnly checks everything and changes
// nothing. Checks, order and messages are Kafka 4.0's controller's
// (ReplicationControlManager.createPartitions):
// UNKNOWN_TOPIC_OR_PARTITION (no message), INVALID_PARTITIONS ("Topic already has N partition(s).",
// "The topic T currently has N partition(s); M would not be an increase."),
// INVALID_REPLICA_ASSIGNMENT ("Attempted to add N additional partition(s), but only M
// assignment(s) were specified.", empty list, unknown or repeated broker, replication factor other
// than the topic's), INVALID_REPLICATION_FACTOR (the placer's message as it is: "The target
// replication factor of N cannot be reached because only M broker(s) are registered."),
// INVALID_REQUEST "Duplicate topic name." (once per repeated name, first), POLICY_VIOLATION for more than 10,000 new partitions in one go (Kafka's limit of records per
// operation). A timeoutMs <= 0 is a deadline already passed: every topic gets REQUEST_TIMED_OUT and
// nothing changes, as in Kafka 4.0.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {TopicError} from '../controller/topic-manager.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, ResourceType} from './authorize.js'
import {mutationQuotaOf, THROTTLING_QUOTA_EXCEEDED_MESSAGE} from '../quotas/client-quota-manager.js'

export const createPartitions = defineHandler({
  apiKey: ApiKey.CreatePartitions,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, ctx) {
    const {topics} = ctx.broker
    if (request.timeoutMs <= 0) {
      return {throttleTimeMs: 0, results: request.topics.map((t) => ({name: t.name, errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage: null}))}
    }
    const counts = new Map<string, number>()
    for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1)
    const results: Array<{name: string; errorCode: number; errorMessage: string | null}> = [...counts]
      .filter(([, n]) => n > 1)
      .map(([name]) => ({name, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.'}))
    // Authorization (issue 15), as ControllerApis.createPartitions: after the duplicates, ALTER on
    // each topic (TOPIC_AUTHORIZATION_FAILED without a message).
    const refusedNames = new Set([...counts].filter(([name, n]) => n === 1 && !authorize(ctx, AclOperation.ALTER, ResourceType.TOPIC, name)).map(([name]) => name))
    for (const name of refusedNames) results.push({name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null})
    if (refusedNames.size > 0) request = {...request, topics: request.topics.filter((t) => !refusedNames.has(t.name))}
    const quota = mutationQuotaOf(ctx, 3) // issue 15: partitions added count against controller_mutation_rate
    for (const t of request.topics) {
      if (counts.get(t.name)! > 1) continue
      const existing = ctx.broker.metadata.topic(t.name)?.partitions.length
      if (!request.validateOnly && existing !== undefined && t.count > existing && (quota.isExceeded() || !quota.record(t.count - existing))) {
        results.push({name: t.name, errorCode: ErrorCode.THROTTLING_QUOTA_EXCEEDED, errorMessage: THROTTLING_QUOTA_EXCEEDED_MESSAGE})
        continue
      }
      try {
        await topics.addPartitions(t.name, t.count, t.assignments?.map((a) => a.brokerIds) ?? null, request.validateOnly)
        results.push({name: t.name, errorCode: ErrorCode.NONE, errorMessage: null})
      } catch (error) {
        if (!(error instanceof TopicError)) throw error
        results.push({name: t.name, errorCode: ErrorCode[error.code], errorMessage: error.kafkaMessage})
      }
    }
    return {throttleTimeMs: quota.throttleTime(), results}
  },
})
