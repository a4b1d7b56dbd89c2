// CreateTopics: v2-7
//
// Behaviour: per topic — name validation, topic configs validated by name and value, num.partitions
// / default.replication.factor for -1, explicit replica assignments, validateOnly; checks, order and
// messages are Kafka 4.0's controller's (ReplicationControlManager.createTopics, see TopicManager).
// v5+ answers with the partition count, replication factor and the resulting configs; v7 with the
// topic id. A topic named twice gets one INVALID_REQUEST "Duplicate topic name." (after the other
// results, as ControllerApis adds it); __cluster_metadata gets INVALID_REQUEST "Creation of internal
// topic __cluster_metadata is prohibited." (Kafka 4.0, KAFKA-16975). A timeoutMs <= 0 is a deadline already passed: every topic gets REQUEST_TIMED_OUT and
// nothing is created, as in Kafka 4.0.
// Errors: INVALID_TOPIC_EXCEPTION, TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS,
// INVALID_REPLICATION_FACTOR, INVALID_REPLICA_ASSIGNMENT, INVALID_CONFIG, INVALID_REQUEST,
// POLICY_VIOLATION (more than 10,000 partitions in one topic), REQUEST_TIMED_OUT.
// Version notes: a validateOnly result carries the zero topic id (Kafka makes up a random one).
// Controller mutation quota (KIP-599, issue 15): each topic created costs its partition count;
// from v6 the quota is strict (a topic asked for once the bucket is spent gets
// THROTTLING_QUOTA_EXCEEDED), below it permissive; throttleTimeMs is the time until the bucket is back.
// Authorization (issue 15), as ControllerApis.createTopics: CREATE on the cluster or on the topic
// (else TOPIC_AUTHORIZATION_FAILED "Authorization failed."); a topic created without DESCRIBE_CONFIGS
// on it is answered without its configs, partition count and replication factor, with
// TopicConfigErrorCode TOPIC_AUTHORIZATION_FAILED (v5+).
// Not implemented: create-topic policies.
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {ZERO_UUID} from '../../lib/protocol/uuid.js'
import {CLUSTER_METADATA_TOPIC, TopicError} from '../controller/topic-manager.js'
import {describeConfigEntries} from './describe-configs.js'
import {defineHandler} from './handler.js'
import {AclOperation, authorize, authorizeCluster, ResourceType} from './authorize.js'
import {mutationQuotaOf, THROTTLING_QUOTA_EXCEEDED_MESSAGE} from '../quotas/client-quota-manager.js'

export const createTopics = defineHandler({
  apiKey: ApiKey.CreateTopics,
  minVersion: 2,
  maxVersion: 7,
  async handle(request, ctx) {
    const {topics: manager} = ctx.broker
    const failed = (name: string, code: number, message: string | null) => ({name, topicId: ZERO_UUID, errorCode: code, errorMessage: message, numPartitions: -1, replicationFactor: -1, configs: []})
    if (request.timeoutMs <= 0) {
      return {throttleTimeMs: 0, topics: request.topics.map((t) => failed(t.name, ErrorCode.REQUEST_TIMED_OUT, null))}
    }
    const counts = new Map<string, number>()
    for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1)
    const results = []
    // Authorization (issue 15): CREATE on the cluster, or on each topic; then the mutation quota.
    const clusterCreate = authorizeCluster(ctx, AclOperation.CREATE)
    const quota = mutationQuotaOf(ctx, 6)
    for (const t of request.topics) {
      if (counts.get(t.name)! > 1 || t.name === CLUSTER_METADATA_TOPIC) continue
      if (!clusterCreate && !authorize(ctx, AclOperation.CREATE, ResourceType.TOPIC, t.name)) {
        results.push(failed(t.name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.'))
        continue
      }
      if (quota.isExceeded()) {
        results.push(failed(t.name, ErrorCode.THROTTLING_QUOTA_EXCEEDED, THROTTLING_QUOTA_EXCEEDED_MESSAGE))
        continue
      }
      const spec = {
        name: t.name,
        numPartitions: t.numPartitions,
        replicationFactor: t.replicationFactor,
        assignments: t.assignments.map((a) => ({partitionIndex: a.partitionIndex, brokerIds: a.brokerIds})),
        configs: Object.fromEntries(t.configs.map((c) => [c.name, c.value])),
      }
      try {
        const planned = manager.plan(spec)
        if (!request.validateOnly && !quota.record(planned.partitions.length)) {
          results.push(failed(t.name, ErrorCode.THROTTLING_QUOTA_EXCEEDED, THROTTLING_QUOTA_EXCEEDED_MESSAGE))
          continue
        }
        const topic = request.validateOnly ? {...planned, topicId: ZERO_UUID} : await manager.create(spec)
        if (!authorize(ctx, AclOperation.DESCRIBE_CONFIGS, ResourceType.TOPIC, t.name)) {
          results.push({name: t.name, topicId: topic.topicId, errorCode: ErrorCode.NONE, errorMessage: null, topicConfigErrorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, numPartitions: -1, replicationFactor: -1, configs: []})
          continue
        }
        results.push({
          name: t.name,
          topicId: topic.topicId,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          numPartitions: topic.partitions.length,
          replicationFactor: topic.partitions[0]?.replicas.length ?? -1,
          configs: describeConfigEntries(ctx.broker, topic, null, false).map((c) => ({
            name: c.name,
            value: c.value,
            readOnly: c.readOnly,
            configSource: c.configSource,
            isSensitive: c.isSensitive,
          })),
        })
      } catch (error) {
        if (!(error instanceof TopicError)) throw error
        results.push(failed(t.name, ErrorCode[error.code], error.kafkaMessage))
      }
    }
    for (const [name, count] of counts) if (count > 1) results.push(failed(name, ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'))
    if (counts.get(CLUSTER_METADATA_TOPIC) === 1) results.push(failed(CLUSTER_METADATA_TOPIC, ErrorCode.INVALID_REQUEST, `Creation of internal topic ${CLUSTER_METADATA_TOPIC} is prohibited.`))
    return {throttleTimeMs: quota.throttleTime(), topics: results}
  },
})
