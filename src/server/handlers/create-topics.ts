// CreateTopics: v2-7
//
// Behaviour: per topic — name validation, num.partitions / default.replication.factor for -1,
// explicit replica assignments, topic configs validated by name and value, validateOnly. v5+
// answers with the topic id, partition count, replication factor and the resulting configs.
// Errors: INVALID_TOPIC_EXCEPTION, TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS,
// INVALID_REPLICATION_FACTOR, INVALID_REPLICA_ASSIGNMENT, INVALID_CONFIG, INVALID_REQUEST (the
// same topic twice in one request).
import {ApiKey} from '../../lib/protocol/generated/api-keys.js'
import {ErrorCode} from '../../lib/protocol/generated/errors.js'
import {ZERO_UUID} from '../../lib/protocol/uuid.js'
import {TopicError} from '../controller/topic-manager.js'
import {describeConfigEntries} from './describe-configs.js'
import {defineHandler} from './handler.js'

export const createTopics = defineHandler({
  apiKey: ApiKey.CreateTopics,
  minVersion: 2,
  maxVersion: 7,
  async handle(request, ctx) {
    const {topics: manager} = ctx.broker
    const counts = new Map<string, number>()
    for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1)
    const results = []
    for (const t of request.topics) {
      const failed = (code: number, message: string) => ({name: t.name, topicId: ZERO_UUID, errorCode: code, errorMessage: message, numPartitions: -1, replicationFactor: -1, configs: null})
      if (counts.get(t.name)! > 1) {
        results.push(failed(ErrorCode.INVALID_REQUEST, `Create topics request from client \`${ctx.header.clientId}\` contains multiple entries for the following topics: ${t.name}`))
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
        const topic = request.validateOnly ? {...manager.plan(spec), topicId: ZERO_UUID} : await manager.create(spec)
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
        results.push(failed(ErrorCode[error.code], error.message))
      }
    }
    return {throttleTimeMs: 0, topics: results}
  },
})
